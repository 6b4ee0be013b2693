"""``warding classify --jsonl FILE``: the CLI side of batch classification."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

import typer

from warding.app import Warding
from warding.cli.common import emit_json, err_console, friendly_errors
from warding.errors import InvalidInput


@contextmanager
def _open(path: Path) -> Iterator[TextIO]:
    if str(path) == "-":
        yield sys.stdin
        return
    if not path.is_file():
        raise InvalidInput(f"{path}: no such file")
    with path.open("r", encoding="utf-8", errors="replace") as fh:
        yield fh


def run_batch(w: Warding, path: Path, as_json: bool) -> None:
    """Write one line per input line; bad lines become error objects (exit code stays 0)."""
    from warding.classify.batch import classify_lines

    errors = 0
    with friendly_errors():
        classifier = w.classifier()
        with _open(path) as fh:
            lines = (line.rstrip("\r\n") for line in fh)
            for row in classify_lines(classifier, lines, max_chars=w.settings.max_text_chars):
                if "error" in row:
                    errors += 1
                if as_json:
                    emit_json(row)
                elif "error" in row:
                    typer.echo(f"{row['line']}\terror\t{row['error']}")
                else:
                    typer.echo(f"{row['line']}\t{row['label']}\t{row['score']:.3f}\t"
                               f"{row['violating']}")
    if errors:
        err_console().print(f"{errors} line(s) rejected; see the error objects in the output")
