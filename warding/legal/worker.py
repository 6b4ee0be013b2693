"""The legal clock's background work, run by the web server's action worker on each pass
(and by ``warding legal tick``): alerts of removal orders near or past their deadline,
statements of reasons released when a non-disclosure period ends, notifiers answered once
their notices are decided, preservations recorded for removals decided in review, and
threat-to-life alerts sent."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from warding.audit.log import record
from warding.db.models import utcnow
from warding.db.models_legal import RemovalOrder
from warding.db.models_review import StatementOfReasons
from warding.intake.outbox import queue_event
from warding.legal.events import RemovalOrderChanged, StatementReleased
from warding.legal.notices import answer_decided
from warding.legal.preservation import ensure_all
from warding.legal.threat import send_pending


def order_alerts(session: Any, settings: Any) -> int:
    """Queue ``removal_order.due_soon`` and ``removal_order.overdue`` once per order."""
    now = utcnow()
    soon = now + timedelta(minutes=float(settings.legal_alert_minutes))
    queued = 0
    orders = session.execute(select(RemovalOrder).where(
        RemovalOrder.status == "open", RemovalOrder.due_at <= soon)).scalars()
    for order in orders:
        assert order.due_at is not None
        kind = "overdue" if order.due_at < now else "due_soon"
        sent = {(a.get("kind"), a.get("due_at")) for a in order.alerts or []}
        if (kind, order.due_at.isoformat()) in sent:
            continue
        order.alerts = [*(order.alerts or []), {"kind": kind, "at": now.isoformat(),
                                                "due_at": order.due_at.isoformat()}]
        key = f"warding-order{order.id}-{kind}-{int(order.due_at.timestamp())}"
        queue_event(session, f"removal_order.{kind}", key,
                    {"order_id": order.id, "reference": order.reference,
                     "due_at": order.due_at.isoformat(),
                     "seconds_left": round((order.due_at - now).total_seconds())})
        record(session, RemovalOrderChanged(order.id, f"alert_{kind}", "open",
                                            f"due {order.due_at.isoformat()}"), "system")
        queued += 1
    return queued


def release_statements(session: Any) -> int:
    """Statements withheld by a removal order whose non-disclosure period has ended."""
    now = utcnow()
    rows = session.execute(select(StatementOfReasons).where(
        StatementOfReasons.withheld_until.is_not(None),
        StatementOfReasons.withheld_until <= now,
        StatementOfReasons.released_at.is_(None))).scalars()
    n = 0
    for s in rows:
        s.released_at = now
        record(session, StatementReleased(s.id, s.case_id), "system")
        n += 1
    return n


def tick(app: Any) -> dict[str, int]:
    with app.transaction() as session:
        alerts = order_alerts(session, app.settings)
        released = release_statements(session)
        answered = answer_decided(session, app.settings.notice_redress_url)
        preserved = ensure_all(session, app.settings)
    notified = send_pending(app)
    return {"order_alerts": alerts, "statements_released": released,
            "notices_answered": answered, "preservations_recorded": preserved,
            "threat_alerts_sent": notified}
