"""Reading the audit log (newest first), for the console and the API."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from warding.db.models import AuditEvent

EVENT_PAGE = 100


def list_events(session: Session, *, event_type: str | None = None,
                subject: str | None = None, before_id: int | None = None,
                limit: int = EVENT_PAGE) -> list[dict[str, Any]]:
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if event_type:
        query = query.where(AuditEvent.event_type == event_type)
    if subject:
        query = query.where(AuditEvent.subject == subject)
    if before_id is not None:
        query = query.where(AuditEvent.id < before_id)
    return [
        {"id": e.id, "at": e.created_at.isoformat(), "actor": e.actor, "type": e.event_type,
         "subject": e.subject, "data": e.data, "hash": e.hash, "prev_hash": e.prev_hash}
        for e in session.execute(query).scalars()
    ]
