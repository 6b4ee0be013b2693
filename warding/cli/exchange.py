"""``warding exchange …``: signal exchanges (configured with HMA's ``/c/exchanges`` API)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape

from warding.cli.common import emit_json, err_console, friendly_errors, get_app

app = typer.Typer(help="Signal exchanges: list them, fetch their signals into their banks.",
                  no_args_is_help=True)


@app.command("list")
def list_(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The configured exchanges with their fetch status."""
    from warding.exchanges.service import config_json, fetch_status, list_exchanges

    w = get_app(ctx)
    with friendly_errors(), w.transaction() as session:
        rows = [{**config_json(e), "status": fetch_status(e)} for e in list_exchanges(session)]
    if as_json:
        emit_json({"exchanges": rows})
        return
    for row in rows:
        st = row["status"]
        state = ("never fetched" if st["last_fetch_succeeded"] is None else
                 "ok" if st["last_fetch_succeeded"] else f"failed: {st['last_error']}")
        typer.echo(f"{row['name']}\t{row['api']}\t{'enabled' if row['enabled'] else 'disabled'}"
                   f"\t{st['fetched_items']} fetched\t{state}")


@app.command("fetch")
def fetch(
    ctx: typer.Context,
    names: Annotated[list[str] | None, typer.Argument(
        help="Exchanges to fetch (default: every enabled one).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    no_retro: Annotated[bool, typer.Option("--no-retro", help="Do not match stored items against the fetched entries (retroactive matching, docs/incidents.md).")] = False,
) -> None:
    """Fetch exchanges' new signals into their banks, from their last checkpoints, then match
    the stored items of the retroactive window against what each bank gained (unless
    --no-retro). Exits 1 if any fetch failed (the others still run)."""
    from warding.cli.retro import echo_retro, retro_after
    from warding.errors import WardingError
    from warding.exchanges.fetch import FetchSummary, fetch_exchange
    from warding.exchanges.service import list_exchanges
    from warding.incidents.runs import feed_mark

    w = get_app(ctx)
    retros: dict[str, dict[str, Any] | None] = {}
    with friendly_errors():
        if not names:
            with w.transaction() as session:
                names = [e.name for e in list_exchanges(session) if e.enabled]
        results = []
        for name in names:  # one failing exchange does not stop the others
            mark = feed_mark(w)
            try:
                results.append(fetch_exchange(w, name, actor="cli"))
            except WardingError as exc:
                results.append(FetchSummary(name, error=str(exc)))
                continue
            if not no_retro:  # the exchange fills the bank of its name
                retros[name] = retro_after(w, name, mark, "exchange")
    if as_json:
        emit_json({"fetched": [{**r.as_json(), **({"retro": retros[r.exchange]}
                                                  if retros.get(r.exchange) else {})}
                               for r in results]})
    else:
        for r in results:
            if r.succeeded:
                typer.echo(f"{r.exchange}: {r.added} added, {r.removed} removed, "
                           f"{r.changed} changed, {r.skipped} skipped")
                echo_retro(retros.get(r.exchange))
            else:
                err_console().print(f"[red]error:[/red] {escape(f'{r.exchange}: {r.error}')}",
                                    highlight=False)
    if any(not r.succeeded for r in results):
        raise typer.Exit(1)
