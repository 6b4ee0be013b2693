"""The audit log: every event is hashed together with its predecessor.

Events are written in the same transaction as the change they record, so a
change without its audit event cannot be committed. :func:`verify` walks the
chain and names the first event that does not fit.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from warding.db.jsonrows import json_insert
from warding.db.models import AuditEvent, utcnow
from warding.events import Event as WardingEvent

GENESIS = "0" * 64


def _digest(prev_hash: str, created_at: datetime, actor: str, event_type: str, subject: str,
            data: dict[str, Any]) -> str:
    body = json.dumps(
        {
            "prev": prev_hash,
            "at": created_at.isoformat(timespec="microseconds"),
            "actor": actor,
            "type": event_type,
            "subject": subject,
            "data": data,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


_HEAD = "warding.audit.head"
_listening = False


def _forget_head(session: Session, *args: object) -> None:
    session.info.pop(_HEAD, None)


def _listen_once() -> None:
    """Forget the cached chain head whenever a transaction or savepoint ends without commit."""
    global _listening
    if not _listening:
        sa_event.listen(Session, "after_soft_rollback", _forget_head)
        sa_event.listen(Session, "after_commit", _forget_head)
        _listening = True


# Any constant: the key of the PostgreSQL advisory lock that serialises audit writers.
_PG_LOCK_KEY = 0x57415244  # "WARD"


def _lock_chain(session: Session) -> None:
    """Take the database's write lock for the chain before reading its head, so that
    concurrent writers (web requests, the action worker) queue up instead of failing
    on the unique ``prev_hash``. PostgreSQL: a transaction-scoped advisory lock, held
    to commit. SQLite: an empty UPDATE starts the write transaction now (SQLite has a
    single writer), waiting up to the busy timeout. The lock is taken once per
    transaction, when the head is first read."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
    elif dialect == "sqlite":
        session.execute(text("UPDATE audit_events SET id = id WHERE id < 0"))


def _head(session: Session) -> str:
    cached = session.info.get(_HEAD)
    if isinstance(cached, str):
        return cached
    _lock_chain(session)
    last = session.execute(
        select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    ).scalar_one_or_none()
    return last or GENESIS


def record(session: Session, event: WardingEvent, actor: str) -> AuditEvent:
    """Append ``event`` to the chain within the caller's transaction.

    The chain head is read once per transaction and then kept in the session
    (forgotten on commit and on any rollback, savepoints included). A
    concurrent writer that chained off the same head fails on the unique
    ``prev_hash`` constraint instead of forking the chain.
    """
    _listen_once()
    prev_hash = _head(session)
    data = json.loads(json.dumps(event.data(), default=str))
    created_at = utcnow()
    row = AuditEvent(
        created_at=created_at,
        actor=actor,
        event_type=event.type,
        subject=event.subject(),
        data=data,
        prev_hash=prev_hash,
        hash=_digest(prev_hash, created_at, actor, event.type, event.subject(), data),
    )
    session.add(row)
    session.flush()
    session.info[_HEAD] = row.hash
    return row


def record_many(session: Session, events: Sequence[WardingEvent], actor: str) -> None:
    """Append ``events`` in order, as :func:`record` does one by one, with one INSERT
    (the bulk pipeline opens hundreds of cases per transaction)."""
    if not events:
        return
    _listen_once()
    prev_hash = _head(session)
    rows = []
    for event in events:
        data = json.loads(json.dumps(event.data(), default=str))
        created_at = utcnow()
        digest = _digest(prev_hash, created_at, actor, event.type, event.subject(), data)
        rows.append({"created_at": created_at, "actor": actor, "event_type": event.type,
                     "subject": event.subject(), "data": data, "prev_hash": prev_hash,
                     "hash": digest})
        prev_hash = digest
    json_insert(session, AuditEvent.__table__, rows)  # type: ignore[arg-type]
    session.info[_HEAD] = prev_hash


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    events: int
    first_bad_id: int | None = None
    problem: str = ""


def verify(session: Session) -> VerifyResult:
    """Recompute the chain; report the first event whose hash or link is wrong."""
    prev = GENESIS
    count = 0
    for row in session.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars():
        count += 1
        if row.prev_hash != prev:
            return VerifyResult(False, count, row.id, "link to the previous event is broken")
        expected = _digest(row.prev_hash, row.created_at, row.actor, row.event_type, row.subject,
                           row.data)
        if row.hash != expected:
            return VerifyResult(False, count, row.id, "event content does not match its hash")
        prev = row.hash
    return VerifyResult(True, count)
