"""Shared CLI plumbing: the app in the Typer context, JSON output, and error handling."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import typer
from rich.console import Console

from warding.app import Warding
from warding.classify.base import ModelMissing
from warding.errors import WardingError

F = TypeVar("F", bound=Callable[..., Any])


def get_app(ctx: typer.Context) -> Warding:
    obj = ctx.find_root().obj
    if not isinstance(obj, Warding):
        raise RuntimeError("the warding app was not created")
    return obj


def err_console() -> Console:
    return Console(stderr=True, soft_wrap=True)


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


@contextmanager
def friendly_errors() -> Iterator[None]:
    """Known errors become one line on stderr and exit code 1, never a traceback."""
    try:
        yield
    except (WardingError, ModelMissing) as exc:
        err_console().print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(1) from None
    except FileNotFoundError as exc:
        err_console().print(f"[red]error:[/red] {exc.filename}: no such file", highlight=False)
        raise typer.Exit(1) from None
