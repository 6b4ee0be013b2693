"""Who sees which legal records: legal officers and admins all of them; reviewers those
that concern their cases (claimed by them or decided by them), without the contact
details of notifiers and complainants."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from warding.accounts.roles import allowed
from warding.db.models import Case, Decision, User


def case_scope(session: Session, user: User) -> list[int] | None:
    """None: everything; else the ids of the cases the user works on."""
    if allowed(user.role, "legal"):
        return None
    decided = select(Decision.case_id).where(Decision.reviewer_id == user.id)
    return list(session.execute(select(Case.id).where(
        or_(Case.assigned_to == user.id, Case.id.in_(decided)))).scalars())


def redact(record: dict[str, Any], user: User) -> dict[str, Any]:
    if allowed(user.role, "legal"):
        return record
    out = dict(record)
    for key in ("notifier_name", "notifier_email"):
        if out.get(key):
            out[key] = "(withheld)"
    if isinstance(out.get("complainant"), dict):
        out["complainant"] = {k: "(withheld)" for k in out["complainant"]}
    return out
