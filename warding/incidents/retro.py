"""Retroactive matching: the few changed bank entries, indexed, against the many stored signals.

A run takes the entries of one bank that changed (added, enabled again, or the whole
bank when it was enabled again or a threshold loosened), builds a small index per
signal type of those entries only (the same indexes the live engine uses: multi-index
hashing for Hamming types, fingerprints for exact types), and streams the stored
signals of the window's items through it, in id order, one page at a time. The cost
is one pass over the stored signals whatever the number of entries; memory is one
page plus the small indexes.

Only matching happens here; :mod:`warding.incidents.retro_write` records what was found
exactly as a live match would have been.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import Connection, func, select

from warding.db.models import Bank, BankEntry, BankSignal, ContentItem, Signal
from warding.incidents.small_index import SmallHamming
from warding.matching.exact import ExactIndex, fingerprints
from warding.matching.index import exact_kind
from warding.matching.mih import HammingIndex
from warding.signals.base import SignalType

PAGE = 50_000
STREAM_CACHE_KB = 8_192
SEMANTIC = "text_semantic"


@dataclass(frozen=True)
class Scope:
    """What a run matches: entries ``first``..``last`` of ``bank_id`` (None: every entry),
    against items stored since ``since``."""

    bank_id: int
    since: datetime
    first: int | None = None
    last: int | None = None
    entry_ids: tuple[int, ...] | None = None


@dataclass(frozen=True)
class Hit:
    item_id: int
    entry_id: int
    signal_type: str
    value: str  # the entry's value (Hamming types) or the matching value (exact types)
    query: str  # the stored item's value
    distance: float
    similarity: float | None = None
    #: ``"ocr"`` when the item's image text matched (retroactive ``text_semantic``).
    origin: str | None = None


@dataclass
class Entries:
    """The changed entries, by signal type, with what a match needs to know."""

    bank_id: int
    bank_name: str
    thresholds: dict[str, Any]
    auto_action: bool
    values: dict[str, list[tuple[int, str]]] = field(default_factory=dict)  # type -> (id, value)
    meta: dict[int, tuple[dict[str, Any], str]] = field(default_factory=dict)  # labels, prov
    received: dict[int, datetime] = field(default_factory=dict)
    semantic: list[tuple[int, bytes, str]] = field(default_factory=list)  # id, vector, model

    def __len__(self) -> int:
        return len(self.meta)


def load_entries(conn: Connection, scope: Scope, types: Mapping[str, SignalType]) -> Entries | None:
    """The enabled entries of the scope (None when the bank is gone or disabled)."""
    from warding.db.models_semantic import SemanticBankText

    bank = conn.execute(select(Bank.name, Bank.enabled, Bank.thresholds, Bank.auto_action)
                        .where(Bank.id == scope.bank_id)).first()
    if bank is None or not bank[1]:
        return None
    out = Entries(scope.bank_id, bank[0], dict(bank[2] or {}), bool(bank[3]))
    cond = [BankEntry.bank_id == scope.bank_id, BankEntry.enabled.is_(True)]
    if scope.first is not None:
        cond.append(BankEntry.id >= scope.first)
    if scope.last is not None:
        cond.append(BankEntry.id <= scope.last)
    if scope.entry_ids is not None:
        cond.append(BankEntry.id.in_(list(scope.entry_ids)))
    for eid, labels, prov, created in conn.execute(
            select(BankEntry.id, BankEntry.labels, BankEntry.provenance, BankEntry.created_at)
            .where(*cond)):
        out.meta[int(eid)] = (dict(labels or {}), prov or "")
        out.received[int(eid)] = created
    if not out.meta:
        return out
    for eid, stype, value in conn.execute(
            select(BankSignal.entry_id, BankSignal.signal_type, BankSignal.value)
            .join(BankEntry, BankEntry.id == BankSignal.entry_id).where(*cond)
            .order_by(BankSignal.entry_id)):
        if stype in types:
            out.values.setdefault(stype, []).append((int(eid), value))
    for eid, vec, model in conn.execute(
            select(SemanticBankText.entry_id, SemanticBankText.vector, SemanticBankText.model)
            .join(BankEntry, BankEntry.id == SemanticBankText.entry_id).where(*cond)):
        out.semantic.append((int(eid), bytes(vec), model))
    return out


class TypeMatcher:
    """The changed entries of one signal type, searchable by batches of stored values."""

    def __init__(self, st: SignalType, values: Sequence[tuple[int, str]], threshold: int) -> None:
        self.st = st
        self.threshold = threshold
        self.by_entry: dict[int, set[str]] = {}
        for eid, v in values:
            self.by_entry.setdefault(eid, set()).add(v)
        refs = np.array([e for e, _ in values], dtype=np.int64)
        banks = np.zeros(len(values), dtype=np.int32)
        self.hamming: HammingIndex | None = None
        self.small: SmallHamming | None = None
        self.exact: ExactIndex | None = None
        if st.match == "hamming":
            self.hamming = HammingIndex(bits=st.bits or 0, threshold=threshold)  # parses hex
            codes = self.hamming.parse([st.index_key(v) for _, v in values])
            self.small = SmallHamming(st.bits or 0, codes, refs, threshold)
        else:
            hi, lo = fingerprints([v for _, v in values], exact_kind(st))
            self.exact = ExactIndex.from_arrays(exact_kind(st), hi, lo, refs, banks)

    def search(self, values: list[str]) -> list[tuple[int, int, str, int]]:
        """(position in ``values``, entry id, entry value, distance) of every match."""
        out: list[tuple[int, int, str, int]] = []
        if self.hamming is not None:
            try:
                codes = self.hamming.parse([self.st.index_key(v) for v in values])
            except ValueError:
                return self._search_valid(values)
            assert self.small is not None
            q, refs, dist, found = self.small.search(codes)
            if not len(q):
                return out
            stored = self.hamming.to_hex(found)
            for k, (qi, ref, d) in enumerate(zip(q.tolist(), refs.tolist(), dist.tolist(),
                                                 strict=True)):
                out.append((int(qi), int(ref), stored[k], int(d)))
            return out
        assert self.exact is not None
        q, refs, _ = self.exact.search(values)
        for qi, ref in zip(q.tolist(), refs.tolist(), strict=True):
            if values[qi] in self.by_entry.get(int(ref), ()):  # not a fingerprint collision
                out.append((int(qi), int(ref), values[qi], 0))
        return out

    def _search_valid(self, values: list[str]) -> list[tuple[int, int, str, int]]:
        """A page holding values that do not parse: search the ones that do."""
        assert self.hamming is not None
        good = []
        for i, v in enumerate(values):
            try:
                self.hamming.parse([self.st.index_key(v)])
                good.append(i)
            except ValueError:
                continue
        hits = self.search([values[i] for i in good]) if good else []
        return [(good[q], e, v, d) for q, e, v, d in hits]


def matchers(entries: Entries, types: Mapping[str, SignalType]) -> dict[str, TypeMatcher]:
    out: dict[str, TypeMatcher] = {}
    for name, values in entries.values.items():
        st = types[name]
        if st.match == "hamming":
            raw = entries.thresholds.get(name, st.default_threshold)
            try:
                threshold = int(raw)
            except (TypeError, ValueError):
                threshold = int(st.default_threshold or 0)
        else:
            threshold = 0
        good = [(e, v) for e, v in values if _valid(st, v)]
        if good:
            out[name] = TypeMatcher(st, good, threshold)
    return out


def _valid(st: SignalType, value: str) -> bool:
    try:
        st.validate(value)
        return True
    except ValueError:
        return False


def window_items(conn: Connection, since: datetime) -> int:
    """How many items were stored since ``since``."""
    return int(conn.execute(select(func.count(ContentItem.id))
                            .where(ContentItem.ingested_at >= since)).scalar() or 0)


def first_item(conn: Connection, since: datetime) -> int | None:
    """The lowest item id stored since ``since`` (ids grow with time, nearly: the window is
    filtered on the time as well)."""
    found = conn.execute(select(func.min(ContentItem.id))
                         .where(ContentItem.ingested_at >= since)).scalar()
    return int(found) if found is not None else None


def stream_signals(conn: Connection, since: datetime, types: Sequence[str],
                   page: int = PAGE) -> Iterator[list[tuple[int, str, str]]]:
    """Pages of (item id, signal type, value) of the window's items, in signal id order.

    The pages are ranges of signal ids (the primary key), so each is read with one range scan
    whatever the database's plan for the type: no sort, no rescan of earlier pages."""
    start = first_item(conn, since)
    if start is None or not types:
        return
    low = conn.execute(select(func.min(Signal.id)).where(Signal.item_id >= start)).scalar()
    high = conn.execute(select(func.max(Signal.id))).scalar()
    if low is None or high is None:
        return
    # ``signal_type || ''``: a filter, not a way in (the type's index would visit every
    # signal of the type for each page)
    wanted = Signal.signal_type.concat("").in_(list(types))
    # ids grow with time: when no item from ``start`` on is older than the window (the
    # usual case), the window is the id range and the signals need no join with the items
    mixed = conn.execute(select(ContentItem.id).where(
        ContentItem.id >= start, ContentItem.ingested_at < since).limit(1)).first() is not None
    lo = int(low)
    while lo <= int(high):
        hi = lo + page - 1
        stmt = select(Signal.item_id, Signal.signal_type, Signal.value).where(
            Signal.id >= lo, Signal.id <= hi, wanted)
        if mixed:
            stmt = stmt.join(ContentItem, ContentItem.id == Signal.item_id).where(
                ContentItem.ingested_at >= since)
        rows = conn.execute(stmt).all()
        if rows:
            yield [(int(r[0]), r[1], r[2]) for r in rows]
        lo = hi + 1


