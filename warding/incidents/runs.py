"""Run retroactive matching for a bank and keep its progress in ``retro_runs``.

:func:`run_retro` is what ``warding bank retro``, the end of ``bank add`` / ``bank
import`` and the server's background worker call. The run row is committed first (so
``GET /api/banks/{name}/retro`` shows it while it runs), its counts are updated as pages
are read, and it ends ``done`` or ``failed`` with the error.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update

from warding.audit.log import record
from warding.db.models import Bank, utcnow
from warding.db.models_incidents import RetroRun
from warding.errors import NotFound
from warding.incidents.events import RetroRunFinished
from warding.incidents.retro import (
    Scope,
    best_hits,
    load_entries,
    match_stream,
    small_cache,
    window_items,
)
from warding.incidents.retro_semantic import match_semantic
from warding.incidents.retro_write import auto_decide, record_hits

Clock = Callable[[], datetime]


@dataclass
class RetroSummary:
    bank: str
    entries: int
    items_checked: int
    signals_checked: int
    matches: int
    cases_opened: int
    cases_updated: int
    seconds: float
    run_id: int | None = None
    status: str = "done"

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def window_start(app: Any, *, days: float | None = None, since: datetime | None = None,
                 clock: Clock = utcnow) -> datetime:
    if since is not None:
        return since
    span = app.settings.retro_window_days if days is None else days
    return clock() - timedelta(days=float(span))


def bank_id_of(app: Any, name: str) -> int:
    with app.transaction() as session:
        found = session.execute(select(Bank.id).where(Bank.name == name)).scalar_one_or_none()
    if found is None:
        raise NotFound(f"bank {name!r} not found")
    return int(found)


def run_retro(app: Any, bank_id: int, *, trigger: str, since: datetime,
              first: int | None = None, last: int | None = None,
              entry_ids: tuple[int, ...] | None = None, actor: str = "system",
              clock: Clock = utcnow, live_at: datetime | None = None,
              progress: Callable[[int], None] | None = None) -> RetroSummary:
    """Match the scope's entries against the items stored since ``since``."""
    started = time.perf_counter()
    scope = Scope(bank_id, since, first, last, entry_ids)
    with app.engine.connect() as conn:
        entries = load_entries(conn, scope, app.signal_types)
    name = entries.bank_name if entries is not None else str(bank_id)
    if entries is None or not len(entries):
        return RetroSummary(name, 0, 0, 0, 0, 0, 0, round(time.perf_counter() - started, 3))
    now = clock()
    received = min(entries.received.values()) if entries.received else None
    with app.transaction() as session:
        # the same scope left running: its process died (a crash, kill -9); this run redoes it
        session.execute(update(RetroRun).where(
            RetroRun.bank_id == bank_id, RetroRun.status == "running",
            RetroRun.first_entry.is_(None) if first is None else RetroRun.first_entry == first,
            RetroRun.last_entry.is_(None) if last is None else RetroRun.last_entry == last)
            .values(status="interrupted", error="the process stopped; run again"))
        run = RetroRun(bank_id=bank_id, trigger=trigger, status="running", first_entry=first,
                       last_entry=last, since=since, entries=len(entries),
                       items_checked=0, signals_checked=0, matches=0, cases_opened=0,
                       cases_updated=0, received_at=received, live_at=live_at or now,
                       started_at=now, error="")
        session.add(run)
        session.flush()
        run_id = run.id
    try:
        with app.engine.connect() as conn, small_cache(conn):
            items = window_items(conn, since)
        _update(app, run_id, items_checked=items)

        def seen(n: int) -> None:
            _update(app, run_id, signals_checked=n)
            if progress is not None:
                progress(n)

        with app.engine.connect() as conn:
            hits, read = match_stream(conn, entries, app.signal_types, since, seen)
        texts = 0
        if entries.semantic and app.settings.semantic_matching:
            extra, texts = match_semantic(app.engine, entries, since,
                                          app.settings.semantic_threshold)
            hits += extra
        written = record_hits(app, run_id, entries, best_hits(hits), actor=actor, clock=clock)
        summary = RetroSummary(name, len(entries), items, read + texts, written.matches,
                               written.cases_opened, written.cases_updated,
                               round(time.perf_counter() - started, 3), run_id)
        with app.transaction() as session:
            session.execute(update(RetroRun).where(RetroRun.id == run_id).values(
                status="done", items_checked=items, signals_checked=read + texts,
                matches=written.matches, cases_opened=written.cases_opened,
                cases_updated=written.cases_updated, finished_at=clock(),
                seconds=summary.seconds))
            record(session, RetroRunFinished(name, run_id, {
                k: v for k, v in summary.as_json().items() if k not in ("bank", "run_id")}),
                actor)
    except Exception as exc:
        with app.transaction() as session:
            session.execute(update(RetroRun).where(RetroRun.id == run_id).values(
                status="failed", error=str(exc)[:2000], finished_at=clock(),
                seconds=round(time.perf_counter() - started, 3)))
        raise
    auto_decide(app, entries, written.opened)
    from warding.incidents.notify import check_counts

    check_counts(app)
    return summary


