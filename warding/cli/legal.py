"""``warding legal …`` (preservation purge, the legal clock) and ``warding report tco``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from warding.cli.common import emit_json, friendly_errors, get_app

app = typer.Typer(help="The law's workflows: preservation, the legal clock (docs/legal.md).",
                  no_args_is_help=True)
report_app = typer.Typer(help="Reports required by law.", no_args_is_help=True)


@app.command("purge")
def purge(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Delete the content of preservations whose time has passed (TCO Art. 6); audited.
    Records and hashes are kept; content still under an extension is kept."""
    from warding.legal.preservation import purge as run_purge

    w = get_app(ctx)
    with friendly_errors():
        result = run_purge(w, "cli")
    if as_json:
        emit_json(result)
    else:
        typer.echo(f"purged {len(result['purged'])} preservation(s) "
                   f"({result['files_deleted']} media file(s)); "
                   f"{len(result['ended_without_purge'])} ended without purge "
                   "(reinstated or preserved by a later removal)")


@app.command("tick")
def tick(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Run the legal clock once (the server does it on each worker pass): deadline alerts,
    releases of withheld statements, answers to notifiers, threat-to-life alerts."""
    from warding.legal.worker import tick as run_tick

    w = get_app(ctx)
    with friendly_errors():
        result = run_tick(w)
    if as_json:
        emit_json(result)
    else:
        typer.echo(", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in result.items()))


@report_app.command("tco")
def tco(
    ctx: typer.Context,
    year: Annotated[int, typer.Option("--year", min=2000, max=2100,
                                      help="Calendar year (UTC).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    out: Annotated[Path | None, typer.Option("--out", help="Write the page (Markdown) "
                                                           "to this file.")] = None,
) -> None:
    """The yearly TCO transparency report (Art. 7(3)(a)–(g)) with the DSA counts."""
    from warding.legal.reports import render_markdown, tco_report

    w = get_app(ctx)
    with friendly_errors(), w.transaction() as session:
        report = tco_report(session, w.settings, year)
    page = render_markdown(report)
    if out is not None:
        out.write_text(page, encoding="utf-8")
    if as_json:
        emit_json(report)
    elif out is None:
        typer.echo(page)
    else:
        typer.echo(f"wrote {out}")
