"""Read models for the queue, shared by the console and the API, and the next case to
review. The claim (lock) is in ``claims.py``; the case view, which needs the review
helpers, is ``warding.review.case_view``."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from warding.cases.categories import categories_of
from warding.cases.claims import CLAIM_MINUTES, claim_active, try_claim
from warding.db.models import Case, ContentItem, Decision, User, utcnow
from warding.errors import InvalidInput

# How long a case may wait for review when routing set no deadline, by severity:
# exact or near bank matches (severity >= 90) within the hour (the time a hosting
# service has to act on a removal order, Regulation (EU) 2021/784 Art. 3(3)),
# strong classifier scores within a day, the rest within three days.
DUE_HOURS: tuple[tuple[int, int], ...] = ((90, 1), (40, 24), (0, 72))

Order = Literal["deadline", "severity", "oldest", "newest"]
ORDERS: tuple[str, ...] = ("deadline", "severity", "oldest", "newest")
ASSIGNEE_SPECIAL = ("me", "unassigned", "others")


@dataclass(frozen=True)
class QueueFilter:
    status: str | None = "open"
    bank: str | None = None
    source: str | None = None
    reason: str | None = None  # bank_match | classifier
    category: str | None = None  # policy category (bank labels, classifier, decision)
    lang: str | None = None
    min_age_hours: float | None = None  # opened at least this long ago
    max_age_hours: float | None = None  # opened at most this long ago
    assignee: str | None = None  # me | unassigned | others | a username
    order: str = "deadline"
    limit: int = 100
    offset: int = 0


def due(deadline: datetime | None, opened_at: datetime, severity: int) -> datetime:
    """The deadline, or when a case of this severity is due."""
    if deadline is not None:
        return deadline
    for floor, hours in DUE_HOURS:
        if severity >= floor:
            return opened_at + timedelta(hours=hours)
    return opened_at + timedelta(hours=DUE_HOURS[-1][1])


def due_at(case: Case) -> datetime:
    return due(case.deadline, case.opened_at, case.severity)


def _reason_banks(case: Case) -> list[str]:
    return sorted({r["bank"] for r in case.reasons if r.get("kind") == "bank_match"})


def reason_categories(case: Case) -> set[str]:
    return categories_of(case.reasons)


def case_summary(case: Case, item: ContentItem, *, usernames: dict[int, str] | None = None,
                 categories: set[str] | None = None,
                 now: datetime | None = None) -> dict[str, Any]:
    kinds = sorted({str(r.get("kind")) for r in case.reasons})
    scores = [float(r["score"]) for r in case.reasons if r.get("kind") == "classifier"]
    when = now or utcnow()
    due_by = due_at(case)
    active = claim_active(case, when)
    return {
        "id": case.id,
        "status": case.status,
        "severity": case.severity,
        "opened_at": case.opened_at.isoformat(),
        "deadline": case.deadline.isoformat() if case.deadline else None,
        "due_at": due_by.isoformat(),
        "overdue": case.status == "open" and due_by < when,
        "assigned_to": case.assigned_to,
        "claimed_by": (usernames or {}).get(case.assigned_to) if active and case.assigned_to
        else None,
        "reasons": kinds,
        "banks": _reason_banks(case),
        "categories": sorted(categories if categories is not None else reason_categories(case)),
        "score": max(scores) if scores else None,
        "item": {
            "id": item.id,
            "source": item.source,
            "external_id": item.external_id,
            "kind": item.kind,
            "account": item.account,
            "title": item.title,
            "lang": item.lang,
            "text_preview": (item.text or item.title or "")[:200],
        },
    }


def user_names(session: Session) -> dict[int, str]:
    return {i: n for i, n in session.execute(select(User.id, User.username))}


def _latest_categories(session: Session, case_ids: list[int]) -> dict[int, str | None]:
    """The category of each case's current (latest non-escalation) decision."""
    out: dict[int, str | None] = {}
    for chunk in range(0, len(case_ids), 500):
        rows = session.execute(
            select(Decision.case_id, Decision.category)
            .where(Decision.case_id.in_(case_ids[chunk:chunk + 500]),
                   Decision.kind != "escalation")
            .order_by(Decision.id))
        for case_id, category in rows:
            out[case_id] = category
    return out


@dataclass(frozen=True)
class _Row:
    """What the queue needs to filter and order a case, without loading the case."""

    id: int
    severity: int
    opened_at: datetime
    deadline: datetime | None
    assigned_to: int | None
    updated_at: datetime

    @property
    def due(self) -> datetime:
        return due(self.deadline, self.opened_at, self.severity)


def _sort_key(order: str) -> Any:
    if order == "severity":
        return lambda c: (-c.severity, c.due, c.id)
    if order == "oldest":
        return lambda c: (c.opened_at, c.id)
    if order == "newest":
        return lambda c: (-c.opened_at.timestamp(), -c.id)
    return lambda c: (c.due, -c.severity, c.id)


