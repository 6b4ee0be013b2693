"""Imminent threat to life (TCO Art. 14(5)): a provider that becomes aware of terrorist
content involving an imminent threat to life informs the competent authorities at once.

A person flags the case (``POST /api/legal/cases/{id}/threat-to-life``); the flag is
audited and the configured law-enforcement contact (``WARDING_LAW_ENFORCEMENT_WEBHOOK_URL``)
is sent the case at once, signed like every webhook, and retried by the server's worker
until it answers. Without the setting the flag is recorded and shown as not sent:
nothing leaves the machine that the operator did not configure.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from warding.audit.log import record
from warding.db.models import Case, ContentItem, utcnow
from warding.db.models_legal import ThreatAlert
from warding.errors import InvalidInput, NotFound
from warding.legal.events import ThreatToLifeFlagged

MAX_ATTEMPTS = 20


def alert_json(a: ThreatAlert) -> dict[str, Any]:
    return {"id": a.id, "case_id": a.case_id, "flagged_by": a.flagged_by, "note": a.note,
            "flagged_at": a.flagged_at.isoformat(), "status": a.status,
            "attempts": a.attempts,
            "notified_at": a.notified_at.isoformat() if a.notified_at else None,
            "detail": a.detail}


def flag(session: Session, settings: Any, case_id: int, note: str, *, actor: str) -> ThreatAlert:
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(f"no case {case_id}")
    if not note.strip():
        raise InvalidInput("note: what makes the threat imminent")
    status = "pending" if settings.law_enforcement_webhook_url else "not_configured"
    alert = ThreatAlert(case_id=case.id, flagged_by=actor, note=note.strip(), status=status,
                        attempts=0, detail="" if status == "pending" else
                        "WARDING_LAW_ENFORCEMENT_WEBHOOK_URL is not set: call the authority")
    session.add(alert)
    case.severity = 100
    session.flush()
    reason = {"kind": "threat_to_life", "alert_id": alert.id}
    case.reasons = [*(case.reasons or []), reason]
    record(session, ThreatToLifeFlagged(alert.id, case.id, "flagged", note.strip()), actor)
    return alert


def alerts_of_case(session: Session, case_id: int) -> list[dict[str, Any]]:
    return [alert_json(a) for a in session.execute(select(ThreatAlert).where(
        ThreatAlert.case_id == case_id).order_by(ThreatAlert.id)).scalars()]


def send_pending(app: Any, alert_id: int | None = None) -> int:
    """Send pending alerts to the law-enforcement contact; how many were delivered."""
    from warding.intake.outbox import _send

    url = app.settings.law_enforcement_webhook_url
    if not url:
        return 0
    with app.transaction() as session:
        query = select(ThreatAlert.id).where(ThreatAlert.status.in_(("pending", "failed")),
                                             ThreatAlert.attempts < MAX_ATTEMPTS)
        if alert_id is not None:
            query = query.where(ThreatAlert.id == alert_id)
        ids = list(session.execute(query).scalars())
    sent = 0
    for aid in ids:
        with app.transaction() as session:
            a = session.get(ThreatAlert, aid)
            assert a is not None
            case = session.get(Case, a.case_id)
            item = session.get(ContentItem, case.item_id) if case is not None else None
            payload = {"event": "threat_to_life.flagged", "alert_id": a.id,
                       "case_id": a.case_id, "note": a.note,
                       "flagged_at": a.flagged_at.isoformat(),
                       "provider": app.settings.provider_name,
                       "contact_point": app.settings.provider_contact_point,
                       "item": None if item is None else {
                           "source": item.source, "external_id": item.external_id,
                           "url": item.url, "account": item.account,
                           "posted_at": item.posted_at.isoformat() if item.posted_at else None,
                           "text": item.text}}
        ok, _retry, detail, _wait = _send(url, app.settings.webhook_secret,
                                          "threat_to_life.flagged", f"warding-threat{aid}",
                                          payload)
        with app.transaction() as session:
            a = session.get(ThreatAlert, aid)
            assert a is not None
            a.attempts += 1
            a.detail = detail
            if ok:
                a.status, a.notified_at = "notified", utcnow()
                sent += 1
                record(session, ThreatToLifeFlagged(a.id, a.case_id, "notified", detail),
                       "system")
            else:
                a.status = "failed"
    return sent
