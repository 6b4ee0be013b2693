"""Notices of illegal content (DSA Art. 16).

Anyone may notify: the notice names the content (``locations``), explains why it is
illegal, gives the notifier's name and e-mail (optional for some offences) and states
that it is made in good faith (``bona_fide``). Each location's item gets a case with
the reason ``notice`` (a trusted flagger's notice, DSA Art. 22, with higher priority),
reviewed like any other case: the notice is evidence, not a decision. When every case
of the notice is decided, the notifier is told the outcome (event ``notice.decided``,
and in ``GET /api/legal/notices/{id}``), with the redress open to them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from warding.audit.log import record
from warding.db.models import Case, utcnow
from warding.db.models_legal import LegalNotice, LegalNoticeItem
from warding.errors import InvalidInput, NotFound
from warding.intake.outbox import queue_event
from warding.legal.events import NoticeChanged
from warding.legal.locate import case_with_reason, parse_locations, resolve
from warding.review.decisions import current_decision

STATUSES = ("open", "decided")
SEVERITY = {True: 90, False: 60}  # trusted flaggers' notices first (DSA Art. 22(1))


def create_notice(session: Session, body: dict[str, Any], *, actor: str) -> dict[str, Any]:
    explanation = str(body.get("explanation") or "").strip()
    if not explanation:
        raise InvalidInput("explanation: why the content is illegal (DSA Art. 16(2)(a))")
    if body.get("bona_fide") is not True:
        raise InvalidInput("bona_fide: the notifier confirms the notice is accurate and "
                           "complete, in good faith (DSA Art. 16(2)(d))")
    locations = parse_locations(list(body.get("locations") or []))
    trusted = bool(body.get("trusted_flagger"))
    email = str(body.get("notifier_email") or "").strip() or None
    if email is not None and ("@" not in email or len(email) > 320):
        raise InvalidInput("notifier_email is not an e-mail address")
    notice = LegalNotice(explanation=explanation, locations=[x.as_dict() for x in locations],
                         notifier_name=str(body.get("notifier_name") or "").strip() or None,
                         notifier_email=email, bona_fide=True, trusted_flagger=trusted,
                         received_at=utcnow(), status="open")
    session.add(notice)
    session.flush()
    reason = {"kind": "notice", "notice_id": notice.id, "trusted_flagger": trusted}
    cases = []
    for loc in locations:
        item, _stored = resolve(session, loc, f"notice:{notice.id}")
        if session.execute(select(LegalNoticeItem.id).where(
                LegalNoticeItem.notice_id == notice.id,
                LegalNoticeItem.item_id == item.id)).first() is not None:
            continue
        case = case_with_reason(session, item, reason, actor, severity=SEVERITY[trusted])
        session.add(LegalNoticeItem(notice_id=notice.id, item_id=item.id, case_id=case.id,
                                    location=loc.as_dict()))
        cases.append(case.id)
    session.flush()
    record(session, NoticeChanged(notice.id, "received", cases, None, trusted), actor)
    return notice_json(session, notice)


def notice_json(session: Session, n: LegalNotice) -> dict[str, Any]:
    links = list(session.execute(select(LegalNoticeItem).where(
        LegalNoticeItem.notice_id == n.id).order_by(LegalNoticeItem.id)).scalars())
    return {"id": n.id, "explanation": n.explanation, "locations": n.locations,
            "notifier_name": n.notifier_name, "notifier_email": n.notifier_email,
            "bona_fide": n.bona_fide, "trusted_flagger": n.trusted_flagger,
            "received_at": n.received_at.isoformat(), "status": n.status,
            "outcome": n.outcome, "decided_at": n.decided_at.isoformat() if n.decided_at else None,
            "response": n.response,
            "cases": [{"case_id": x.case_id, "item_id": x.item_id, "location": x.location}
                      for x in links]}


def get_notice(session: Session, notice_id: int) -> dict[str, Any]:
    n = session.get(LegalNotice, notice_id)
    if n is None:
        raise NotFound(f"no notice {notice_id}")
    return notice_json(session, n)


def list_notices(session: Session, status: str | None = None, *,
                 case_ids: list[int] | None = None, limit: int = 100,
                 offset: int = 0) -> list[dict[str, Any]]:
    if status is not None and status not in STATUSES:
        raise InvalidInput(f"status is one of {', '.join(STATUSES)}")
    query = select(LegalNotice).order_by(LegalNotice.id.desc())
    if status is not None:
        query = query.where(LegalNotice.status == status)
    if case_ids is not None:
        query = query.where(LegalNotice.id.in_(select(LegalNoticeItem.notice_id).where(
            LegalNoticeItem.case_id.in_(case_ids))))
    return [notice_json(session, n) for n in
            session.execute(query.limit(limit).offset(offset)).scalars()]


def answer_decided(session: Session, redress_url: str | None = None) -> int:
    """Tell notifiers whose notices are now fully decided; how many were answered."""
    answered = 0
    for n in session.execute(select(LegalNotice).where(LegalNotice.status == "open")).scalars():
        links = list(session.execute(select(LegalNoticeItem).where(
            LegalNoticeItem.notice_id == n.id)).scalars())
        outcomes = []
        for link in links:
            case = session.get(Case, link.case_id)
            last = current_decision(session, link.case_id) if case is not None else None
            if last is None:
                break
            outcomes.append((link, last))
        else:
            if not outcomes:
                continue
            removed = sum(1 for _, d in outcomes if d.violating)
            n.outcome = ("removed" if removed == len(outcomes) else
                         "not_removed" if removed == 0 else "partly_removed")
            n.status, n.decided_at = "decided", max(d.created_at for _, d in outcomes)
            lines = [f"- {link.location.get('url') or link.location}: "
                     + ("access disabled" if d.violating else "no action: not found to be "
                        "illegal or against the terms of service")
                     for link, d in outcomes]
            n.response = ("Thank you for your notice. Our decision:\n" + "\n".join(lines)
                          + "\n\nYou can ask for this decision to be reviewed again (Regulation "
                          "(EU) 2022/2065, Art. 20) or take it to a certified out-of-court "
                          "dispute settlement body (Art. 21)."
                          + (f" More: {redress_url}." if redress_url else "") + "\n")
            queue_event(session, "notice.decided", f"warding-notice{n.id}-decided",
                        {"notice_id": n.id, "outcome": n.outcome,
                         "notifier": {"name": n.notifier_name, "email": n.notifier_email},
                         "response": n.response,
                         "cases": [link.case_id for link, _ in outcomes]})
            record(session, NoticeChanged(n.id, "answered", [x.case_id for x in links],
                                          n.outcome, n.trusted_flagger), "system")
            answered += 1
    return answered
