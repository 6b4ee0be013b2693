"""``warding action …``: the action queue, the delivery log and the dead-letter list."""

from __future__ import annotations

from typing import Annotated

import typer

from warding.cli.common import emit_json, friendly_errors, get_app

app = typer.Typer(help="Actions after decisions: deliveries, retries, dead letters.",
                  no_args_is_help=True)


@app.command("run")
def run(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Run every due action once (retries included) and send due webhook events; for use from cron when no server runs."""
    from warding.actions.executor import run_pending
    from warding.intake.outbox import deliver_due

    w = get_app(ctx)
    with friendly_errors():
        ran = run_pending(w)
        events = deliver_due(w)
    if as_json:
        emit_json({"ran": ran, "events_delivered": events})
    else:
        for r in ran:
            typer.echo(f"action {r['action_id']}\t{r['sink']}\t{r['status']}\t{r['detail']}")
        typer.echo(f"{len(ran)} action(s) run; {events} webhook event(s) delivered")


@app.command("list")
def list_(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option("--status", help="pending, sending, failed, done, skipped or dead (the dead-letter list).")] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List actions, newest first."""
    from warding.actions.delivery import list_actions

    w = get_app(ctx)
    with friendly_errors(), w.transaction() as session:
        rows = list_actions(session, status=status, limit=limit)
    if as_json:
        emit_json({"actions": rows})
    else:
        for a in rows:
            typer.echo(f"#{a['id']}\tcase {a['case_id']}\t{a['sink']}\t{a['status']}\t"
                       f"attempts {a['attempts']}\t{a['detail']}")


@app.command("retry")
def retry(
    ctx: typer.Context,
    action_id: Annotated[int, typer.Argument(help="Action number.")],
) -> None:
    """Put a dead-lettered or failed action back in the queue and run it now."""
    from warding.actions.delivery import requeue
    from warding.actions.executor import run_pending

    w = get_app(ctx)
    with friendly_errors():
        with w.transaction() as session:
            requeue(session, action_id, actor="cli",
                    extra_attempts=w.settings.action_max_attempts)
        ran = run_pending(w, action_ids=[action_id])
    for r in ran:
        typer.echo(f"action {r['action_id']}\t{r['sink']}\t{r['status']}\t{r['detail']}")
