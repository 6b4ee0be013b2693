"""``warding model …``: train the classifier."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from warding.cli.common import emit_json, friendly_errors, get_app

app = typer.Typer(help="The text classifier.", no_args_is_help=True)


@app.command("train")
def train(
    ctx: typer.Context,
    data: Annotated[Optional[Path], typer.Option("--data", help="Data sets folder (default: ../shared/data).")] = None,  # noqa: UP007
    as_json: Annotated[bool, typer.Option("--json", help="Print the training report as JSON.")] = False,
) -> None:
    """Train the baseline classifier reproducibly (split by account) and save it locally."""
    from warding.classify.service import train_model

    w = get_app(ctx)
    with friendly_errors():
        report = train_model(w, data, actor="cli")
    if as_json:
        emit_json(report)
    else:
        for key, value in report.items():
            typer.echo(f"{key}: {value}")
