"""Read models for the queue and the case view, shared by the console and the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from warding.audit.log import record
from warding.db.models import (
    Action,
    Case,
    Classification,
    ContentItem,
    Decision,
    Signal,
    User,
    utcnow,
)
from warding.errors import Conflict, NotFound
from warding.events import CaseClaimed

CLAIM_MINUTES = 15


@dataclass(frozen=True)
class QueueFilter:
    status: str | None = "open"
    bank: str | None = None
    source: str | None = None
    reason: str | None = None  # bank_match | classifier
    limit: int = 100
    offset: int = 0


def _reason_banks(case: Case) -> list[str]:
    return sorted({r["bank"] for r in case.reasons if r.get("kind") == "bank_match"})


def case_summary(case: Case, item: ContentItem) -> dict[str, Any]:
    kinds = sorted({str(r.get("kind")) for r in case.reasons})
    scores = [float(r["score"]) for r in case.reasons if r.get("kind") == "classifier"]
    return {
        "id": case.id,
        "status": case.status,
        "severity": case.severity,
        "opened_at": case.opened_at.isoformat(),
        "deadline": case.deadline.isoformat() if case.deadline else None,
        "assigned_to": case.assigned_to,
        "reasons": kinds,
        "banks": _reason_banks(case),
        "score": max(scores) if scores else None,
        "item": {
            "id": item.id,
            "source": item.source,
            "external_id": item.external_id,
            "kind": item.kind,
            "account": item.account,
            "title": item.title,
            "text_preview": (item.text or item.title or "")[:200],
        },
    }


def list_cases(session: Session, f: QueueFilter) -> list[dict[str, Any]]:
    query = select(Case, ContentItem).join(ContentItem, Case.item_id == ContentItem.id)
    if f.status:
        query = query.where(Case.status == f.status)
    if f.source:
        query = query.where(ContentItem.source == f.source)
    query = query.order_by(Case.deadline.is_(None), Case.deadline, Case.severity.desc(), Case.id)
    out = []
    skipped = 0
    for case, item in session.execute(query):
        if f.bank and f.bank not in _reason_banks(case):
            continue
        if f.reason and f.reason not in {r.get("kind") for r in case.reasons}:
            continue
        if skipped < f.offset:
            skipped += 1
            continue
        out.append(case_summary(case, item))
        if len(out) >= f.limit:
            break
    return out


def case_detail(session: Session, case_id: int) -> dict[str, Any]:
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(f"no case {case_id}")
    item = session.get(ContentItem, case.item_id)
    assert item is not None
    detail = case_summary(case, item)
    detail["reasons_detail"] = case.reasons
    detail["item"].update(
        {
            "url": item.url,
            "text": item.text,
            "posted_at": item.posted_at.isoformat() if item.posted_at else None,
            "ingested_at": item.ingested_at.isoformat(),
            "outlinks": item.outlinks,
            "lang": item.lang,
            "metadata": item.meta,
            "media": [{"sha256": m.sha256, "name": m.name, "mime": m.media.mime, "size": m.media.size}
                      for m in item.media],
        }
    )
    detail["classifications"] = [
        {"model": c.model, "label": c.label, "score": c.score, "violating": c.violating,
         "explanation": c.explanation}
        for c in session.execute(select(Classification).where(Classification.item_id == item.id)).scalars()
    ]
    users = {u.id: u.username for u in session.execute(select(User)).scalars()}
    detail["decisions"] = [
        {"id": d.id, "kind": d.kind, "violating": d.violating, "category": d.category,
         "reason": d.reason, "exemption": d.exemption, "automated": d.automated,
         "reviewer": users.get(d.reviewer_id) if d.reviewer_id else None,
         "supersedes": d.supersedes_id, "at": d.created_at.isoformat()}
        for d in case.decisions
    ]
    detail["actions"] = [
        {"id": a.id, "sink": a.sink, "status": a.status, "attempts": a.attempts, "detail": a.detail}
        for a in session.execute(select(Action).where(Action.case_id == case.id).order_by(Action.id)).scalars()
    ]
    detail["similar_decided"] = similar_decided(session, item.id)
    return detail


def similar_decided(session: Session, item_id: int, limit: int = 5) -> list[dict[str, Any]]:
    """Other decided cases whose items share an exact signal with this one."""
    mine = select(Signal.signal_type, Signal.value).where(Signal.item_id == item_id,
                                                          Signal.signal_type != "url")
    pairs = {(t, v) for t, v in session.execute(mine)}
    if not pairs:
        return []
    values = [v for _, v in pairs]
    rows = session.execute(
        select(Signal.item_id, Signal.signal_type, Signal.value)
        .where(Signal.value.in_(values), Signal.item_id != item_id)
    )
    others = {i for i, t, v in rows if (t, v) in pairs}
    out = []
    for case in session.execute(
        select(Case).where(Case.item_id.in_(others), Case.status == "decided").limit(limit)
    ).scalars():
        last = case.decisions[-1] if case.decisions else None
        out.append({"case_id": case.id, "violating": last.violating if last else None,
                    "category": last.category if last else None})
    return out


def claim(session: Session, case_id: int, user: User) -> Case:
    """Lock a case for one reviewer for CLAIM_MINUTES, so two never decide the same case."""
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(f"no case {case_id}")
    now = utcnow()
    if (case.assigned_to not in (None, user.id) and case.updated_at
            and now - case.updated_at < timedelta(minutes=CLAIM_MINUTES)):
        raise Conflict(f"case {case_id} is claimed by another reviewer")
    case.assigned_to = user.id
    case.updated_at = now
    record(session, CaseClaimed(case_id, user.username), user.username)
    return case


def decisions_count(session: Session) -> int:
    return len(session.execute(select(Decision.id)).all())
