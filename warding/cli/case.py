"""``warding case …``: list and decide cases from the command line."""

from __future__ import annotations

from typing import Annotated

import typer

from warding.cli.common import emit_json, friendly_errors, get_app

app = typer.Typer(help="Cases awaiting review.", no_args_is_help=True)


@app.command("list")
def list_(
    ctx: typer.Context,
    status: Annotated[str, typer.Option("--status", help="open, decided or escalated.")] = "open",
    limit: Annotated[int, typer.Option("--limit", help="At most this many.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List cases, most urgent first."""
    from warding.cases.queries import QueueFilter, list_cases

    w = get_app(ctx)
    with friendly_errors(), w.transaction() as session:
        cases = list_cases(session, QueueFilter(status=status, limit=limit))
    if as_json:
        emit_json({"cases": cases})
    else:
        for c in cases:
            typer.echo(f"#{c['id']}\t{c['status']}\tseverity {c['severity']}\t{','.join(c['reasons'])}"
                       f"\t{c['item']['source']}:{c['item']['external_id']}")


@app.command("decide")
def decide(
    ctx: typer.Context,
    case_id: Annotated[int, typer.Argument(help="Case number.")],
    violating: Annotated[bool, typer.Option("--violating/--not-violating", help="The outcome.")],
    reason: Annotated[str, typer.Option("--reason", help="Why (recorded and audited).")],
    category: Annotated[str | None, typer.Option("--category", help="Policy category if violating.")] = None,
    exemption: Annotated[str | None, typer.Option("--exemption", help="journalism, research, education, art or counter_speech.")] = None,
    appeal: Annotated[bool, typer.Option("--appeal", help="Reverse the current decision on appeal.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Record a decision on a case (the console is the usual place for this)."""
    from warding.review.decisions import DecisionInput
    from warding.review.service import record_decision

    w = get_app(ctx)
    with friendly_errors():
        out = record_decision(
            w, case_id,
            DecisionInput(violating=violating, reason=reason, category=category,
                          exemption=exemption, kind="appeal" if appeal else "decision"),
            actor="cli", reviewer_id=None)
    if as_json:
        emit_json(out)
    else:
        typer.echo(f"case {case_id}: decision {out['decision_id']} recorded")
