"""The delivery log and the dead-letter list, and putting a dead action back in the queue."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from warding.audit.log import record
from warding.db.models import Action, utcnow
from warding.db.models_review import ActionAttempt, ActionSchedule
from warding.errors import Conflict, InvalidInput, NotFound
from warding.events import ActionRequeued

STATUSES = ("pending", "sending", "failed", "done", "skipped", "dead")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _action_json(a: Action, s: ActionSchedule | None) -> dict[str, Any]:
    return {
        "id": a.id, "case_id": a.case_id, "decision_id": a.decision_id, "sink": a.sink,
        "status": a.status, "attempts": a.attempts,
        "max_attempts": s.max_attempts if s else None, "detail": a.detail,
        "idempotency_key": a.idempotency_key, "created_at": a.created_at.isoformat(),
        "updated_at": a.updated_at.isoformat(),
        "next_attempt_at": _iso(s.next_attempt_at) if s else None,
        "dead_at": _iso(s.dead_at) if s else None,
    }


def list_actions(session: Session, *, status: str | None = None, sink: str | None = None,
                 case_id: int | None = None, limit: int = 100,
                 offset: int = 0) -> list[dict[str, Any]]:
    """Actions, newest first. ``status="dead"`` is the dead-letter list."""
    if status is not None and status not in STATUSES:
        raise InvalidInput(f"unknown action status {status!r}; use one of {', '.join(STATUSES)}")
    query = (select(Action, ActionSchedule)
             .outerjoin(ActionSchedule, ActionSchedule.action_id == Action.id))
    if status:
        query = query.where(Action.status == status)
    if sink:
        query = query.where(Action.sink == sink)
    if case_id is not None:
        query = query.where(Action.case_id == case_id)
    rows = session.execute(query.order_by(Action.id.desc()).limit(limit).offset(offset))
    return [_action_json(a, s) for a, s in rows]


def status_counts(session: Session) -> dict[str, int]:
    rows = session.execute(select(Action.status, func.count(Action.id)).group_by(Action.status))
    counts = {s: 0 for s in STATUSES}
    counts.update({s: int(n) for s, n in rows})
    return counts


def list_attempts(session: Session, *, action_id: int | None = None, limit: int = 100,
                  offset: int = 0) -> list[dict[str, Any]]:
    """The delivery log: every attempt, newest first."""
    query = (select(ActionAttempt, Action)
             .join(Action, Action.id == ActionAttempt.action_id))
    if action_id is not None:
        query = query.where(ActionAttempt.action_id == action_id)
    rows = session.execute(query.order_by(ActionAttempt.id.desc()).limit(limit).offset(offset))
    return [
        {"id": t.id, "action_id": a.id, "case_id": a.case_id, "sink": a.sink,
         "attempt": t.attempt, "status": t.status, "detail": t.detail,
         "http_status": t.http_status, "duration_ms": t.duration_ms,
         "started_at": t.started_at.isoformat(), "finished_at": t.finished_at.isoformat(),
         "next_attempt_at": _iso(t.next_attempt_at), "idempotency_key": a.idempotency_key}
        for t, a in rows
    ]


def get_action(session: Session, action_id: int) -> dict[str, Any]:
    action = session.get(Action, action_id)
    if action is None:
        raise NotFound(f"no action {action_id}")
    out = _action_json(action, session.get(ActionSchedule, action_id))
    out["attempt_log"] = list_attempts(session, action_id=action_id, limit=1000)
    return out


def requeue(session: Session, action_id: int, *, actor: str, extra_attempts: int,
            now: datetime | None = None) -> dict[str, Any]:
    """Put a dead-lettered (or failed) action back in the queue, due now, with
    ``extra_attempts`` more attempts. The same idempotency key is sent again."""
    action = session.get(Action, action_id)
    if action is None:
        raise NotFound(f"no action {action_id}")
    if action.status not in ("dead", "failed"):
        raise Conflict(f"action {action_id} is {action.status}; only dead-lettered or failed "
                       "actions can be retried")
    schedule = session.get(ActionSchedule, action_id)
    if schedule is None:
        schedule = ActionSchedule(action_id=action_id, max_attempts=action.attempts)
        session.add(schedule)
    schedule.next_attempt_at = now or utcnow()
    schedule.lease_until = None
    schedule.dead_at = None
    schedule.max_attempts = action.attempts + max(1, extra_attempts)
    action.status = "pending"
    record(session, ActionRequeued(action.id, action.case_id, action.sink), actor)
    session.flush()
    return _action_json(action, schedule)
