"""``warding legal tdb-send``: send the queued statements to the DSA Transparency Database.

Exposed as :func:`register`, which adds the command to a given Typer app (the
``legal`` group), so the legal workflows' own commands and this one share a group.
"""

from __future__ import annotations

from typing import Annotated

import typer

from warding.cli.common import emit_json, err_console, friendly_errors, get_app


def tdb_send(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Send every due statement to the DSA Transparency Database (batches of up to 100); for use from cron when no server runs."""
    from warding.legal.tdb_send import send_due

    w = get_app(ctx)
    with friendly_errors():
        out = send_due(w)
    if as_json:
        emit_json(out)
        return
    if not out["configured"]:
        err_console().print("WARDING_TDB_URL is not set: nothing sent (statements wait as pending)")
        return
    typer.echo(f"{out['requests']} request(s): {out['sent']} sent, {out['already_present']} "
               f"already in the database, {out['rejected']} rejected, "
               f"{out['retry_later']} to retry later")
    if out["throttled_until"]:
        typer.echo(f"the database asked to slow down: next attempt after {out['throttled_until']}")
    for error in out["errors"]:
        typer.echo(f"error: {error}")


def register(app: typer.Typer) -> None:
    """Add ``tdb-send`` to ``app`` (the ``warding legal`` group)."""
    app.command("tdb-send")(tdb_send)
