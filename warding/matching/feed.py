"""The change feed: how every process learns that bank contents changed.

Each service that changes what can match (entries added or removed, a bank
created, changed or deleted) writes a :class:`MatchChange` row in the same
transaction. A match engine applies the rows after the last one it saw, so it
never rebuilds: an import of 10 entries costs 10 index insertions in every
process, within a poll interval of the commit.

Commits made in this process bump :data:`local_commits`, so that an engine in
the same process polls at once instead of waiting for the next interval.

PostgreSQL assigns ids when a row is inserted, not when it is committed, so a
reader can see id 12 before a slower transaction commits id 11. The reader
keeps such gaps and looks for them again until they are older than
:data:`GAP_PATIENCE` seconds (a rolled-back transaction leaves a gap for good).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection, func, insert, or_, select
from sqlalchemy import event as sa_event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from warding.db.models_matching import MatchChange, MatchState

GAP_PATIENCE = 120.0
_FLAG = "warding.match_changed"
_listening = False
_lock = threading.Lock()
local_commits = 0


def _after_commit(session: Session) -> None:
    global local_commits
    if session.info.pop(_FLAG, False):
        with _lock:
            local_commits += 1


def _after_rollback(session: Session) -> None:
    session.info.pop(_FLAG, None)


def _listen_once() -> None:
    global _listening
    if not _listening:
        sa_event.listen(Session, "after_commit", _after_commit)
        sa_event.listen(Session, "after_rollback", _after_rollback)
        _listening = True


def _write(session: Session, kind: str, bank_id: int | None, first: int | None,
           last: int | None) -> None:
    _listen_once()
    session.execute(insert(MatchChange).values(kind=kind, bank_id=bank_id, first_entry=first,
                                               last_entry=last))
    session.info[_FLAG] = True


def entries_added(session: Session, bank_id: int, entry_ids: Sequence[int]) -> None:
    """Entries of ``bank_id`` were added (rows of other banks in the id range are not read)."""
    if entry_ids:
        _write(session, "add", bank_id, min(entry_ids), max(entry_ids))


def entries_added_range(session: Session, bank_id: int, first: int, last: int) -> None:
    _write(session, "add", bank_id, first, last)


def entries_removed(session: Session, bank_id: int, first: int, last: int) -> None:
    """Entries ``first``..``last`` of ``bank_id`` must no longer match (deleted or disabled)."""
    _write(session, "remove", bank_id, first, last)


def bank_changed(session: Session, bank_id: int) -> None:
    """A bank was created, re-configured (enabled, thresholds) or deleted."""
    _write(session, "bank", bank_id, None, None)


def database_id(conn: Connection) -> str:
    """This database's identity (created on first use)."""
    found = conn.execute(select(MatchState.value).where(MatchState.key == "database_id")).scalar()
    if found:
        return str(found)
    value = uuid.uuid4().hex
    try:
        with conn.begin_nested():
            conn.execute(insert(MatchState).values(key="database_id", value=value))
    except IntegrityError:  # another process created it first
        pass
    return str(conn.execute(
        select(MatchState.value).where(MatchState.key == "database_id")).scalar_one())


def last_change(conn: Connection) -> int:
    return int(conn.execute(select(func.max(MatchChange.id))).scalar() or 0)


@dataclass(frozen=True)
class Change:
    id: int
    kind: str
    bank_id: int | None
    first: int | None
    last: int | None
    at: float  # created_at as a POSIX timestamp


@dataclass
class Cursor:
    """Where a reader is in the feed: the highest id applied and the gaps below it."""

    watermark: int = 0
    gaps: dict[int, float] = field(default_factory=dict)  # id -> when first missed

    def read(self, conn: Connection, limit: int = 100_000) -> list[Change]:
        """Changes not applied yet, oldest first (at most ``limit``)."""
        cond = MatchChange.id > self.watermark
        if self.gaps:
            cond = or_(cond, MatchChange.id.in_(sorted(self.gaps)))
        rows = conn.execute(
            select(MatchChange.id, MatchChange.kind, MatchChange.bank_id, MatchChange.first_entry,
                   MatchChange.last_entry, MatchChange.created_at)
            .where(cond).order_by(MatchChange.id).limit(limit)
        ).all()
        return [Change(int(r[0]), r[1], r[2], r[3], r[4],
                       r[5].timestamp() if r[5] is not None else 0.0) for r in rows]

    def advance(self, changes: Sequence[Change]) -> None:
        """Record ``changes`` as applied; remember skipped ids as gaps."""
        now = time.time()
        for c in changes:
            self.gaps.pop(c.id, None)
        new_ids = sorted(c.id for c in changes if c.id > self.watermark)
        expected = self.watermark + 1
        for cid in new_ids:
            for missing in range(expected, cid):
                if cid - missing <= 10_000:
                    self.gaps.setdefault(missing, now)
            expected = cid + 1
        if new_ids:
            self.watermark = new_ids[-1]
        for gid, since in list(self.gaps.items()):
            if now - since > GAP_PATIENCE:
                del self.gaps[gid]
