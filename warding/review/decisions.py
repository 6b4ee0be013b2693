"""Decisions on cases. A decision is never edited: an appeal adds a new decision
that supersedes the last one, so the history stays whole."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from warding.audit.log import record
from warding.cases.categories import BANK_TO_POLICY, POLICY_CATEGORIES
from warding.cases.claims import claim_active
from warding.cases.queries import escalated_by
from warding.db.models import Case, Decision, User
from warding.errors import Conflict, InvalidInput, NotFound
from warding.events import DecisionRecorded

# Art. 1(3): material disseminated for these purposes is not terrorist content.
EXEMPTIONS = ("journalism", "research", "education", "art", "counter_speech")
Kind = Literal["decision", "appeal", "escalation"]


@dataclass(frozen=True)
class DecisionInput:
    violating: bool
    reason: str
    category: str | None = None
    exemption: str | None = None
    kind: Kind = "decision"


def policy_category(label: object) -> str:
    """The policy category for a bank label; unknown or missing labels count as perpetrator content
    only when nothing better is known, so reviewers can see the choice in the reason."""
    if isinstance(label, str):
        if label in POLICY_CATEGORIES:
            return label
        if label in BANK_TO_POLICY:
            return BANK_TO_POLICY[label]
    return "perpetrator_content"


def validate(d: DecisionInput) -> None:
    if not d.reason or not d.reason.strip():
        raise InvalidInput("a decision needs a reason")
    if d.kind not in ("decision", "appeal", "escalation"):
        raise InvalidInput(f"unknown decision kind {d.kind!r}")
    if d.exemption is not None and d.exemption not in EXEMPTIONS:
        raise InvalidInput(f"unknown exemption {d.exemption!r}; use one of {', '.join(EXEMPTIONS)}")
    if d.violating:
        if d.exemption is not None:
            raise InvalidInput(
                "material under the journalism / research / education / art / counter-speech "
                "exemption is not violating: decide 'not violating' with the exemption"
            )
        if d.category not in POLICY_CATEGORIES:
            raise InvalidInput(
                f"a violating decision needs a policy category: {', '.join(POLICY_CATEGORIES)}"
            )
    elif d.category is not None and d.category not in POLICY_CATEGORIES:
        raise InvalidInput(f"unknown policy category {d.category!r}")


def get_case(session: Session, case_id: int) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(f"no case {case_id}")
    return case


def current_decision(session: Session, case_id: int) -> Decision | None:
    return session.execute(
        select(Decision)
        .where(Decision.case_id == case_id, Decision.kind != "escalation")
        .order_by(Decision.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def _check_lock(session: Session, case: Case, reviewer_id: int | None) -> None:
    """A case claimed by someone else cannot be decided by anybody else while the claim lasts."""
    if reviewer_id is None or case.assigned_to in (None, reviewer_id):
        return
    if claim_active(case):
        holder = session.get(User, case.assigned_to)
        who = holder.username if holder is not None else "another reviewer"
        raise Conflict(f"case {case.id} is claimed by {who}; it is theirs to decide for now")


def decide(
    session: Session,
    case_id: int,
    d: DecisionInput,
    *,
    actor: str,
    reviewer_id: int | None,
    automated: bool = False,
) -> Decision:
    """Record a decision (or an appeal that reverses the last one, or an escalation).

    The case row is locked (``SELECT … FOR UPDATE`` where the database has it; SQLite
    serialises writers anyway), so two reviewers deciding at once cannot both record a
    first decision. Rules: a case someone else has claimed waits for them; an escalated
    case gets its second opinion from someone other than the person who escalated it;
    only an undecided case can be escalated; an appeal needs a decision to supersede."""
    validate(d)
    case = session.get(Case, case_id, with_for_update=True)
    if case is None:
        raise NotFound(f"no case {case_id}")
    last = current_decision(session, case_id)
    if d.kind == "decision" and last is not None:
        raise Conflict(f"case {case_id} is already decided; record an appeal to change the outcome")
    if d.kind == "appeal" and last is None:
        raise Conflict(f"case {case_id} has no decision to appeal")
    if d.kind == "escalation" and last is not None:
        raise Conflict(f"case {case_id} is already decided; record an appeal to change the outcome")
    if not automated:
        _check_lock(session, case, reviewer_id)
        if (d.kind == "decision" and case.status == "escalated" and reviewer_id is not None
                and escalated_by(session, case_id) == reviewer_id):
            raise Conflict(f"you asked for a second opinion on case {case_id}: "
                           "another reviewer has to decide it")
    decision = Decision(
        case_id=case.id,
        reviewer_id=reviewer_id,
        kind=d.kind,
        violating=d.violating,
        category=d.category,
        reason=d.reason.strip(),
        exemption=d.exemption,
        automated=automated,
        supersedes_id=last.id if (d.kind == "appeal" and last is not None) else None,
    )
    session.add(decision)
    case.status = "escalated" if d.kind == "escalation" else "decided"
    case.assigned_to = None
    session.flush()
    record(
        session,
        DecisionRecorded(case.id, decision.id, d.kind, d.violating, d.category, decision.reason,
                         d.exemption, automated),
        actor,
    )
    return decision