def match_stream(conn: Connection, entries: Entries, types: Mapping[str, SignalType],
                 since: datetime, progress: Callable[[int], None] | None = None
                 ) -> tuple[list[Hit], int]:
    """Every hash match of the entries among the window's stored signals; (hits, signals read)."""
    found = matchers(entries, types)
    hits: list[Hit] = []
    read = 0
    with small_cache(conn):
        read = _match_pages(conn, found, since, hits, progress)
    if any(types[name].multi for name in found):
        from warding.incidents.retro_video import whole_videos

        hits = whole_videos(conn, hits, entries, types)
    return hits, read


@contextmanager
def small_cache(conn: Connection) -> Iterator[None]:
    """Each stored signal is read once: on SQLite, a pooled connection's page cache (which
    ``bank import`` sets to 512 MB) would only fill memory, so it is kept small meanwhile."""
    if conn.dialect.name != "sqlite":
        yield
        return
    before = conn.exec_driver_sql("PRAGMA cache_size").scalar()
    conn.exec_driver_sql(f"PRAGMA cache_size=-{STREAM_CACHE_KB}")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size={int(before or -2000)}")


def _match_pages(conn: Connection, found: dict[str, TypeMatcher], since: datetime,
                 hits: list[Hit], progress: Callable[[int], None] | None) -> int:
    read = 0
    for page in stream_signals(conn, since, sorted(found)):
        read += len(page)
        by_type: dict[str, list[int]] = {}
        for i, (_, stype, _) in enumerate(page):
            by_type.setdefault(stype, []).append(i)
        for stype, positions in by_type.items():
            values = [page[i][2] for i in positions]
            for q, eid, value, dist in found[stype].search(values):
                item_id = page[positions[q]][0]
                hits.append(Hit(item_id, eid, stype, value, values[q], float(dist)))
        if progress is not None:
            progress(read)
    return read


def best_hits(hits: Sequence[Hit]) -> list[Hit]:
    """One hit per (item, entry, signal type): the closest (as a live lookup reports)."""
    best: dict[tuple[int, int, str], Hit] = {}
    for h in hits:
        key = (h.item_id, h.entry_id, h.signal_type)
        if key not in best or best[key].distance > h.distance:
            best[key] = h
    return sorted(best.values(), key=lambda h: (h.item_id, h.distance, h.entry_id, h.signal_type))
