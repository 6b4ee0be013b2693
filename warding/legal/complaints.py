"""Complaints against a removal (TCO Art. 10, DSA Art. 20).

A content provider whose content was removed (after an order or by the platform's own
measures) may complain. The complaint is recorded with ``received_at`` and
``due_at`` = ``received_at`` + ``WARDING_COMPLAINT_DAYS`` (14). A person decides it
(``legal`` or ``admin`` role; never automation alone): ``reinstated`` restores the
content through the action sinks at once (a decision superseding the removal, with its
statement of reasons), ``rejected`` upholds the removal. Either way the complainant is
answered with the reasons and the further redress, stored and sent as the event
``complaint.decided``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from warding.audit.log import record
from warding.db.models import Case, ContentItem, utcnow
from warding.db.models_legal import LegalComplaint, RemovalOrderItem
from warding.errors import Conflict, InvalidInput, NotFound
from warding.intake.outbox import queue_event
from warding.legal.enforce import Enforced, enforce, record_measure, run_now
from warding.legal.events import ComplaintChanged
from warding.legal.locate import find_item, parse_locations
from warding.review.decisions import DecisionInput, current_decision

OUTCOMES = ("reinstated", "rejected")
STATUSES = ("open", "overdue", "decided")


def status_of(c: LegalComplaint, now: datetime | None = None) -> str:
    if c.status == "open" and c.due_at < (now or utcnow()):
        return "overdue"
    return c.status


def complaint_json(c: LegalComplaint) -> dict[str, Any]:
    return {"id": c.id, "item_id": c.item_id, "case_id": c.case_id, "location": c.location,
            "complainant": c.complainant, "grounds": c.grounds, "order_id": c.order_id,
            "received_at": c.received_at.isoformat(), "due_at": c.due_at.isoformat(),
            "status": status_of(c), "outcome": c.outcome, "reason": c.reason,
            "decided_at": c.decided_at.isoformat() if c.decided_at else None,
            "decided_by": c.decided_by, "decision_id": c.decision_id, "response": c.response}


def create_complaint(session: Session, settings: Any, body: dict[str, Any], *,
                     actor: str) -> dict[str, Any]:
    grounds = str(body.get("grounds") or "").strip()
    if not grounds:
        raise InvalidInput("grounds: why the complainant thinks the removal was wrong")
    complainant = body.get("complainant")
    if not isinstance(complainant, dict) or not any(
            str(complainant.get(k) or "").strip() for k in ("name", "email", "contact")):
        raise InvalidInput("complainant: a name, email or contact to answer")
    item: ContentItem | None = None
    location = None
    if body.get("item") is not None:
        try:
            item = session.get(ContentItem, int(body["item"]))
        except (TypeError, ValueError):
            raise InvalidInput("item: a stored item's id") from None
        if item is None:
            raise NotFound(f"no item {body['item']}")
    elif body.get("location"):
        (loc,) = parse_locations([body["location"]])
        location = loc.url or f"{loc.source}:{loc.external_id}"
        item = find_item(session, loc)
        if item is None:
            raise NotFound(f"no stored item at {location!r}")
    else:
        raise InvalidInput("give the removed content's location or item")
    case = session.execute(select(Case).where(Case.item_id == item.id)).scalar_one_or_none()
    last = current_decision(session, case.id) if case is not None else None
    if case is None or last is None or not last.violating:
        raise Conflict(f"item {item.id} is not removed: there is no removal to complain about")
    order_id = session.execute(select(RemovalOrderItem.order_id).where(
        RemovalOrderItem.case_id == case.id).order_by(RemovalOrderItem.id.desc())
        .limit(1)).scalar_one_or_none()
    now = utcnow()
    c = LegalComplaint(item_id=item.id, case_id=case.id, location=location or item.url,
                       complainant={k: str(v) for k, v in complainant.items()
                                    if k in ("name", "email", "contact") and v},
                       grounds=grounds, order_id=order_id, received_at=now,
                       due_at=now + timedelta(days=int(settings.complaint_days)), status="open")
    session.add(c)
    session.flush()
    record(session, ComplaintChanged(c.id, case.id, "received", None), actor)
    return complaint_json(c)


def get_complaint(session: Session, complaint_id: int) -> LegalComplaint:
    c = session.get(LegalComplaint, complaint_id)
    if c is None:
        raise NotFound(f"no complaint {complaint_id}")
    return c


def list_complaints(session: Session, status: str | None = None, *,
                    case_ids: list[int] | None = None, limit: int = 100,
                    offset: int = 0) -> list[dict[str, Any]]:
    if status is not None and status not in STATUSES:
        raise InvalidInput(f"status is one of {', '.join(STATUSES)}")
    now = utcnow()
    query = select(LegalComplaint).order_by(LegalComplaint.due_at, LegalComplaint.id)
    if status == "open":
        query = query.where(LegalComplaint.status == "open", LegalComplaint.due_at >= now)
    elif status == "overdue":
        query = query.where(LegalComplaint.status == "open", LegalComplaint.due_at < now)
    elif status == "decided":
        query = query.where(LegalComplaint.status == "decided")
    if case_ids is not None:
        query = query.where(LegalComplaint.case_id.in_(case_ids))
    return [complaint_json(c) for c in session.execute(query.limit(limit).offset(offset)).scalars()]


def _response(outcome: str, reason: str, redress_url: str | None) -> str:
    what = ("Your complaint was upheld: the content is reinstated."
            if outcome == "reinstated" else
            "Your complaint was reviewed by a person and rejected: the content stays removed.")
    redress = ("You can take the dispute to a certified out-of-court dispute settlement body "
               "(Regulation (EU) 2022/2065, Art. 21) or to the courts of the Member State "
               "concerned, including to challenge a removal order (Regulation (EU) 2021/784, "
               "Art. 9).")
    how = f" More: {redress_url}." if redress_url else ""
    return f"{what}\n\nReasons: {reason}\n\n{redress}{how}\n"


def decide_complaint(app: Any, complaint_id: int, outcome: str, reason: str, *, actor: str,
                     user_id: int | None) -> dict[str, Any]:
    if outcome not in OUTCOMES:
        raise InvalidInput(f"outcome is one of {', '.join(OUTCOMES)}")
    if not reason or not reason.strip():
        raise InvalidInput("reason: the complainant is told why")
    if user_id is None:
        raise InvalidInput("a complaint is decided by a person, not by automation alone")
    done: list[Enforced] = []
    with app.transaction() as session:
        c = session.get(LegalComplaint, complaint_id, with_for_update=True)
        if c is None:
            raise NotFound(f"no complaint {complaint_id}")
        if c.status == "decided":
            raise Conflict(f"complaint {complaint_id} is decided already ({c.outcome})")
        case = session.get(Case, c.case_id)
        assert case is not None
        context = {"source": "complaint", "complaint_id": c.id, "outcome": outcome,
                   **({"order_id": c.order_id} if c.order_id else {})}
        last = current_decision(session, case.id)
        if outcome == "reinstated":
            result = enforce(session, app, case, violating=False, category=None,
                             reason=f"Complaint #{c.id} upheld: {reason.strip()}",
                             context=context, actor=actor, user_id=user_id)
        else:
            # The removal upheld on review: an appeal that confirms it, with a statement.
            result = record_measure(session, app, case, DecisionInput(
                violating=True, reason=f"Complaint #{c.id} rejected: {reason.strip()}",
                category=(last.category if last is not None and last.category
                          else "perpetrator_content"), kind="appeal"),
                context=context, actor=actor, user_id=user_id)
        done.append(result)
        now = utcnow()
        c.status, c.outcome, c.reason = "decided", outcome, reason.strip()
        c.decided_at, c.decided_by, c.decision_id = now, actor, result.decision_id
        c.response = _response(outcome, c.reason, app.settings.notice_redress_url)
        queue_event(session, "complaint.decided", f"warding-complaint{c.id}-decided",
                    {"complaint_id": c.id, "case_id": c.case_id, "outcome": outcome,
                     "complainant": c.complainant, "response": c.response,
                     "item": {"item_id": c.item_id, "location": c.location}},
                    case_id=c.case_id)
        record(session, ComplaintChanged(c.id, c.case_id, "decided", outcome), actor)
        answer = complaint_json(c)
    answer["actions"] = run_now(app, done)
    return answer
