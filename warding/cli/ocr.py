"""``warding ocr status``: is text in images read here, and if not, what is missing."""

from __future__ import annotations

from typing import Annotated

import typer

from warding.cli.common import emit_json, err_console, get_app

app = typer.Typer(help="Text in images (OCR, docs/ocr.md).", no_args_is_help=True)


@app.command("status")
def status(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Say whether text in images is read (engine, language data) or why not; exit code 1
    when it is not."""
    w = get_app(ctx)
    reader = w.ocr
    if reader is None:
        available, detail = False, "off (WARDING_OCR=false)"
    else:
        available, detail = reader.status()
    if as_json:
        emit_json({"available": available, "detail": detail})
    elif available:
        typer.echo(f"text in images is read: {detail}")
    else:
        err_console().print(f"[yellow]text in images is not read:[/yellow] {detail}",
                            markup=True, highlight=False)
    if not available:
        raise typer.Exit(1)