def _update(app: Any, run_id: int, **values: Any) -> None:
    with app.transaction() as session:
        session.execute(update(RetroRun).where(RetroRun.id == run_id).values(**values))


def run_for_bank(app: Any, name: str, *, trigger: str = "cli", days: float | None = None,
                 since: datetime | None = None, first: int | None = None,
                 last: int | None = None, actor: str = "cli",
                 clock: Clock = utcnow) -> RetroSummary:
    """``warding bank retro``: every enabled entry of the bank (or ``first``..``last``)."""
    bank_id = bank_id_of(app, name)
    start = window_start(app, days=days, since=since, clock=clock)
    return run_retro(app, bank_id, trigger=trigger, since=start, first=first, last=last,
                     actor=actor, clock=clock)


def progress_of(app: Any, name: str, limit: int = 20) -> dict[str, Any]:
    """``GET /api/banks/{name}/retro``: the bank's latest runs, newest first."""
    bank_id = bank_id_of(app, name)
    with app.transaction() as session:
        runs = session.execute(select(RetroRun).where(RetroRun.bank_id == bank_id)
                               .order_by(RetroRun.id.desc()).limit(limit)).scalars().all()
        out = [run_json(r) for r in runs]
    from warding.incidents.worker import pending_changes

    return {"bank": name, "running": any(r["status"] == "running" for r in out),
            "pending_changes": pending_changes(app, bank_id), "runs": out}


def run_json(r: RetroRun) -> dict[str, Any]:
    def iso(d: datetime | None) -> str | None:
        return d.isoformat() if d is not None else None

    return {"id": r.id, "trigger": r.trigger, "status": r.status,
            "first_entry": r.first_entry, "last_entry": r.last_entry, "since": iso(r.since),
            "entries": r.entries, "items_checked": r.items_checked,
            "signals_checked": r.signals_checked, "matches": r.matches,
            "cases_opened": r.cases_opened, "cases_updated": r.cases_updated,
            "received_at": iso(r.received_at), "live_at": iso(r.live_at),
            "started_at": iso(r.started_at), "finished_at": iso(r.finished_at),
            "seconds": r.seconds, "error": r.error or None}


def feed_mark(app: Any) -> int:
    """The change feed's position now (before a command changes a bank)."""
    from warding.matching import feed

    with app.engine.connect() as conn:
        return feed.last_change(conn)


def run_after(app: Any, name: str, mark: int, *, trigger: str, actor: str = "cli",
              clock: Clock = utcnow) -> RetroSummary | None:
    """Retroactive matching of what the bank gained since ``mark`` (the end of ``bank add`` and
    ``bank import``); None when it gained nothing or the window is 0."""
    from warding.db.models_matching import MatchChange

    if float(app.settings.retro_window_days) <= 0:
        return None
    bank_id = bank_id_of(app, name)
    with app.engine.connect() as conn:
        first, last = conn.execute(
            select(func.min(MatchChange.first_entry), func.max(MatchChange.last_entry))
            .where(MatchChange.id > mark, MatchChange.bank_id == bank_id,
                   MatchChange.kind == "add")).one()
    if first is None or last is None:
        return None
    return run_retro(app, bank_id, trigger=trigger, since=window_start(app, clock=clock),
                     first=int(first), last=int(last), actor=actor, clock=clock)