def _ordered(session: Session, f: QueueFilter, viewer: User | None,
             when: datetime) -> list[tuple[_Row, set[str] | None]]:
    """Every case the filter keeps, in queue order, as light rows.

    Columns are filtered in SQL; the reasons (JSON) are read only when a bank, reason
    or category filter needs them. Only the page shown is then loaded in full, so the
    queue stays quick with tens of thousands of open cases."""
    if f.order not in ORDERS:
        raise InvalidInput(f"unknown order {f.order!r}; use one of {', '.join(ORDERS)}")
    need_reasons = bool(f.bank or f.reason or f.category)
    cols: list[Any] = [Case.id, Case.severity, Case.opened_at, Case.deadline, Case.assigned_to,
                       Case.updated_at]
    if need_reasons:
        cols.append(Case.reasons)
    query = select(*cols)
    if f.source or f.lang:
        query = query.join(ContentItem, Case.item_id == ContentItem.id)
    if f.status:
        query = query.where(Case.status == f.status)
    if f.source:
        query = query.where(ContentItem.source == f.source)
    if f.lang:
        query = query.where(ContentItem.lang == f.lang)
    if f.min_age_hours is not None:
        query = query.where(Case.opened_at <= when - timedelta(hours=f.min_age_hours))
    if f.max_age_hours is not None:
        query = query.where(Case.opened_at >= when - timedelta(hours=f.max_age_hours))
    if f.assignee:
        cutoff = when - timedelta(minutes=CLAIM_MINUTES)
        active = (Case.assigned_to.is_not(None)) & (Case.updated_at > cutoff)
        if f.assignee == "unassigned":
            query = query.where(~active)
        elif f.assignee in ("me", "others"):
            if viewer is None:
                raise InvalidInput(f"assignee={f.assignee} needs a logged-in user")
            mine = Case.assigned_to == viewer.id
            query = query.where(active & (mine if f.assignee == "me" else ~mine))
        else:
            uid = session.execute(select(User.id).where(User.username == f.assignee)).scalar()
            if uid is None:
                return []
            query = query.where(active & (Case.assigned_to == uid))
    rows = session.execute(query).all()
    decided_cats = (_latest_categories(session, [r[0] for r in rows]) if f.category else {})
    kept: list[tuple[_Row, set[str] | None]] = []
    for r in rows:
        cats: set[str] | None = None
        if need_reasons:
            reasons = r[6] or []
            if f.bank and f.bank not in {x.get("bank") for x in reasons
                                         if x.get("kind") == "bank_match"}:
                continue
            if f.reason and f.reason not in {x.get("kind") for x in reasons}:
                continue
            cats = categories_of(reasons)
            if f.category:
                decided = decided_cats.get(r[0])
                if decided:
                    cats = {decided}
                if f.category not in cats:
                    continue
        kept.append((_Row(*r[:6]), cats))
    key = _sort_key(f.order)
    kept.sort(key=lambda t: key(t[0]))
    return kept


def list_cases(session: Session, f: QueueFilter, *, viewer: User | None = None,
               now: datetime | None = None) -> list[dict[str, Any]]:
    """The queue: one page of case summaries, most urgent first by default."""
    when = now or utcnow()
    page = _ordered(session, f, viewer, when)[f.offset:f.offset + f.limit]
    if not page:
        return []
    loaded = {c.id: (c, i) for c, i in session.execute(
        select(Case, ContentItem).join(ContentItem, Case.item_id == ContentItem.id)
        .where(Case.id.in_([r.id for r, _ in page])))}
    names = user_names(session)
    return [case_summary(*loaded[r.id], usernames=names, categories=cats, now=when)
            for r, cats in page if r.id in loaded]


def next_case(session: Session, f: QueueFilter, user: User, *,
              now: datetime | None = None) -> int | None:
    """Claim and return the most urgent case ``user`` can take (their own live claim
    first); None when the queue is clear. A case this user escalated waits for someone
    else."""
    when = now or utcnow()
    status = f.status or "open"
    ordered = [r for r, _ in _ordered(session, replace(f, status=status, offset=0), user, when)]
    cutoff = when - timedelta(minutes=CLAIM_MINUTES)

    def held(r: _Row) -> bool:
        return r.assigned_to is not None and r.updated_at > cutoff

    mine = [r for r in ordered if held(r) and r.assigned_to == user.id]
    for r in mine + [r for r in ordered if not held(r)]:
        if status == "escalated" and escalated_by(session, r.id) == user.id:
            continue
        if try_claim(session, r.id, user, now=when):
            return r.id
    return None


def escalated_by(session: Session, case_id: int) -> int | None:
    """Who asked for a second opinion on the case (its latest escalation), if anyone."""
    return session.execute(
        select(Decision.reviewer_id)
        .where(Decision.case_id == case_id, Decision.kind == "escalation")
        .order_by(Decision.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def decisions_count(session: Session) -> int:
    return len(session.execute(select(Decision.id)).all())
