"""Queue and run actions. Each (decision, sink) pair gets one Action row with a
unique idempotency key, so an action is requested once however often this runs."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from warding.actions.base import ActionRequest
from warding.audit.log import record
from warding.db.models import Action, Case, ContentItem, Decision
from warding.events import ActionExecuted

MAX_ATTEMPTS = 5


def queue_actions(session: Session, decision: Decision, sink_names: list[str]) -> list[Action]:
    if decision.kind == "escalation":
        return []
    actions = []
    for name in sink_names:
        action = Action(
            case_id=decision.case_id,
            decision_id=decision.id,
            sink=name,
            idempotency_key=f"warding-case{decision.case_id}-decision{decision.id}-{name}",
            status="pending",
        )
        session.add(action)
        actions.append(action)
    session.flush()
    return actions


def _request(session: Session, action: Action) -> ActionRequest:
    decision = session.get(Decision, action.decision_id)
    case = session.get(Case, action.case_id)
    assert decision is not None and case is not None
    item = session.get(ContentItem, case.item_id)
    assert item is not None
    return ActionRequest(
        idempotency_key=action.idempotency_key,
        case_id=case.id,
        decision_id=decision.id,
        violating=decision.violating,
        category=decision.category,
        reason=decision.reason,
        exemption=decision.exemption,
        automated=decision.automated,
        item={"source": item.source, "external_id": item.external_id, "url": item.url,
              "account": item.account},
    )


def run_pending(app: Any, case_id: int | None = None) -> list[dict[str, Any]]:
    """Execute pending and failed (retryable) actions; each outcome in its own transaction."""
    sinks = {s.name: s for s in app.action_sinks()}
    with app.transaction() as session:
        query = select(Action.id).where(Action.status.in_(("pending", "failed")),
                                        Action.attempts < MAX_ATTEMPTS)
        if case_id is not None:
            query = query.where(Action.case_id == case_id)
        ids = list(session.execute(query.order_by(Action.id)).scalars())
    results = []
    for action_id in ids:
        with app.transaction() as session:
            action = session.get(Action, action_id)
            if action is None or action.status in ("done", "skipped"):
                continue
            sink = sinks.get(action.sink)
            if sink is None:
                action.status, action.detail = "failed", f"sink {action.sink!r} is not configured"
            else:
                outcome = sink.execute(_request(session, action))
                action.status, action.detail = outcome.status, outcome.detail
            action.attempts += 1
            record(session, ActionExecuted(action.id, action.case_id, action.sink, action.status,
                                           action.detail), "system")
            results.append({"action_id": action.id, "sink": action.sink, "status": action.status,
                            "detail": action.detail})
    return results
