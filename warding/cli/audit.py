"""``warding audit …``: check the tamper-evident audit log."""

from __future__ import annotations

from typing import Annotated

import typer

from warding.cli.common import emit_json, err_console, friendly_errors, get_app

app = typer.Typer(help="The audit log.", no_args_is_help=True)


@app.command("verify")
def verify(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Recompute the hash chain; exit 1 and name the first bad event if anything was altered."""
    from warding.audit.log import verify as verify_chain

    w = get_app(ctx)
    with friendly_errors(), w.transaction() as session:
        result = verify_chain(session)
    if as_json:
        emit_json({"ok": result.ok, "events": result.events, "first_bad_event": result.first_bad_id,
                   "problem": result.problem})
    elif result.ok:
        typer.echo(f"audit log intact: {result.events} events")
    else:
        err_console().print(f"[red]audit log altered:[/red] event {result.first_bad_id}: {result.problem}")
    if not result.ok:
        raise typer.Exit(1)
