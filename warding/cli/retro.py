"""``warding bank retro`` and the retroactive matching at the end of ``bank add`` / ``import``
(docs/incidents.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from warding.cli.common import emit_json, err_console, friendly_errors, get_app
from warding.errors import InvalidInput

KEYS = ("bank", "entries", "items_checked", "signals_checked", "matches", "cases_opened",
        "cases_updated", "seconds")


def public(summary: Any) -> dict[str, Any]:
    data = summary.as_json()
    return {k: data[k] for k in KEYS}


def retro_after(w: Any, name: str, mark: int, trigger: str) -> dict[str, Any] | None:
    """Match the stored items against what the bank gained since ``mark`` (a failure is
    reported, and the bank change stays: ``warding bank retro`` runs it again)."""
    from warding.incidents.runs import run_after

    with friendly_errors():
        summary = run_after(w, name, mark, trigger=trigger)
    return public(summary) if summary is not None else None


def echo_retro(retro: dict[str, Any] | None) -> None:
    if retro:
        typer.echo(f"retroactive matching: {retro['items_checked']:,} stored items "
                   f"({retro['signals_checked']:,} signals) checked, {retro['matches']} matches, "
                   f"{retro['cases_opened']} cases opened, {retro['cases_updated']} updated "
                   f"in {retro['seconds']:.1f} s")


def parse_time(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInput(f"--since {value!r}: expected an ISO 8601 time, "
                           "e.g. 2026-03-15T00:00:00Z") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def retro(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Bank name.")],
    days: Annotated[float | None, typer.Option("--days", help="Window: items stored in the last N days (default WARDING_RETRO_WINDOW_DAYS).")] = None,
    since: Annotated[str | None, typer.Option("--since", help="Window: items stored since this ISO 8601 time.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Match the stored items of a window against every enabled entry of a bank, now: what
    was uploaded before its hashes arrived opens cases (nothing is matched twice)."""
    from warding.incidents.runs import run_for_bank

    w = get_app(ctx)
    with friendly_errors():
        if days is not None and since is not None:
            raise InvalidInput("give --days or --since, not both")
        if days is not None and days < 0:
            raise InvalidInput("--days must be at least 0")
        start = parse_time(since) if since is not None else None
        summary = run_for_bank(w, name, days=days, since=start)
    out = public(summary)
    if as_json:
        emit_json(out)
    else:
        echo_retro(out)
        if not out["entries"]:
            err_console().print(f"bank {name!r} has no enabled entries (or is disabled)")
