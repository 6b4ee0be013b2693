"""Shared CLI plumbing: the app in the Typer context, JSON output, and error handling."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from warding.app import Warding
from warding.classify.base import ModelMissing
from warding.errors import WardingError

F = TypeVar("F", bound=Callable[..., Any])


def get_app(ctx: typer.Context) -> Warding:
    obj = ctx.find_root().obj
    if not isinstance(obj, Warding):
        raise RuntimeError("the warding app was not created")  # noqa: TRY004 - a setup fault
    return obj


def err_console() -> Console:
    return Console(stderr=True, soft_wrap=True)


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


@contextmanager
def friendly_errors() -> Iterator[None]:
    """Known errors become one line on stderr and exit code 1, never a traceback. The
    message is escaped: a ``[`` in it (a path like ``[/tmp]x``) is printed as it is, not
    read as rich markup."""
    try:
        yield
    except (WardingError, ModelMissing) as exc:
        error(str(exc))
        raise typer.Exit(1) from None
    except FileNotFoundError as exc:
        error(f"{exc.filename}: no such file")
        raise typer.Exit(1) from None


def error(message: str) -> None:
    """Print ``error: <message>`` on stderr, the message as plain text."""
    err_console().print(f"[red]error:[/red] {escape(message)}", highlight=False)
