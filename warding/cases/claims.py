"""The claim (lock) that keeps two reviewers from deciding the same case: a reviewer holds
a case for CLAIM_MINUTES from when they took (or renewed) it."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from warding.audit.log import record
from warding.db.models import Case, User, utcnow
from warding.errors import Conflict, NotFound
from warding.events import CaseClaimed, CaseReleased

CLAIM_MINUTES = 15


def claim_active(case: Case, now: datetime | None = None) -> bool:
    """A claim lasts CLAIM_MINUTES from when it was taken (or renewed)."""
    if case.assigned_to is None:
        return False
    return (now or utcnow()) - case.updated_at < timedelta(minutes=CLAIM_MINUTES)


def claim(session: Session, case_id: int, user: User, *, now: datetime | None = None) -> Case:
    """Lock a case for one reviewer for CLAIM_MINUTES, so two never decide the same case.

    A conditional UPDATE takes the lock only if nobody else holds a live one, so two
    reviewers claiming at the same moment cannot both win (on any database)."""
    if not try_claim(session, case_id, user, now=now):
        case = session.get(Case, case_id)
        if case is None:
            raise NotFound(f"no case {case_id}")
        holder = session.get(User, case.assigned_to) if case.assigned_to else None
        who = holder.username if holder is not None else "another reviewer"
        raise Conflict(f"case {case_id} is claimed by {who}")
    case = session.get(Case, case_id)
    assert case is not None
    return case


def try_claim(session: Session, case_id: int, user: User, *,
              now: datetime | None = None) -> bool:
    """Claim if nobody else holds a live claim; False otherwise (or for no such case).
    The UPDATE comes first, so on SQLite the transaction takes the write lock before it
    reads anything (no stale read snapshot to upgrade)."""
    when = now or utcnow()
    cutoff = when - timedelta(minutes=CLAIM_MINUTES)
    result = session.execute(
        update(Case)
        .where(Case.id == case_id,
               or_(Case.assigned_to.is_(None), Case.assigned_to == user.id,
                   Case.updated_at <= cutoff))
        .values(assigned_to=user.id, updated_at=when)
        .execution_options(synchronize_session="fetch")
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    record(session, CaseClaimed(case_id, user.username), user.username)
    return True


def release(session: Session, case_id: int, user: User) -> Case:
    """Give a claimed case back to the queue (only its holder can)."""
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(f"no case {case_id}")
    if case.assigned_to != user.id:
        raise Conflict(f"case {case_id} is not claimed by you")
    case.assigned_to = None
    record(session, CaseReleased(case_id, user.username), user.username)
    return case
