"""``warding model …``: train the classifier, write the model card."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from warding.cli.common import emit_json, err_console, friendly_errors, get_app

app = typer.Typer(help="The text classifier.", no_args_is_help=True)


@app.command("train")
def train(
    ctx: typer.Context,
    data: Annotated[Path | None, typer.Option("--data", help="Data sets folder (default: ../shared/data).")] = None,
    classifier: Annotated[str, typer.Option("--classifier", help="baseline (char n-grams) or hybrid (+ multilingual embeddings).")] = "baseline",
    from_decisions: Annotated[bool, typer.Option("--from-decisions", help="Add every decided case's text and label to the training data.")] = False,
    hold_out: Annotated[bool, typer.Option("--hold-out", help="Keep 30% of the accounts out of training and report figures on them (default: every account trains; figures are out-of-fold).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the training report as JSON.")] = False,
) -> None:
    """Train a classifier reproducibly (folds by account) and save it locally."""
    from warding.classify.service import train_model

    w = get_app(ctx)
    with friendly_errors():
        report = train_model(w, data, actor="cli", classifier=classifier,
                             from_decisions=from_decisions, hold_out=hold_out)
    if as_json:
        emit_json(report)
    else:
        for key, value in report.items():
            typer.echo(f"{key}: {value}")


@app.command("card")
def card(
    ctx: typer.Context,
    data: Annotated[Path | None, typer.Option("--data", help="Data sets folder (default: ../shared/data).")] = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="Markdown file to write.")] = Path("docs/model-card.md"),
    as_json: Annotated[bool, typer.Option("--json", help="Also print the figures as JSON.")] = False,
) -> None:
    """Train both classifiers in a scratch folder, measure everything, write the model card."""
    from warding.classify.card import write_card

    w = get_app(ctx)
    with friendly_errors():
        figures = write_card(data or w.settings.resolved_shared_data(), output,
                             echo=lambda msg: err_console().print(escape(msg), highlight=False))
    if as_json:
        emit_json(figures)
    else:
        typer.echo(f"model card written to {output}")
