"""Queue and run actions, with retries, exponential backoff and a dead-letter list.

Each (decision, sink) pair gets one ``Action`` row with a unique idempotency key,
so an action is requested once however often this runs. Its ``ActionSchedule``
says when it is next due. Running an action takes three steps, each short:

1. **claim** (one transaction): a conditional UPDATE takes a lease on the action
   (``lease_until``) only if nobody else holds one, so two runners (the web
   request that recorded the decision and the background worker, or two
   servers) never send the same action at the same time;
2. **execute**, outside any transaction: the sink may wait on the network;
3. **record** (one transaction): the attempt goes to the delivery log
   (``ActionAttempt``) and the audit log; a failure is scheduled again after
   ``base * 2**(attempt-1)`` seconds (capped, with up to 10% deterministic
   jitter so retries of many actions do not arrive together) until
   ``max_attempts``, then the action is dead-lettered.

If a runner dies between 1 and 3, the lease runs out and the action is tried
again: delivery is at least once, and the idempotency key lets the receiver
act exactly once.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from warding.actions.base import ActionOutcome, ActionRequest
from warding.audit.log import record
from warding.db.models import Action, Case, ContentItem, Decision, utcnow
from warding.db.models_review import ActionAttempt, ActionSchedule, DecisionContext
from warding.events import ActionDeadLettered, ActionExecuted

log = logging.getLogger("warding.actions")

DEFAULT_MAX_ATTEMPTS = 8
LEASE = timedelta(minutes=2)
RUNNABLE = ("pending", "failed", "sending")
FINAL = ("done", "skipped", "dead")


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    base_seconds: float = 30.0
    max_seconds: float = 3600.0

    @classmethod
    def from_settings(cls, settings: Any) -> RetryPolicy:
        return cls(int(settings.action_max_attempts), float(settings.action_retry_base_seconds),
                   float(settings.action_retry_max_seconds))

    def delay(self, attempt: int, key: str, retry_after: float | None = None) -> timedelta:
        """Wait after failed attempt number ``attempt`` (1-based); never shorter than the
        receiver's ``retry_after`` (seconds), even beyond ``max_seconds``."""
        raw = self.base_seconds * (2.0 ** max(0, attempt - 1))
        digest = hashlib.sha256(f"{key}:{attempt}".encode()).digest()
        jitter = int.from_bytes(digest[:4], "big") / 2**32 * 0.1
        backoff = min(self.max_seconds, raw * (1.0 + jitter))
        return timedelta(seconds=max(backoff, retry_after or 0.0))


def action_key(case_id: int, decision_id: int, sink: str) -> str:
    """The idempotency key of the action of ``sink`` for a decision."""
    return f"warding-case{case_id}-decision{decision_id}-{sink}"


def queue_actions(session: Session, decision: Decision, sink_names: list[str], *,
                  max_attempts: int = DEFAULT_MAX_ATTEMPTS,
                  now: datetime | None = None) -> list[Action]:
    """One pending action per sink for ``decision``, due at once. Escalations act on nothing."""
    if decision.kind == "escalation":
        return []
    when = now or utcnow()
    actions = []
    for name in sink_names:
        action = Action(
            case_id=decision.case_id,
            decision_id=decision.id,
            sink=name,
            idempotency_key=action_key(decision.case_id, decision.id, name),
            status="pending",
        )
        session.add(action)
        actions.append(action)
    session.flush()
    for action in actions:
        session.add(ActionSchedule(action_id=action.id, next_attempt_at=when,
                                   max_attempts=max_attempts))
    session.flush()
    return actions


def build_request(session: Session, action: Action) -> ActionRequest:
    decision = session.get(Decision, action.decision_id)
    case = session.get(Case, action.case_id)
    assert decision is not None and case is not None
    item = session.get(ContentItem, case.item_id)
    assert item is not None
    context = session.get(DecisionContext, decision.id)
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
        kind=decision.kind,
        supersedes_decision_id=decision.supersedes_id,
        context=dict(context.context) if context is not None else {},
    )


