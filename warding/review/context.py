"""What a reviewer needs around one item: copies of it still waiting for review,
similar items already decided, and the item's context (source, account, links).

Accounts and channels are described only as carriers of content: the context
lists other cases from the same account, never a score of the account.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from warding.cases.claims import claim_active
from warding.db.models import Case, ContentItem, Decision, Match, Signal, User

# Signal types whose equal values mean "the same content". URLs are left out (two
# posts linking to one page are not copies of each other) and so is text_near (equal
# near-duplicate fingerprints are likely, not certain, copies).
COPY_TYPES = ("md5", "sha256", "text", "pdq")
OPEN_STATUSES = ("open", "escalated")


def _shared_signals(session: Session, item_id: int,
                    types: tuple[str, ...] = COPY_TYPES) -> dict[int, set[str]]:
    """Other items sharing an exact signal value with ``item_id``: item id -> signal types."""
    mine = {(t, v) for t, v in session.execute(
        select(Signal.signal_type, Signal.value)
        .where(Signal.item_id == item_id, Signal.signal_type.in_(types)))}
    if not mine:
        return {}
    values = sorted({v for _, v in mine})
    out: dict[int, set[str]] = defaultdict(set)
    for chunk in range(0, len(values), 500):
        rows = session.execute(
            select(Signal.item_id, Signal.signal_type, Signal.value)
            .where(Signal.value.in_(values[chunk:chunk + 500]), Signal.item_id != item_id))
        for other, t, v in rows:
            if (t, v) in mine:
                out[other].add(t)
    return dict(out)


def copies_of(session: Session, case_id: int) -> list[dict[str, Any]]:
    """Cases still waiting for review whose items are exact copies of this case's item
    (they share a file hash, a PDQ hash or the normalised text). Bulk decisions apply
    to these."""
    case = session.get(Case, case_id)
    if case is None:
        return []
    shared = _shared_signals(session, case.item_id)
    if not shared:
        return []
    names = {i: n for i, n in session.execute(select(User.id, User.username))}
    out = []
    rows = session.execute(
        select(Case, ContentItem).join(ContentItem, Case.item_id == ContentItem.id)
        .where(Case.item_id.in_(list(shared)), Case.status.in_(OPEN_STATUSES))
        .order_by(Case.id))
    for other, item in rows:
        active = claim_active(other)
        out.append({
            "case_id": other.id, "status": other.status, "severity": other.severity,
            "shared": sorted(shared[item.id]), "source": item.source,
            "external_id": item.external_id, "account": item.account,
            "text_preview": (item.text or item.title or "")[:160],
            "claimed_by": names.get(other.assigned_to) if active and other.assigned_to
            else None,
            "claimed_by_id": other.assigned_to if active else None,
        })
    return out


def copies_count(session: Session, case_ids: list[int]) -> dict[int, int]:
    """For each case, how many other waiting cases are copies of it (for the queue)."""
    if not case_ids:
        return {}
    item_of = {c: i for c, i in session.execute(
        select(Case.id, Case.item_id).where(Case.id.in_(case_ids)))}
    mine = session.execute(
        select(Signal.item_id, Signal.signal_type, Signal.value)
        .where(Signal.item_id.in_(list(item_of.values())), Signal.signal_type.in_(COPY_TYPES)))
    by_item: dict[int, set[tuple[str, str]]] = defaultdict(set)
    for item_id, t, v in mine:
        by_item[item_id].add((t, v))
    values = sorted({v for pairs in by_item.values() for _, v in pairs})
    if not values:
        return {}
    holders: dict[tuple[str, str], set[int]] = defaultdict(set)
    for chunk in range(0, len(values), 500):
        rows = session.execute(
            select(Signal.item_id, Signal.signal_type, Signal.value)
            .join(Case, Case.item_id == Signal.item_id)
            .where(Signal.value.in_(values[chunk:chunk + 500]),
                   Signal.signal_type.in_(COPY_TYPES), Case.status.in_(OPEN_STATUSES)))
        for item_id, t, v in rows:
            holders[(t, v)].add(item_id)
    out = {}
    for case_id, item_id in item_of.items():
        others: set[int] = set()
        for pair in by_item.get(item_id, ()):
            others |= holders.get(pair, set())
        others.discard(item_id)
        if others:
            out[case_id] = len(others)
    return out


def similar_decided(session: Session, item_id: int, *, exclude_case: int | None = None,
                    limit: int = 10) -> list[dict[str, Any]]:
    """Decided cases like this one: copies (an equal signal) and items that matched the
    same bank entry. Each says why it is similar and how it was decided."""
    why: dict[int, set[str]] = defaultdict(set)
    for other, types in _shared_signals(session, item_id,
                                        COPY_TYPES + ("text_near",)).items():
        for t in types:
            why[other].add(f"same {t}")
    entries = [e for (e,) in session.execute(
        select(Match.entry_id).where(Match.item_id == item_id).distinct())]
    if entries:
        for other, entry in session.execute(
                select(Match.item_id, Match.entry_id)
                .where(Match.entry_id.in_(entries), Match.item_id != item_id).distinct()):
            why[other].add(f"matched bank entry {entry}")
    if not why:
        return []
    query = (select(Case, ContentItem).join(ContentItem, Case.item_id == ContentItem.id)
             .where(Case.item_id.in_(list(why)), Case.status == "decided")
             .order_by(Case.id.desc()).limit(limit))
    out = []
    for case, item in session.execute(query):
        if case.id == exclude_case:
            continue
        last = session.execute(
            select(Decision).where(Decision.case_id == case.id, Decision.kind != "escalation")
            .order_by(Decision.id.desc()).limit(1)).scalar_one_or_none()
        out.append({
            "case_id": case.id,
            "violating": last.violating if last else None,
            "category": last.category if last else None,
            "exemption": last.exemption if last else None,
            "decided_at": last.created_at.isoformat() if last else None,
            "why": sorted(why[item.id]),
            "source": item.source,
            "text_preview": (item.text or item.title or "")[:160],
        })
    return out


def _domain(url: object) -> str | None:
    if not isinstance(url, str):
        return None
    try:
        host = urlsplit(url if "://" in url else "http://" + url).hostname
    except ValueError:
        return None
    return host.removeprefix("www.") if host else None


def item_context(session: Session, item: ContentItem, *, exclude_case: int | None = None,
                 limit: int = 5) -> dict[str, Any]:
    """Where the item came from: its source, account (as a carrier), links and metadata,
    and other cases from the same account on the same source."""
    other_cases: list[dict[str, Any]] = []
    account_items = 0
    if item.account:
        account_items = session.execute(
            select(func.count(ContentItem.id))
            .where(ContentItem.source == item.source, ContentItem.account == item.account)
        ).scalar_one()
        rows = session.execute(
            select(Case, ContentItem).join(ContentItem, Case.item_id == ContentItem.id)
            .where(ContentItem.source == item.source, ContentItem.account == item.account,
                   Case.item_id != item.id)
            .order_by(Case.id.desc()).limit(limit))
        for case, other in rows:
            if case.id == exclude_case:
                continue
            last = session.execute(
                select(Decision).where(Decision.case_id == case.id,
                                       Decision.kind != "escalation")
                .order_by(Decision.id.desc()).limit(1)).scalar_one_or_none()
            other_cases.append({
                "case_id": case.id, "status": case.status,
                "violating": last.violating if last else None,
                "posted_at": other.posted_at.isoformat() if other.posted_at else None,
                "text_preview": (other.text or other.title or "")[:120],
            })
    domains: dict[str, int] = defaultdict(int)
    for link in item.outlinks or []:
        d = _domain(link)
        if d:
            domains[d] += 1
    return {
        "source": item.source,
        "account": item.account,
        "url": item.url,
        "posted_at": item.posted_at.isoformat() if item.posted_at else None,
        "input_ref": item.input_ref,
        "outlink_domains": sorted(domains.items(), key=lambda kv: (-kv[1], kv[0])),
        "account_items": account_items,
        "account_cases": other_cases,
        "metadata": item.meta or {},
    }
