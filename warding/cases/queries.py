"""Read models for the queue and the case view, shared by the console and the API,
and the claim (lock) that keeps two reviewers from deciding the same case."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from warding.audit.log import record
from warding.db.models import (
    Action,
    Case,
    Classification,
    ContentItem,
    Decision,
    Match,
    User,
    utcnow,
)
from warding.errors import Conflict, InvalidInput, NotFound
from warding.events import CaseClaimed, CaseReleased

CLAIM_MINUTES = 15

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


def claim_active(case: Case, now: datetime | None = None) -> bool:
    """A claim lasts CLAIM_MINUTES from when it was taken (or renewed)."""
    if case.assigned_to is None:
        return False
    return (now or utcnow()) - case.updated_at < timedelta(minutes=CLAIM_MINUTES)


def _reason_banks(case: Case) -> list[str]:
    return sorted({r["bank"] for r in case.reasons if r.get("kind") == "bank_match"})


def reason_categories(case: Case) -> set[str]:
    return categories_of(case.reasons)


def categories_of(reasons: list[Any]) -> set[str]:
    """Policy categories the reasons point to: bank labels, and a classifier label when it
    names a policy category (the baseline classifier's does not)."""
    from warding.review.decisions import BANK_TO_POLICY, POLICY_CATEGORIES

    out: set[str] = set()
    for r in reasons:
        if r.get("kind") == "bank_match":
            label = (r.get("labels") or {}).get("category")
            if isinstance(label, str):
                if label in POLICY_CATEGORIES:
                    out.add(label)
                elif label in BANK_TO_POLICY:
                    out.add(BANK_TO_POLICY[label])
        elif r.get("kind") == "classifier" and r.get("label") in POLICY_CATEGORIES:
            out.add(str(r["label"]))
    return out


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


def _usernames(session: Session) -> dict[int, str]:
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
    names = _usernames(session)
    return [case_summary(*loaded[r.id], usernames=names, categories=cats, now=when)
            for r, cats in page if r.id in loaded]


def case_detail(session: Session, case_id: int) -> dict[str, Any]:
    from warding.ocr.view import image_texts
    from warding.review.context import item_context, similar_decided
    from warding.review.highlight import highlight_text, known_links

    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(f"no case {case_id}")
    item = session.get(ContentItem, case.item_id)
    assert item is not None
    users = _usernames(session)
    detail = case_summary(case, item, usernames=users)
    detail["reasons_detail"] = case.reasons
    detail["item"].update(
        {
            "url": item.url,
            "text": item.text,
            "posted_at": item.posted_at.isoformat() if item.posted_at else None,
            "ingested_at": item.ingested_at.isoformat(),
            "outlinks": item.outlinks,
            "lang": item.lang,
            "metadata": item.meta,
            "media": [{"sha256": m.sha256, "name": m.name, "mime": m.media.mime,
                       "size": m.media.size, "position": m.position} for m in item.media],
        }
    )
    classifications = [
        {"model": c.model, "label": c.label, "score": c.score, "violating": c.violating,
         "explanation": c.explanation}
        for c in session.execute(select(Classification).where(Classification.item_id == item.id)).scalars()
    ]
    detail["classifications"] = classifications
    superseded = {d.supersedes_id for d in case.decisions if d.supersedes_id}
    detail["decisions"] = [
        {"id": d.id, "kind": d.kind, "violating": d.violating, "category": d.category,
         "reason": d.reason, "exemption": d.exemption, "automated": d.automated,
         "reviewer": users.get(d.reviewer_id) if d.reviewer_id else None,
         "supersedes": d.supersedes_id, "superseded": d.id in superseded,
         "at": d.created_at.isoformat()}
        for d in case.decisions
    ]
    detail["actions"] = _actions(session, case.id)
    detail["similar_decided"] = similar_decided(session, item.id, exclude_case=case.id)
    detail["context"] = item_context(session, item, exclude_case=case.id)
    url_values = [v for (v,) in session.execute(
        select(Match.value).where(Match.item_id == item.id, Match.signal_type == "url"))]
    own = [r for r in case.reasons if r.get("origin") != "ocr"]  # image text: shown apart
    detail["highlights"] = highlight_text(item.text or "", own, classifications, url_values)
    detail["highlights"]["known_links"] = known_links(item.outlinks or [], url_values)
    detail["image_texts"] = image_texts(session, item.id, case.reasons)
    return detail


def _actions(session: Session, case_id: int) -> list[dict[str, Any]]:
    from warding.db.models_review import ActionSchedule

    rows = session.execute(
        select(Action, ActionSchedule)
        .outerjoin(ActionSchedule, ActionSchedule.action_id == Action.id)
        .where(Action.case_id == case_id).order_by(Action.id))
    return [
        {"id": a.id, "decision_id": a.decision_id, "sink": a.sink, "status": a.status,
         "attempts": a.attempts, "detail": a.detail,
         "next_attempt_at": s.next_attempt_at.isoformat() if s and s.next_attempt_at else None,
         "idempotency_key": a.idempotency_key}
        for a, s in rows
    ]


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


def next_case(session: Session, f: QueueFilter, user: User, *,
              now: datetime | None = None) -> int | None:
    """Claim and return the most urgent case ``user`` can take (their own live claim
    first); None when the queue is clear. A case this user escalated waits for someone
    else."""
    from warding.review.decisions import escalated_by

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


def decisions_count(session: Session) -> int:
    return len(session.execute(select(Decision.id)).all())
