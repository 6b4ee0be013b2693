"""Retroactive matching in the background of ``warding serve``, driven by the change feed.

The worker reads the change feed (:mod:`warding.matching.feed`) with its own cursor,
stored in ``retro_cursors``: every ``add`` (entries added or enabled again, by any
process: the API, ``bank import``, an exchange fetch, the ``add_to_bank`` sink, an appeal
reversal) is matched against the window's stored items; a ``bank`` change that enables a
bank again or loosens a threshold matches the whole bank. The cursor moves only after a
change's run is committed, so after a crash or ``kill -9`` the change is run again, and
since a pair (item, entry) already matched is skipped, nothing is matched twice.
Additions already covered by a finished run (``bank add`` / ``bank import`` on the
command line run their own) are skipped.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from warding.db.models import Bank, utcnow
from warding.db.models_incidents import RetroCursor, RetroRun
from warding.db.models_matching import MatchChange
from warding.matching import feed
from warding.matching.semantic import SIGNAL_TYPE as SEMANTIC
from warding.matching.semantic import bank_threshold

log = logging.getLogger("warding.incidents")
CURSOR_KEY = "retro"
READ_LIMIT = 1_000
COUNT_EVERY = 10.0  # seconds between two counts of the incidents' copies


def _bank_states(session: Any) -> dict[str, Any]:
    return {str(b.id): {"enabled": bool(b.enabled), "thresholds": dict(b.thresholds or {})}
            for b in session.execute(select(Bank)).scalars()}


def load_cursor(app: Any) -> tuple[feed.Cursor, dict[str, Any]]:
    """The worker's cursor; created at the feed's end (history is not replayed)."""
    with app.transaction() as session:
        row = session.get(RetroCursor, CURSOR_KEY)
        if row is None:
            row = RetroCursor(key=CURSOR_KEY, watermark=feed.last_change(session.connection()),
                              gaps={}, banks=_bank_states(session), updated_at=utcnow())
            session.add(row)
        return (feed.Cursor(int(row.watermark), {int(k): float(v) for k, v in row.gaps.items()}),
                dict(row.banks or {}))


def save_cursor(app: Any, cursor: feed.Cursor, banks: dict[str, Any]) -> None:
    with app.transaction() as session:
        row = session.get(RetroCursor, CURSOR_KEY)
        assert row is not None
        row.watermark = cursor.watermark
        row.gaps = {str(k): v for k, v in cursor.gaps.items()}
        row.banks = banks
        row.updated_at = utcnow()


def pending_changes(app: Any, bank_id: int) -> int:
    """Additions to ``bank_id`` the background worker has not matched yet."""
    with app.transaction() as session:
        row = session.get(RetroCursor, CURSOR_KEY)
        if row is None:
            return 0
        return int(session.execute(select(func.count(MatchChange.id)).where(
            MatchChange.id > row.watermark, MatchChange.bank_id == bank_id,
            MatchChange.kind.in_(("add", "bank")))).scalar() or 0)


def _covered(app: Any, bank_id: int, first: int, last: int, at: float) -> bool:
    with app.transaction() as session:
        return session.execute(select(RetroRun.id).where(
            RetroRun.bank_id == bank_id, RetroRun.status == "done",
            RetroRun.first_entry <= first, RetroRun.last_entry >= last,
            RetroRun.started_at >= datetime.fromtimestamp(at - 1.0).astimezone())
            .limit(1)).first() is not None


def _loosened(app: Any, old: dict[str, Any], new: dict[str, Any]) -> bool:
    if not old.get("enabled") and new.get("enabled"):
        return True
    if not new.get("enabled"):
        return False
    types = app.signal_types
    before, after = old.get("thresholds") or {}, new.get("thresholds") or {}
    default_sem = app.settings.semantic_threshold
    if bank_threshold(after, default_sem) < bank_threshold(before, default_sem):
        return True
    for name, st in types.items():
        if st.match != "hamming" or name == SEMANTIC:
            continue
        d = st.default_threshold or 0
        try:
            if int(after.get(name, d)) > int(before.get(name, d)):
                return True
        except (TypeError, ValueError):
            continue
    return False


def _groups(changes: Sequence[feed.Change]) -> list[list[feed.Change]]:
    """Consecutive additions to one bank together (a bulk import writes one row a batch)."""
    out: list[list[feed.Change]] = []
    for c in changes:
        if (out and c.kind == "add" and out[-1][-1].kind == "add"
                and out[-1][-1].bank_id == c.bank_id):
            out[-1].append(c)
        else:
            out.append([c])
    return out


def tick(app: Any) -> int:
    """Match what the feed holds since the cursor; the number of changes read (runs made are
    counted in ``retro_runs``)."""
    from warding.incidents.runs import run_retro, window_start

    cursor, banks = load_cursor(app)
    with app.engine.connect() as conn:
        changes = cursor.read(conn, limit=READ_LIMIT)
    if not changes:
        return 0
    runs = 0
    window_on = float(app.settings.retro_window_days) > 0
    for group in _groups(changes):
        c = group[0]
        if window_on and c.kind == "add" and c.bank_id is not None:
            first = min(x.first for x in group if x.first is not None)
            last = max(x.last for x in group if x.last is not None)
            if not _covered(app, c.bank_id, first, last, c.at):
                live_at = _live(app)
                run_retro(app, c.bank_id, trigger="feed", since=window_start(app),
                          first=first, last=last, actor="system", live_at=live_at)
                runs += 1
        elif c.kind == "bank" and c.bank_id is not None:
            with app.transaction() as session:
                now_state = _bank_states(session)
            key = str(c.bank_id)
            old, new = banks.get(key), now_state.get(key)
            if window_on and old is not None and new is not None and _loosened(app, old, new):
                run_retro(app, c.bank_id, trigger="bank", since=window_start(app),
                          actor="system", live_at=_live(app))
                runs += 1
            if new is None:
                banks.pop(key, None)
            else:
                banks[key] = new
        cursor.advance(group)
        save_cursor(app, cursor, banks)
    return len(changes) if runs >= 0 else 0


def _live(app: Any) -> datetime:
    """Bring this process's match engine up to the feed: from now the entries match live."""
    from warding.matching.service import get_core

    get_core(app).refresh(app.engine, force=True)
    return utcnow()


class RetroWorker:
    """The background thread of ``warding serve``."""

    def __init__(self, app: Any, interval: float) -> None:
        self.app = app
        self.interval = interval
        self.error = ""
        self.last_ok = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="warding-retro", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _run(self) -> None:
        import time

        from warding.incidents.notify import check_counts

        counted = 0.0
        while not self._stop.is_set():
            try:
                ran = 0
                while tick(self.app) and not self._stop.is_set():
                    ran += 1
                if ran or time.monotonic() - counted >= COUNT_EVERY:
                    check_counts(self.app)  # copies also arrive by live matches
                    counted = time.monotonic()
                self.error, self.last_ok = "", time.time()
            except Exception as exc:  # noqa: BLE001 - keep running; retried next pass
                self.error = str(exc)
                log.warning("retroactive matching failed (retried): %s", exc)
            self._stop.wait(self.interval)
