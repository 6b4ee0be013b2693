"""The queue of statements for the DSA Transparency Database: what goes, and its state.

:func:`queue_statement` puts one statement of reasons in the queue
(``tdb_submissions``) in the database's schema, with a ``puid`` that is unique for
ever (``wd-sor<statement id>-<random>``: a reinstalled Warding, whose statement ids
start again at 1, never reuses one) and carries no personal data. The statement is
frozen there: what the endpoint serves is what is, or was, sent. A statement is
queued once (``statement_id`` is unique), however often the sink runs.
:func:`list_submissions` serves the queue to the API.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from warding.audit.log import record
from warding.db.models import utcnow
from warding.db.models_legal_tdb import TdbSubmission
from warding.db.models_review import StatementOfReasons
from warding.legal.tdb_events import TdbStatementQueued
from warding.legal.transparency import SUBMITTED_RESTRICTIONS, to_tdb

STATUSES = ("pending", "sent", "rejected")


def new_puid(statement_id: int) -> str:
    return f"wd-sor{statement_id}-{uuid.uuid4().hex}"


def queue_statement(session: Session, statement: StatementOfReasons,
                    territorial_scope: list[str], *, now: datetime | None = None
                    ) -> TdbSubmission | None:
    """Queue ``statement`` for the database once; None when it is not a restriction."""
    if statement.restriction not in SUBMITTED_RESTRICTIONS:
        return None
    existing = session.execute(select(TdbSubmission).where(
        TdbSubmission.statement_id == statement.id)).scalar_one_or_none()
    if existing is not None:
        return existing
    puid = new_puid(statement.id)
    when = now or utcnow()
    row = TdbSubmission(statement_id=statement.id, case_id=statement.case_id, puid=puid,
                        payload=to_tdb(session, statement, puid, territorial_scope,
                                       today=when.date()),
                        status="pending", attempts=0, next_attempt_at=when, error="")
    session.add(row)
    session.flush()
    record(session, TdbStatementQueued(statement.id, statement.case_id, puid), "system")
    return row


def submission_json(row: TdbSubmission) -> dict[str, Any]:
    return {
        "id": row.id, "statement_id": row.statement_id, "case_id": row.case_id,
        "puid": row.puid, "status": row.status, "attempts": row.attempts,
        "error": row.error or None, "http_status": row.http_status,
        "queued_at": row.created_at.isoformat(),
        "sent_at": row.sent_at.isoformat() if row.sent_at else None,
        "next_attempt_at": row.next_attempt_at.isoformat()
        if row.next_attempt_at and row.status == "pending" else None,
        "statement": dict(row.payload),
    }


def list_submissions(session: Session, *, status: str | None = None, case_id: int | None = None,
                     limit: int = 100, offset: int = 0) -> dict[str, Any]:
    """One page of the queue, oldest first, with the total and the count per status (of the
    case, when ``case_id`` is given)."""
    query = select(TdbSubmission)
    total_query = select(func.count(TdbSubmission.id))
    if status is not None:
        query = query.where(TdbSubmission.status == status)
        total_query = total_query.where(TdbSubmission.status == status)
    if case_id is not None:
        query = query.where(TdbSubmission.case_id == case_id)
        total_query = total_query.where(TdbSubmission.case_id == case_id)
    rows = session.execute(query.order_by(TdbSubmission.id).limit(limit).offset(offset)).scalars()
    counts = {s: 0 for s in STATUSES}
    count_query = select(TdbSubmission.status, func.count(TdbSubmission.id))
    if case_id is not None:
        count_query = count_query.where(TdbSubmission.case_id == case_id)
    for name, n in session.execute(count_query.group_by(TdbSubmission.status)):
        counts[name] = int(n)
    return {"statements": [submission_json(r) for r in rows],
            "total": int(session.execute(total_query).scalar_one()),
            "limit": limit, "offset": offset, "counts": counts}