def due_action_ids(session: Session, now: datetime, *, case_id: int | None = None,
                   action_ids: list[int] | None = None) -> list[int]:
    """Actions that may run now: not final, due, and not leased by a live runner."""
    query = (
        select(Action.id)
        .join(ActionSchedule, ActionSchedule.action_id == Action.id)
        .where(Action.status.in_(RUNNABLE),
               ActionSchedule.next_attempt_at.is_not(None),
               ActionSchedule.next_attempt_at <= now,
               or_(ActionSchedule.lease_until.is_(None), ActionSchedule.lease_until <= now))
    )
    if case_id is not None:
        query = query.where(Action.case_id == case_id)
    if action_ids is not None:
        query = query.where(Action.id.in_(action_ids))
    return list(session.execute(query.order_by(ActionSchedule.next_attempt_at, Action.id))
                .scalars())


def _claim(session: Session, action_id: int, now: datetime) -> datetime | None:
    """Take the lease on one action; None when another runner holds it or it is not due."""
    lease = now + LEASE
    result = session.execute(
        update(ActionSchedule)
        .where(ActionSchedule.action_id == action_id,
               ActionSchedule.next_attempt_at.is_not(None),
               ActionSchedule.next_attempt_at <= now,
               or_(ActionSchedule.lease_until.is_(None), ActionSchedule.lease_until <= now))
        .values(lease_until=lease)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return None
    action = session.get(Action, action_id)
    if action is None or action.status not in RUNNABLE:
        return None
    action.status = "sending"
    return lease


def _record(session: Session, action_id: int, outcome: ActionOutcome, *, started: datetime,
            duration_ms: float, policy: RetryPolicy,
            clock: datetime | None = None) -> dict[str, Any]:
    action = session.get(Action, action_id)
    schedule = session.get(ActionSchedule, action_id)
    assert action is not None and schedule is not None
    now = clock or utcnow()
    action.attempts += 1
    attempt = action.attempts
    next_at: datetime | None = None
    status: str
    if outcome.status in ("done", "skipped"):
        status = outcome.status
    elif outcome.retry and attempt < schedule.max_attempts:
        status = "failed"
        next_at = now + policy.delay(attempt, action.idempotency_key, outcome.retry_after)
    else:
        status = "dead"
    action.status, action.detail = status, outcome.detail
    schedule.next_attempt_at = next_at
    schedule.lease_until = None
    if status == "dead":
        schedule.dead_at = now
    session.add(ActionAttempt(
        action_id=action.id, attempt=attempt, started_at=started, finished_at=utcnow(),
        status=outcome.status, detail=outcome.detail, http_status=outcome.http_status,
        duration_ms=round(duration_ms, 1), next_attempt_at=next_at,
    ))
    record(session, ActionExecuted(action.id, action.case_id, action.sink, outcome.status,
                                   outcome.detail, attempt,
                                   next_at.isoformat() if next_at else None), "system")
    if status == "dead":
        record(session, ActionDeadLettered(action.id, action.case_id, action.sink, attempt,
                                           outcome.detail), "system")
    return {"action_id": action.id, "sink": action.sink, "status": status,
            "detail": outcome.detail, "attempts": attempt,
            "next_attempt_at": next_at.isoformat() if next_at else None}


def run_pending(app: Any, case_id: int | None = None, *, now: datetime | None = None,
                action_ids: list[int] | None = None) -> list[dict[str, Any]]:
    """Run every due action (of one case, or of the given ids); one outcome per action run.

    ``now`` is the clock used to decide what is due and when a failure is tried next
    (tests move it forward to reach a retry); the delivery log records real times."""
    policy = RetryPolicy.from_settings(app.settings)
    sinks = {s.name: s for s in app.action_sinks()}
    clock = now or utcnow()
    with app.transaction() as session:
        ids = due_action_ids(session, clock, case_id=case_id, action_ids=action_ids)
    results = []
    for action_id in ids:
        with app.transaction() as session:
            if _claim(session, action_id, clock) is None:
                continue
            action = session.get(Action, action_id)
            assert action is not None
            request = build_request(session, action)
            sink_name = action.sink
        sink = sinks.get(sink_name)
        started = utcnow()
        t0 = time.perf_counter()
        if sink is None:
            outcome = ActionOutcome("failed", f"sink {sink_name!r} is not configured "
                                              "(WARDING_ACTION_SINKS)")
        else:
            try:
                outcome = sink.execute(request)
            except Exception as exc:  # a broken plug-in must not stop the other actions
                log.exception("action sink %s raised", sink.name)
                outcome = ActionOutcome("failed", f"sink {sink.name} raised {type(exc).__name__}")
        duration = (time.perf_counter() - t0) * 1000
        with app.transaction() as session:
            results.append(_record(session, action_id, outcome, started=started,
                                   duration_ms=duration, policy=policy, clock=now))
    return results
