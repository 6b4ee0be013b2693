"""Incidents: create, find, and the copies an incident holds.

An incident names the banks holding the hashes of one event's material (the video,
images and manifesto a hash-sharing programme circulates) and when it started. Its
copies are the items stored since ``started_at`` that match an entry of those banks,
at upload or retroactively. Its open cases are raised to the incident's ``priority``
(the queue serves higher severity first), when it is created and whenever its copies
are counted (:func:`prioritise`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from warding.audit.log import record
from warding.db.models import Bank, Case, ContentItem, Decision, Match
from warding.db.models_incidents import Incident, RetroMatch
from warding.errors import Conflict, InvalidInput, NotFound
from warding.incidents.events import IncidentChanged


@dataclass(frozen=True)
class Copy:
    """One item of an incident."""

    item_id: int
    uploaded_at: datetime
    entry_id: int
    bank_id: int
    distance: float
    found_at: datetime  # when the first match of the item was made
    retroactive: bool
    case_id: int | None
    status: str | None
    removed_at: datetime | None


def create_incident(session: Session, *, name: str, started_at: datetime, banks: list[str],
                    actor: str, description: str = "", priority: int = 90,
                    notify_step: int | None = None) -> Incident:
    name = name.strip()
    if not name:
        raise InvalidInput("an incident needs a name")
    if not banks:
        raise InvalidInput("an incident needs at least one bank")
    if not 0 <= priority <= 100:
        raise InvalidInput(f"priority must be within 0..100, got {priority}")
    if notify_step is not None and notify_step < 1:
        raise InvalidInput(f"notify_step must be at least 1, got {notify_step}")
    known = set(session.execute(select(Bank.name).where(Bank.name.in_(banks))).scalars())
    missing = [b for b in banks if b not in known]
    if missing:
        raise InvalidInput(f"unknown bank(s): {', '.join(missing)}")
    if session.execute(select(Incident.id).where(Incident.name == name)).first():
        raise Conflict(f"incident {name!r} exists already")
    incident = Incident(name=name, description=description, started_at=started_at,
                        banks=list(dict.fromkeys(banks)), priority=priority,
                        notify_step=notify_step, notified_count=0, created_by=actor)
    session.add(incident)
    session.flush()
    record(session, IncidentChanged(incident.id, name, "created",
                                    {"banks": incident.banks, "priority": priority,
                                     "started_at": started_at.isoformat()}), actor)
    prioritise(session, incident)
    return incident


def get_incident(session: Session, ref: int | str) -> Incident:
    cond = Incident.id == ref if isinstance(ref, int) else Incident.name == ref
    found = session.execute(select(Incident).where(cond)).scalar_one_or_none()
    if found is None and isinstance(ref, str) and ref.isdigit():
        found = session.get(Incident, int(ref))
    if found is None:
        raise NotFound(f"incident {ref!r} not found")
    return found


def list_incidents(session: Session) -> list[Incident]:
    return list(session.execute(select(Incident).order_by(Incident.started_at.desc(),
                                                          Incident.id.desc())).scalars())


def bank_ids(session: Session, incident: Incident) -> dict[int, str]:
    return {int(i): n for i, n in session.execute(
        select(Bank.id, Bank.name).where(Bank.name.in_(list(incident.banks or []))))}


def copies(session: Session, incident: Incident) -> list[Copy]:
    """Every item of the incident, in upload order."""
    banks = bank_ids(session, incident)
    if not banks:
        return []
    rows = session.execute(
        select(Match.id, Match.item_id, Match.entry_id, Match.bank_id, Match.distance,
               Match.created_at, ContentItem.ingested_at, RetroMatch.id)
        .join(ContentItem, ContentItem.id == Match.item_id)
        .outerjoin(RetroMatch, RetroMatch.match_id == Match.id)
        .where(Match.bank_id.in_(list(banks)), ContentItem.ingested_at >= incident.started_at)
        .order_by(Match.item_id, Match.created_at, Match.id)).all()
    first: dict[int, Any] = {}
    best: dict[int, Any] = {}
    for r in rows:
        first.setdefault(r[1], r)
        if r[1] not in best or (best[r[1]][4] or 0) > (r[4] or 0):
            best[r[1]] = r
    ids = list(first)
    cases: dict[int, tuple[int, str]] = {}
    removed: dict[int, datetime] = {}
    for chunk in _chunks(ids, 900):
        for cid, item_id, status in session.execute(
                select(Case.id, Case.item_id, Case.status).where(Case.item_id.in_(chunk))):
            cases[int(item_id)] = (int(cid), status)
        for item_id, at in session.execute(
                select(Case.item_id, Decision.created_at).join(Decision, Decision.case_id == Case.id)
                .where(Case.item_id.in_(chunk), Decision.violating.is_(True))
                .order_by(Decision.id)):
            removed.setdefault(int(item_id), at)
    out = []
    for item_id in ids:
        f, b = first[item_id], best[item_id]
        case = cases.get(item_id)
        out.append(Copy(item_id, f[6], int(b[2]), int(b[3]), float(b[4] or 0.0), f[5],
                        f[7] is not None, case[0] if case else None,
                        case[1] if case else None, removed.get(item_id)))
    return out


def prioritise(session: Session, incident: Incident) -> int:
    """Raise the incident's open cases to its priority; how many were raised."""
    ids = [c.case_id for c in copies(session, incident)
           if c.case_id is not None and c.status == "open"]
    raised = 0
    for chunk in _chunks(ids, 900):
        result = session.execute(update(Case).where(
            Case.id.in_(chunk), Case.status == "open", Case.severity < incident.priority)
            .values(severity=incident.priority))
        raised += int(getattr(result, "rowcount", 0) or 0)
    return raised


def _chunks(items: list[int], size: int) -> list[list[int]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def incident_json(incident: Incident) -> dict[str, Any]:
    return {"id": incident.id, "name": incident.name, "description": incident.description,
            "started_at": incident.started_at.isoformat(), "banks": list(incident.banks or []),
            "priority": incident.priority, "notify_step": incident.notify_step,
            "notified_count": incident.notified_count, "created_by": incident.created_by,
            "created_at": incident.created_at.isoformat()}
