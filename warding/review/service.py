"""Decide a case and carry out the resulting actions (the review → action step)."""

from __future__ import annotations

from typing import Any

from warding.actions.executor import queue_actions, run_pending
from warding.review.decisions import DecisionInput, decide


def record_decision(app: Any, case_id: int, d: DecisionInput, *, actor: str,
                    reviewer_id: int | None, automated: bool = False) -> dict[str, Any]:
    """Decision and its queued actions commit together; the actions then run."""
    with app.transaction() as session:
        decision = decide(session, case_id, d, actor=actor, reviewer_id=reviewer_id,
                          automated=automated)
        queue_actions(session, decision, list(app.settings.action_sinks))
        decision_id = decision.id
    actions = run_pending(app, case_id)
    return {"case_id": case_id, "decision_id": decision_id, "actions": actions}
