"""Webhook events for the platform: an outbox written with the case, delivered with retries.

When intake (or a scan) opens a case and ``event_webhook_url`` is set, a
``webhook_events`` row is written in the same transaction as the case
(:func:`queue_case_opened`), so the platform hears of every committed case and of
nothing else. :func:`deliver_due` sends the due rows: ``POST`` of the JSON
payload with the headers ``X-Warding-Event``, ``Idempotency-Key`` and the Standard
Webhooks headers ``webhook-id``, ``webhook-timestamp`` and ``webhook-signature``
(signed with ``webhook_secret``, as the action webhook). A 2xx answer marks the event
``done``; anything else is retried with the action retry policy
(``action_max_attempts``, ``action_retry_base_seconds`` doubling up to
``action_retry_max_seconds``, never earlier than a 429's ``Retry-After``) and then
marked ``dead``. Delivery is at least once (a lease keeps two runners from sending
the same event at once); the idempotency key lets the receiver act once.

The web server's action worker calls :func:`deliver_due` on each run and is woken
after each intake request that queued an event.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from warding.actions.executor import RetryPolicy
from warding.actions.sinks import RETRYABLE_4XX, sign
from warding.actions.webhooks import retry_after
from warding.db.models import utcnow
from warding.db.models_intake import WebhookEvent

log = logging.getLogger("warding.intake")

CASE_OPENED = "case.opened"
LEASE = timedelta(minutes=2)
RUNNABLE = ("pending", "failed")
TIMEOUT = 10.0


def queue_case_opened(session: Session, *, case_id: int, item_id: int, source: str,
                      external_id: str, reasons: list[dict[str, Any]], auto_action: bool) -> None:
    """Queue the ``case.opened`` event of a case opened in this transaction."""
    key = f"warding-case{case_id}-opened"
    now = utcnow()
    banks = sorted({str(r["bank"]) for r in reasons if r.get("kind") == "bank_match"})
    payload = {
        "event": CASE_OPENED, "event_id": key, "case_id": case_id,
        "item": {"item_id": item_id, "source": source, "external_id": external_id},
        "reasons": sorted({str(r["kind"]) for r in reasons}), "banks": banks,
        "auto_action": auto_action, "occurred_at": now.isoformat(),
    }
    session.add(WebhookEvent(event_type=CASE_OPENED, case_id=case_id, payload=payload,
                             idempotency_key=key, status="pending", attempts=0,
                             next_attempt_at=now, detail=""))


def _due(session: Session, now: datetime, limit: int) -> list[int]:
    return list(session.execute(
        select(WebhookEvent.id)
        .where(WebhookEvent.status.in_(RUNNABLE), WebhookEvent.next_attempt_at.is_not(None),
               WebhookEvent.next_attempt_at <= now,
               or_(WebhookEvent.lease_until.is_(None), WebhookEvent.lease_until <= now))
        .order_by(WebhookEvent.next_attempt_at, WebhookEvent.id).limit(limit)).scalars())


def _claim(session: Session, event_id: int, now: datetime) -> WebhookEvent | None:
    result = session.execute(
        update(WebhookEvent)
        .where(WebhookEvent.id == event_id, WebhookEvent.status.in_(RUNNABLE),
               or_(WebhookEvent.lease_until.is_(None), WebhookEvent.lease_until <= now))
        .values(lease_until=now + LEASE).execution_options(synchronize_session=False))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return session.get(WebhookEvent, event_id)


def _send(url: str, secret: str | None, event_type: str, key: str,
          payload: dict[str, Any]) -> tuple[bool, bool, str, float | None]:
    """(delivered, worth retrying, detail, Retry-After seconds or None)."""
    body = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    headers = {"Content-Type": "application/json", "Idempotency-Key": key,
               "X-Warding-Event": event_type, **sign(secret, key, body)}
    try:
        response = httpx.post(url, content=body, headers=headers, timeout=TIMEOUT)
    except httpx.HTTPError as exc:
        return False, True, f"event webhook unreachable: {exc or type(exc).__name__}", None
    code = response.status_code
    if 200 <= code < 300:
        return True, False, f"event webhook answered {code}", None
    wait = retry_after(response.headers) if code in (429, 503) else None
    return False, not (400 <= code < 500) or code in RETRYABLE_4XX, \
        f"event webhook answered {code}", wait


def deliver_due(app: Any, *, limit: int = 200, now: datetime | None = None) -> int:
    """Send the due events (nothing when ``event_webhook_url`` is unset); how many were
    delivered."""
    url = app.settings.event_webhook_url
    if not url:
        return 0
    policy = RetryPolicy.from_settings(app.settings)
    clock = now or utcnow()
    delivered = 0
    with app.transaction() as session:
        ids = _due(session, clock, limit)
    for event_id in ids:
        with app.transaction() as session:
            event = _claim(session, event_id, clock)
            if event is None:
                continue
            event_type, key, payload = event.event_type, event.idempotency_key, dict(event.payload)
        ok, retry, detail, wait = _send(url, app.settings.webhook_secret, event_type, key,
                                        payload)
        with app.transaction() as session:
            event = session.get(WebhookEvent, event_id)
            assert event is not None
            event.attempts += 1
            event.detail, event.lease_until = detail, None
            if ok:
                event.status, event.next_attempt_at = "done", None
                delivered += 1
            elif retry and event.attempts < app.settings.action_max_attempts:
                event.status = "failed"
                event.next_attempt_at = clock + policy.delay(event.attempts, key, wait)
            else:
                event.status, event.next_attempt_at = "dead", None
                log.warning("event %s dead after %d attempts: %s", key, event.attempts, detail)
    return delivered


def events_of_case(session: Session, case_id: int) -> list[dict[str, Any]]:
    """The webhook events of one case, with their delivery state."""
    rows = session.execute(select(WebhookEvent).where(WebhookEvent.case_id == case_id)
                           .order_by(WebhookEvent.id)).scalars()
    return [{"event": e.event_type, "event_id": e.idempotency_key, "status": e.status,
             "attempts": e.attempts, "detail": e.detail} for e in rows]


def queue_event(session: Session, event_type: str, key: str, payload: dict[str, Any],
                case_id: int | None = None) -> bool:
    """Queue any event for the event webhook once per ``key`` (legal alerts, answers to
    notifiers and complainants); False when an event with that key exists already."""
    exists = session.execute(select(WebhookEvent.id).where(
        WebhookEvent.idempotency_key == key)).scalar_one_or_none()
    if exists is not None:
        return False
    now = utcnow()
    body = {"event": event_type, "event_id": key, "occurred_at": now.isoformat(), **payload}
    session.add(WebhookEvent(event_type=event_type, case_id=case_id, payload=body,
                             idempotency_key=key, status="pending", attempts=0,
                             next_attempt_at=now, detail=""))
    return True
