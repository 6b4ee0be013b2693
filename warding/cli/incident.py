"""``warding incident …`` (declare, list) and ``warding stats incident NAME``
(docs/incidents.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from warding.cli.common import emit_json, friendly_errors, get_app

app = typer.Typer(help="Incidents: a surge of copies handled as one.", no_args_is_help=True)


@app.command("create")
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Incident name.")],
    bank: Annotated[list[str], typer.Option("--bank", help="Bank holding its hashes (repeatable).")],
    started_at: Annotated[str | None, typer.Option("--started-at", help="ISO 8601 time it started (default: now).")] = None,
    description: Annotated[str, typer.Option("--description", help="What happened.")] = "",
    priority: Annotated[int, typer.Option("--priority", help="Queue severity its open cases are raised to (0-100).")] = 90,
    notify_step: Annotated[int | None, typer.Option("--notify-step", help="Send incident.count each time the copies count crosses a multiple of this.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Declare an incident."""
    from warding.cli.retro import parse_time
    from warding.incidents.service import create_incident, incident_json

    w = get_app(ctx)
    with friendly_errors():
        start = parse_time(started_at) if started_at else datetime.now(UTC)
        with w.transaction() as session:
            incident = create_incident(session, name=name, started_at=start, banks=bank,
                                       actor="cli", description=description,
                                       priority=priority, notify_step=notify_step)
            out = incident_json(incident)
    if as_json:
        emit_json(out)
    else:
        typer.echo(f"incident {name!r} declared (id {out['id']})")


@app.command("list")
def list_(ctx: typer.Context,
          as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """List incidents."""
    from warding.incidents.service import incident_json, list_incidents

    w = get_app(ctx)
    with w.transaction() as session:
        rows = [incident_json(i) for i in list_incidents(session)]
    if as_json:
        emit_json({"incidents": rows})
        return
    for r in rows:
        typer.echo(f"{r['id']:>4}  {r['name']}  started {r['started_at']}  banks "
                   f"{', '.join(r['banks'])}")


def _secs(v: Any) -> str:
    return "–" if v is None else f"{v:,.1f} s"


def stats_incident(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Incident name or id.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """An incident's copies and time to protect: hash received -> matching live and -> every
    earlier copy found, upload -> removal (median, p90, max), blocked at upload vs after."""
    from warding.incidents.protect import incident_stats
    from warding.incidents.service import get_incident

    w = get_app(ctx)
    with friendly_errors(), w.transaction() as session:
        out = incident_stats(session, get_incident(session, name))
    if as_json:
        emit_json(out)
        return
    r = out["upload_to_removal_seconds"]
    typer.echo(f"incident {out['incident']!r} (started {out['started_at']})")
    typer.echo(f"  copies {out['copies']}: blocked at upload {out['blocked_at_upload']}, found "
               f"afterwards {out['found_afterwards']}; open {out['open']}, decided "
               f"{out['decided']}, removed {out['removed']}")
    typer.echo(f"  hash received -> matching live: {_secs(out['hash_to_live_seconds'])}; "
               f"-> every earlier copy found: {_secs(out['hash_to_all_earlier_found_seconds'])}")
    typer.echo(f"  upload -> removal: median {_secs(r['median'])}, p90 {_secs(r['p90'])}, "
               f"max {_secs(r['max'])} ({r['count']} removed)")
    for bank, b in out["banks"].items():
        typer.echo(f"  bank {bank}: {b['copies']} copies, live after "
                   f"{_secs(b['hash_to_live_seconds'])}, all earlier found after "
                   f"{_secs(b['hash_to_all_earlier_found_seconds'])}")
