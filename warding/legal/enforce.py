"""Measures the law decides: a removal after an order, a reinstatement after a complaint or
an annulled order. They are recorded as decisions on the item's case (so the history,
statements of reasons, reports and the audit log see them like any other) and run through
the configured action sinks at once, without the review queue: the order or the complaint
decision is the decision. A removal is never a deletion: Warding keeps the item (see
:mod:`warding.legal.preservation`) and tells the platform to disable access, so a
reinstatement can follow."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from warding.actions.executor import queue_actions, run_pending
from warding.db.models import Case, Decision
from warding.db.models_review import DecisionContext
from warding.review.decisions import DecisionInput, Kind, current_decision, decide

# TCO Art. 2(7) grounds of an order -> Warding's policy categories.
GROUND_CATEGORY = {
    "incitement": "incitement_glorification",
    "solicitation": "solicitation_recruitment",
    "participation": "solicitation_recruitment",
    "instruction": "instruction",
    "threat": "threat",
}


@dataclass(frozen=True)
class Enforced:
    case_id: int
    decision_id: int | None  # None: nothing to change (already removed / not removed)
    action_ids: tuple[int, ...] = ()
    note: str = ""


def enforce(session: Session, app: Any, case: Case, *, violating: bool, category: str | None,
            reason: str, context: dict[str, Any], actor: str, user_id: int | None) -> Enforced:
    """Record the measure on ``case`` (a first decision, or one superseding the current
    decision) with its context, and queue its actions. The caller commits, then calls
    :func:`run_now`."""
    last = current_decision(session, case.id)
    if violating and last is not None and last.violating:
        return Enforced(case.id, None, (), f"already removed by decision #{last.id}")
    if not violating and (last is None or not last.violating):
        return Enforced(case.id, None, (), "not removed: nothing to reinstate")
    kind: Kind = "decision" if last is None else "appeal"
    return record_measure(session, app, case, DecisionInput(
        violating=violating, reason=reason, category=category, kind=kind),
        context=context, actor=actor, user_id=user_id)


def record_measure(session: Session, app: Any, case: Case, d: DecisionInput, *,
                   context: dict[str, Any], actor: str, user_id: int | None) -> Enforced:
    """Record ``d`` on ``case`` for ``user_id`` with its context, queue its actions and, for
    a removal, its preservation. The caller commits, then calls :func:`run_now`."""
    # reviewer_id None: an order is not held up by a reviewer's claim on the case.
    decision: Decision = decide(session, case.id, d, actor=actor, reviewer_id=None)
    decision.reviewer_id = user_id
    session.add(DecisionContext(decision_id=decision.id, context=context))
    session.flush()
    actions = queue_actions(session, decision, list(app.settings.action_sinks),
                            max_attempts=app.settings.action_max_attempts)
    if d.violating:
        from warding.legal.preservation import preserve

        preserve(session, app.settings, decision, case,
                 order_id=context.get("order_id"))
    return Enforced(case.id, decision.id, tuple(a.id for a in actions))


def run_now(app: Any, done: list[Enforced]) -> list[dict[str, Any]]:
    """Carry out the queued actions of committed measures at once (no review queue)."""
    ids = [i for e in done for i in e.action_ids]
    return run_pending(app, action_ids=ids) if ids else []
