"""``warding backup FILE``: a consistent copy of the database while the server runs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from warding.cli.common import emit_json, error, friendly_errors, get_app


def backup(
    ctx: typer.Context,
    out: Annotated[Path, typer.Argument(help="File to write the copy to.")],
    force: Annotated[bool, typer.Option("--force", help="Replace FILE if it exists.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Copy the SQLite database (online, -wal content included) and verify the copy; for
    PostgreSQL, print the pg_dump command to use instead."""
    from warding.backup.copy import backup as run_backup

    w = get_app(ctx)
    with friendly_errors():
        result = run_backup(w.settings.database_url, out, force=force)
    if as_json:
        emit_json(result.as_json())
    elif result.problem:
        error(f"backup written to {out} but it does not verify: {result.problem}")
    else:
        typer.echo(f"backup written to {out}: {result.bytes:,} bytes in {result.seconds:.1f} s; "
                   f"audit log intact ({result.audit_events} events)")
    if result.problem:
        raise typer.Exit(1)
