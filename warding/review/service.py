"""Decide cases and carry out the resulting actions (the review → action step)."""

from __future__ import annotations

from typing import Any

from warding.actions.executor import queue_actions, run_pending
from warding.audit.log import record
from warding.db.engine import begin_write
from warding.errors import Conflict, InvalidInput, WardingError
from warding.events import BulkDecisionRecorded
from warding.review.context import copies_of
from warding.review.decisions import DecisionInput, decide

MAX_BULK = 500


def _queued(actions: list[Any]) -> list[dict[str, Any]]:
    return [{"action_id": a.id, "sink": a.sink, "status": "pending", "detail": "",
             "attempts": 0, "next_attempt_at": None} for a in actions]


def record_decision(app: Any, case_id: int, d: DecisionInput, *, actor: str,
                    reviewer_id: int | None, automated: bool = False,
                    run_actions: bool = True) -> dict[str, Any]:
    """Decision and its queued actions commit together; the actions then run here, or,
    with ``run_actions=False``, are left to the action worker (which the caller wakes)."""
    with app.transaction() as session:
        decision = decide(session, case_id, d, actor=actor, reviewer_id=reviewer_id,
                          automated=automated)
        actions = queue_actions(session, decision, list(app.settings.action_sinks),
                                max_attempts=app.settings.action_max_attempts)
        decision_id = decision.id
        action_ids = [a.id for a in actions]
        queued = _queued(actions)
    if not run_actions:
        return {"case_id": case_id, "decision_id": decision_id, "actions": queued}
    results = run_pending(app, action_ids=action_ids) if action_ids else []
    return {"case_id": case_id, "decision_id": decision_id, "actions": results}


def record_bulk_decision(app: Any, case_id: int, copy_ids: list[int], d: DecisionInput, *,
                         actor: str, reviewer_id: int | None,
                         run_actions: bool = True) -> dict[str, Any]:
    """Decide ``case_id`` and the chosen copies of its item with one decision.

    Only cases that are exact copies of the primary (``copies_of``) can be included,
    so a bulk decision can never reach an unrelated case. Each case gets its own
    decision row, actions and ``case.decided`` event, plus one ``case.bulk_decided``
    event listing them all, in one transaction. A copy that cannot be decided now
    (claimed by someone else, decided meanwhile) is skipped and reported; the
    primary case must succeed or nothing is recorded."""
    if d.kind != "decision":
        raise InvalidInput("a bulk decision is a first decision; appeal copies one by one")
    wanted = list(dict.fromkeys(i for i in copy_ids if i != case_id))
    if len(wanted) > MAX_BULK:
        raise InvalidInput(f"at most {MAX_BULK} copies in one bulk decision")
    decided: list[dict[str, Any]] = []
    skipped: list[dict[str, Any]] = []
    all_actions: list[int] = []
    queued: list[dict[str, Any]] = []
    with app.transaction() as session:
        begin_write(session)  # SQLite: one real transaction around the savepoints below
        allowed = {c["case_id"] for c in copies_of(session, case_id)}
        stray = [i for i in wanted if i not in allowed]
        if stray:
            raise InvalidInput(
                f"case(s) {', '.join(map(str, stray))} are not waiting copies of case {case_id}")
        sinks = list(app.settings.action_sinks)
        for target in [case_id, *wanted]:
            note = "" if target == case_id else f" [bulk: copy of case #{case_id}]"
            one = DecisionInput(violating=d.violating, reason=d.reason + note,
                                category=d.category, exemption=d.exemption, kind="decision")
            try:
                with session.begin_nested():
                    decision = decide(session, target, one, actor=actor,
                                      reviewer_id=reviewer_id)
                    actions = queue_actions(session, decision, sinks,
                                            max_attempts=app.settings.action_max_attempts)
            except (Conflict, WardingError) as exc:
                if target == case_id:
                    raise
                skipped.append({"case_id": target, "reason": str(exc)})
                continue
            all_actions += [a.id for a in actions]
            queued += _queued(actions)
            decided.append({"case_id": target, "decision_id": decision.id})
        record(session, BulkDecisionRecorded(
            case_id, [x["case_id"] for x in decided], [x["decision_id"] for x in decided],
            d.violating, d.category), actor)
    if not run_actions:
        return {"case_id": case_id, "decided": decided, "skipped": skipped, "actions": queued}
    results = run_pending(app, action_ids=all_actions) if all_actions else []
    return {"case_id": case_id, "decided": decided, "skipped": skipped, "actions": results}
