"""Spread of an item: clusters of the same content across sources and accounts.

Two items are linked when they share a file hash (``md5``/``sha256`` of a media file),
or when their ``pdq`` hashes (images) or ``text_near`` hashes (texts of 3 words or
more) are within the Hamming threshold (defaults: the signal types' own, 31 and 6). A
cluster is a connected component of these links (single linkage, union–find).

The exact ``text`` hash is not used on purpose: short texts that normalise to the same
few words ("thank you", or a text that was only a mention and a link) would join
unrelated posts; ``text_near`` only exists for texts of 3 words or more and catches the
identical texts anyway (distance 0). ``url`` signals are not used either: two posts
linking to the same page are not the same item (see the outlink measure for that).
Semantic similarity is not used yet: Warding has no embedding model installed.

Cost: exact hashes are streamed in value order from the database (memory: one
union–find entry per linked item). Hamming links use the brute-force
:class:`~warding.matching.index.HammingIndex` (numpy XOR + popcount): O(n²/64) word
operations per signal type, about a second for 10,000 texts on one core; beyond a few
hundred thousand items a multi-index hashing or FAISS index should replace it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from warding.analytics.common import (
    PERIODS,
    YIELD_PER,
    ItemFacts,
    StatsFilter,
    check_choice,
    item_time,
    period_start,
    stream_items,
)
from warding.db.models import ContentItem, Signal
from warding.matching.index import HammingIndex

EXACT_TYPES = ("md5", "sha256")
HAMMING_TYPES = {"pdq": (256, 31), "text_near": (64, 6)}


class UnionFind:
    """Disjoint sets over item ids; only ids that were ever linked take memory."""

    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, x: int) -> int:
        parent = self.parent
        root = x
        while parent.get(root, root) != root:
            root = parent[root]
        while x != root:  # path compression
            nxt = parent.get(x, x)
            parent[x] = root
            x = nxt
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            # The smaller id becomes the root: deterministic cluster roots.
            lo, hi = (ra, rb) if ra < rb else (rb, ra)
            self.parent[hi] = lo
            self.parent.setdefault(lo, lo)


@dataclass
class _Acc:
    items: int = 0
    sources: set[str] = field(default_factory=set)
    accounts: set[tuple[str, str]] = field(default_factory=set)
    first: datetime | None = None
    last: datetime | None = None
    first_item: int = 0
    timeline: Counter[date] = field(default_factory=Counter)
    item_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Cluster:
    rank: int
    items: int
    sources: list[str]
    accounts: int
    first_seen: datetime
    last_seen: datetime
    first_item_id: int
    linked_by: list[str]
    timeline: list[tuple[date, int]]
    item_ids: list[int]

    @property
    def span_days(self) -> float:
        return round((self.last_seen - self.first_seen).total_seconds() / 86400, 3)

    def as_json(self) -> dict[str, Any]:
        return {
            "cluster": self.rank,
            "items": self.items,
            "sources": len(self.sources),
            "source_names": self.sources,
            "accounts": self.accounts,
            "first_seen": self.first_seen.isoformat(),
            "last_seen": self.last_seen.isoformat(),
            "span_days": self.span_days,
            "first_item_id": self.first_item_id,
            "linked_by": self.linked_by,
            "timeline": [{"period": p.isoformat(), "count": c} for p, c in self.timeline],
            "item_ids": self.item_ids,
        }


@dataclass(frozen=True)
class Spread:
    clusters: list[Cluster]
    clusters_total: int
    items_considered: int
    items_clustered: int
    thresholds: dict[str, int]
    by: str
    filter: StatsFilter

    def as_json(self) -> dict[str, Any]:
        return {"clusters": [c.as_json() for c in self.clusters],
                "clusters_total": self.clusters_total,
                "items_considered": self.items_considered,
                "items_clustered": self.items_clustered,
                "thresholds": self.thresholds, "by": self.by, "filter": self.filter.as_json()}

    def rows(self) -> list[dict[str, Any]]:
        return [{k: v for k, v in c.as_json().items()
                 if k not in ("timeline", "item_ids", "source_names")}
                | {"source_names": "|".join(c.sources)} for c in self.clusters]


def _link_exact(session: Session, uf: UnionFind, allowed: set[int] | None,
                linked_by: dict[tuple[int, int], set[str]]) -> None:
    stmt = (select(Signal.signal_type, Signal.value, Signal.item_id)
            .where(Signal.signal_type.in_(EXACT_TYPES))
            .order_by(Signal.signal_type, Signal.value, Signal.item_id))
    prev: tuple[str, str] | None = None
    first = 0
    for stype, value, item_id in session.execute(stmt.execution_options(yield_per=YIELD_PER)):
        if allowed is not None and item_id not in allowed:
            continue
        if (stype, value) == prev:
            if item_id != first:
                uf.union(first, item_id)
                linked_by.setdefault((first, item_id), set()).add(stype)
        else:
            prev, first = (stype, value), item_id


def _link_hamming(session: Session, uf: UnionFind, allowed: set[int] | None,
                  signal_type: str, bits: int, threshold: int,
                  linked_by: dict[tuple[int, int], set[str]]) -> None:
    index = HammingIndex(bits=bits)
    values: list[tuple[str, int]] = []
    seen: set[tuple[str, int]] = set()
    stmt = select(Signal.value, Signal.item_id).where(Signal.signal_type == signal_type)
    for value, item_id in session.execute(stmt.execution_options(yield_per=YIELD_PER)):
        if allowed is not None and item_id not in allowed:
            continue
        if (value, item_id) in seen:
            continue
        seen.add((value, item_id))
        index.add(value, item_id)
        values.append((value, item_id))
    for value, item_id in values:
        for hit in index.query(value, threshold):
            if hit.ref > item_id:  # each pair once
                uf.union(item_id, hit.ref)
                linked_by.setdefault((item_id, hit.ref), set()).add(signal_type)


def spread(session: Session, *, f: StatsFilter | None = None, min_size: int = 2,
           limit: int | None = 20, by: str = "day",
           thresholds: dict[str, int] | None = None, max_item_ids: int = 100,
           facts: ItemFacts | None = None) -> Spread:
    """The clusters of at least ``min_size`` items, largest first (then most accounts,
    then earliest). ``limit`` keeps the first ones; ``clusters_total`` counts them all."""
    check_choice(by, PERIODS, "--by")
    f = f or StatsFilter()
    th = {name: t for name, (_, t) in HAMMING_TYPES.items()} | (thresholds or {})
    if facts is None and f.labels:
        facts = ItemFacts.load(session)
    allowed: set[int] | None = None
    considered = 0
    if f != StatsFilter():
        allowed = {item.id for item in stream_items(session, f, facts=facts)}
        considered = len(allowed)
    else:
        considered = int(session.scalar(select(func.count(ContentItem.id))) or 0)
    uf = UnionFind()
    linked_by: dict[tuple[int, int], set[str]] = {}
    _link_exact(session, uf, allowed, linked_by)
    for name, (bits, _) in HAMMING_TYPES.items():
        _link_hamming(session, uf, allowed, name, bits, th[name], linked_by)
    roots: dict[int, int] = {x: uf.find(x) for x in list(uf.parent)}
    acc: dict[int, _Acc] = {}
    for chunk in _chunks(sorted(roots), 500):
        rows = session.execute(
            select(ContentItem.id, ContentItem.source, ContentItem.account,
                   ContentItem.posted_at, ContentItem.ingested_at)
            .where(ContentItem.id.in_(chunk)))
        for item_id, source, account, posted_at, ingested_at in rows:
            a = acc.setdefault(roots[item_id], _Acc())
            when = item_time(posted_at, ingested_at)
            a.items += 1
            a.sources.add(source)
            if account:
                a.accounts.add((source, account))
            if a.first is None or when < a.first or (when == a.first and item_id < a.first_item):
                a.first, a.first_item = when, item_id
            if a.last is None or when > a.last:
                a.last = when
            a.timeline[period_start(when.date(), by)] += 1
            if len(a.item_ids) < max_item_ids:
                a.item_ids.append(item_id)
    kinds: dict[int, set[str]] = {}
    for (a_id, _), types in linked_by.items():
        kinds.setdefault(roots[a_id], set()).update(types)
    big = [(root, a) for root, a in acc.items() if a.items >= min_size]
    big.sort(key=lambda ra: (-ra[1].items, -len(ra[1].accounts), ra[1].first, ra[0]))
    clusters = []
    for rank, (root, a) in enumerate(big[:limit] if limit else big, start=1):
        assert a.first is not None and a.last is not None
        clusters.append(Cluster(
            rank=rank, items=a.items, sources=sorted(a.sources), accounts=len(a.accounts),
            first_seen=a.first, last_seen=a.last, first_item_id=a.first_item,
            linked_by=sorted(kinds.get(root, set())), timeline=sorted(a.timeline.items()),
            item_ids=sorted(a.item_ids)))
    return Spread(clusters=clusters, clusters_total=len(big), items_considered=considered,
                  items_clustered=sum(a.items for _, a in big), thresholds=th, by=by, filter=f)


def _chunks(values: list[int], size: int) -> Iterable[list[int]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]
