"""Dated event annotations (a battle, an attack, a takedown campaign) shown on the time
charts. Adding and removing one is a state change, recorded in the audit log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from warding.audit.log import record
from warding.db.models_analytics import EventAnnotation
from warding.errors import InvalidInput, NotFound
from warding.events import Event

MAX_LABEL = 200


@dataclass(frozen=True)
class AnnotationAdded(Event):
    type: ClassVar[str] = "stats.event_added"
    annotation_id: int
    day: str
    label: str

    def subject(self) -> str:
        return f"event:{self.annotation_id}"


@dataclass(frozen=True)
class AnnotationRemoved(Event):
    type: ClassVar[str] = "stats.event_removed"
    annotation_id: int
    day: str
    label: str

    def subject(self) -> str:
        return f"event:{self.annotation_id}"


def as_json(a: EventAnnotation) -> dict[str, Any]:
    return {"id": a.id, "day": a.day.isoformat(), "label": a.label, "note": a.note,
            "created_by": a.created_by}


def add_event(session: Session, day: date, label: str, note: str = "", *,
              actor: str) -> EventAnnotation:
    label = label.strip()
    if not label:
        raise InvalidInput("an event needs a label")
    if len(label) > MAX_LABEL:
        raise InvalidInput(f"event label is too long ({len(label)} characters, at most {MAX_LABEL})")
    row = EventAnnotation(day=day, label=label, note=note.strip(), created_by=actor)
    session.add(row)
    session.flush()
    record(session, AnnotationAdded(row.id, day.isoformat(), label), actor)
    return row


def remove_event(session: Session, annotation_id: int, *, actor: str) -> None:
    row = session.get(EventAnnotation, annotation_id)
    if row is None:
        raise NotFound(f"no event annotation with id {annotation_id}")
    record(session, AnnotationRemoved(row.id, row.day.isoformat(), row.label), actor)
    session.delete(row)


def list_events(session: Session, since: date | None = None,
                until: date | None = None) -> list[EventAnnotation]:
    stmt = select(EventAnnotation).order_by(EventAnnotation.day, EventAnnotation.id)
    if since:
        stmt = stmt.where(EventAnnotation.day >= since)
    if until:
        stmt = stmt.where(EventAnnotation.day <= until)
    return list(session.execute(stmt).scalars())
