"""Exact Hamming-space index for fixed-length binary signals (PDQ, text_near, ...).

Multi-index hashing (Norouzi, Punjani and Fleet, "Fast Exact Search in Hamming
Space with Multi-Index Hashing", 2014) with the generalised pigeonhole
principle (Qin et al., "GPH", 2018): the code is cut into ``m`` chunks and each
chunk value indexes the codes holding it. A code within distance ``r`` of a
query is within ``t_i`` of it in at least one chunk whenever
``sum(t_i) >= r - m + 1``, so probing, in every chunk, the buckets within
``t_i`` of the query's chunk value finds every result; every candidate's full
distance is then checked. Results are therefore exact: every live entry within
the threshold, nothing else. ``t_i`` is chosen per threshold by a cost model
(greedy on marginal cost: cheaper chunks get larger ``t_i``), and a segment is
scanned exhaustively when that is cheaper.

Chunks of about log2(n) bits keep about one code per bucket. For 10M PDQ
hashes that is 12 chunks of 21-22 bits: at threshold 31 a query probes about
2,000 buckets and checks about 9,000 candidates instead of 10M codes.

Incremental updates without rebuilds (a log-structured layout):

- ``add`` appends to a small *delta* that is scanned exhaustively; when it
  holds ``delta_limit`` entries it becomes a new immutable *segment* with its
  own tables (built by a counting sort in the compiled kernel, milliseconds).
- Segments of similar size are merged (Bentley and Saxe's logarithmic method),
  so there are O(log n) of them; a large merge runs in a background thread
  while queries keep using the old segments and the delta.
- ``remove`` sets a tombstone (segments are sorted by ``ref``, so finding an
  entry is a binary search); merges drop dead entries.

An add or remove is visible to the next query. Queries never take the lock:
they read one immutable view (segments + delta), and a delta that grows or a
merge that finishes replaces the view in one assignment.

Memory per entry: the code (32 bytes for PDQ), ``ref`` (8), ``bank`` (4),
a tombstone byte, and 4 bytes per chunk of bucket ids, plus the bucket
offsets (4 bytes x 2^bits per chunk), about 100 bytes per PDQ hash at 10M.
"""

from __future__ import annotations

import itertools
import math
import os
import threading
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Self

import numpy as np

from warding.matching import kernel
from warding.matching.base import IndexHit, SignalIndex

MIN_MIH = 2048
"""Segments smaller than this are always scanned (tables would not pay off)."""
MAX_CHUNK_BITS = 24
MIN_CHUNK_BITS = 6
SCAN_COST = 0.06
"""Cost of checking one code in an exhaustive scan, relative to one random memory access."""
SYNC_MERGE_LIMIT = 1_000_000
"""Merges of at most this many entries run in the caller's thread (about 0.1 s)."""
MAX_PROBES = 2_000_000


def words_for(bits: int) -> int:
    return (bits + 63) // 64


@lru_cache(maxsize=256)
def _n_within(bits: int, t: int) -> int:
    return sum(math.comb(bits, k) for k in range(0, min(t, bits) + 1)) if t >= 0 else 0


@lru_cache(maxsize=256)
def masks_within(bits: int, t: int) -> np.ndarray:
    """Every ``bits``-bit XOR mask with at most ``t`` bits set, by popcount."""
    out: list[int] = []
    for k in range(0, min(t, bits) + 1):
        for combo in itertools.combinations(range(bits), k):
            out.append(sum(1 << i for i in combo))
    arr = np.array(out, dtype=np.uint32)
    arr.setflags(write=False)
    return arr


def split_bits(bits: int, m: int) -> list[tuple[int, int]]:
    """``m`` chunks (offset, width) covering ``bits`` bits, widths differing by at most one."""
    base, extra = divmod(bits, m)
    chunks, off = [], 0
    for i in range(m):
        width = base + (1 if i < extra else 0)
        chunks.append((off, width))
        off += width
    return chunks


def plan_thresholds(widths: Sequence[int], n: int, r: int) -> tuple[list[int], float]:
    """Chunk thresholds ``t_i`` with ``sum(t_i) >= r - m + 1`` at the least estimated cost.

    Cost of chunk i at t: probes x (1 + expected codes per bucket). The cost is
    convex in t, so raising the cheapest marginal chunk one step at a time is
    optimal. ``t_i = -1`` leaves a chunk out.
    """
    m = len(widths)
    t = [-1] * m
    need = r - m + 1

    def cost(i: int, ti: int) -> float:
        return _n_within(widths[i], ti) * (1.0 + n / float(1 << widths[i]))

    total = float(-m)
    while total < need:
        best, best_gain = -1, math.inf
        for i in range(m):
            if t[i] >= widths[i]:
                continue
            gain = cost(i, t[i] + 1) - cost(i, t[i])
            if gain < best_gain:
                best, best_gain = i, gain
        if best < 0:  # every chunk fully probed: the whole space
            break
        t[best] += 1
        total += 1
    return t, sum(cost(i, t[i]) for i in range(m))


def choose_layout(bits: int, n: int, r: int) -> list[tuple[int, int]] | None:
    """The chunk layout with the lowest estimated cost at threshold ``r`` for ``n`` codes,
    or None when scanning is cheaper. Bucket offsets are capped at about 4 per code."""
    if n < MIN_MIH or r < 0:
        return None
    best: tuple[float, list[tuple[int, int]]] | None = None
    for m in range(1, bits + 1):
        chunks = split_bits(bits, m)
        widths = [w for _, w in chunks]
        if max(widths) > MAX_CHUNK_BITS:
            continue
        if min(widths) < MIN_CHUNK_BITS:
            break
        if sum(1 << w for w in widths) > max(4 * n, 16 << 20):  # offsets <= max(16 B/code, 64 MB)
            continue
        _, cost = plan_thresholds(widths, n, r)
        if best is None or cost < best[0]:
            best = (cost, chunks)
    if best is None or best[0] >= n * SCAN_COST:
        return None
    return best[1]


_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _threads() -> ThreadPoolExecutor:
    """A shared pool for parallel table builds and batch queries (created on first use)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=max(1, os.cpu_count() or 1),
                                       thread_name_prefix="warding-mih")
        return _pool


@lru_cache(maxsize=1)
def parallelism() -> int:
    return max(1, os.cpu_count() or 1)


class Segment:
    """Immutable codes sorted by ``ref``, with tombstones and (when worth it) MIH tables."""

    def __init__(self, codes: np.ndarray, refs: np.ndarray, banks: np.ndarray, bits: int,
                 typical_r: int, alive: np.ndarray | None = None) -> None:
        order = None if len(refs) < 2 or bool(np.all(refs[1:] >= refs[:-1])) \
            else np.argsort(refs, kind="stable")
        if order is not None:
            codes, refs, banks = codes[order], refs[order], banks[order]
            alive = alive[order] if alive is not None else None
        self.codes = np.ascontiguousarray(codes, dtype=np.uint64)
        self.refs = np.ascontiguousarray(refs, dtype=np.int64)
        self.banks = np.ascontiguousarray(banks, dtype=np.int32)
        self.alive = (np.ones(len(refs), dtype=np.uint8) if alive is None
                      else np.ascontiguousarray(alive, dtype=np.uint8).copy())
        self.live = int(np.count_nonzero(self.alive))
        self.bits = bits
        self.tables: kernel.Tables | None = None
        self._probes: dict[int, kernel.Probe | None] = {}
        layout = choose_layout(bits, len(self.refs), typical_r)
        if layout is not None:
            self.tables = _build_tables(self.codes, layout)

    @classmethod
    def restore(cls, codes: np.ndarray, refs: np.ndarray, banks: np.ndarray, alive: np.ndarray,
                tables: kernel.Tables | None, bits: int) -> Segment:
        """A segment from a snapshot: arrays as saved, tables not rebuilt."""
        seg = cls.__new__(cls)
        seg.codes, seg.refs, seg.banks = codes, refs, banks
        seg.alive = np.ascontiguousarray(alive, dtype=np.uint8)
        seg.live = int(np.count_nonzero(seg.alive))
        seg.bits = bits
        seg.tables = tables
        seg._probes = {}
        if len(refs) > 1 and not bool(np.all(refs[1:] >= refs[:-1])):
            raise ValueError("segment refs are not sorted")
        if tables is not None and tables.ids.shape != (len(tables.coff), len(refs)):
            raise ValueError("segment tables do not match its codes")
        return seg

    def __len__(self) -> int:
        return len(self.refs)

    @property
    def nbytes(self) -> int:
        tables = self.tables.nbytes if self.tables is not None else 0
        return int(self.codes.nbytes + self.refs.nbytes + self.banks.nbytes
                   + self.alive.nbytes + tables)

    def probe(self, r: int) -> kernel.Probe | None:
        """How to search for threshold ``r`` (None: scan every code)."""
        if r in self._probes:
            return self._probes[r]
        result: kernel.Probe | None = None
        if self.tables is not None:
            widths = [int(w) for w in self.tables.cbits]
            t, cost = plan_thresholds(widths, len(self.refs), r)
            probes = sum(_n_within(w, ti) for w, ti in zip(widths, t, strict=True))
            if cost < len(self.refs) * SCAN_COST and probes <= MAX_PROBES:
                parts = [masks_within(w, ti) if ti >= 0 else np.zeros(0, np.uint32)
                         for w, ti in zip(widths, t, strict=True)]
                counts = np.array([len(p) for p in parts], dtype=np.int64)
                starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
                result = kernel.Probe(np.array(t, dtype=np.int32),
                                      np.ascontiguousarray(np.concatenate(parts), np.uint32),
                                      starts, counts)
        if len(self._probes) < 64:
            self._probes[r] = result
        return result

    def search(self, queries: np.ndarray, r: int) -> kernel.Hits:
        probe = self.probe(r) if self.tables is not None else None
        if probe is None or self.tables is None:
            return kernel.scan(self.codes, self.alive, queries, r)
        return kernel.mih_query(self.codes, self.alive, self.tables, probe, queries, r)

    def positions(self, refs: np.ndarray) -> np.ndarray:
        """Positions of every (live or dead) entry whose ref is in ``refs``."""
        lo = np.searchsorted(self.refs, refs, side="left")
        hi = np.searchsorted(self.refs, refs, side="right")
        if not len(lo):
            return np.zeros(0, np.int64)
        counts = hi - lo
        total = int(counts.sum())
        if not total:
            return np.zeros(0, np.int64)
        return np.repeat(lo - np.cumsum(counts) + counts, counts) + np.arange(total)

    def kill(self, positions: np.ndarray) -> int:
        if not len(positions):
            return 0
        was = int(np.count_nonzero(self.alive[positions]))
        self.alive[positions] = 0
        self.live -= was
        return was


def _build_tables(codes: np.ndarray, layout: list[tuple[int, int]]) -> kernel.Tables:
    n = len(codes)
    m = len(layout)
    sizes = [(1 << w) + 1 for _, w in layout]
    tab_off = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    offsets = np.empty(int(sum(sizes)), dtype=np.uint32)
    ids = np.empty((m, n), dtype=np.uint32)

    def one(i: int) -> None:
        off, width = layout[i]
        kernel.build_chunk(codes, off, width, offsets[tab_off[i]:tab_off[i] + sizes[i]], ids[i])

    if n >= 200_000 and parallelism() > 1:
        list(_threads().map(one, range(m)))
    else:
        for i in range(m):
            one(i)
    return kernel.Tables(np.array([o for o, _ in layout], dtype=np.int32),
                         np.array([w for _, w in layout], dtype=np.int32),
                         tab_off, offsets, ids)


class _Delta:
    """Recent additions, scanned exhaustively; appended in place up to its capacity."""

    def __init__(self, words: int, capacity: int) -> None:
        self.codes = np.zeros((capacity, words), dtype=np.uint64)
        self.refs = np.zeros(capacity, dtype=np.int64)
        self.banks = np.zeros(capacity, dtype=np.int32)
        self.alive = np.zeros(capacity, dtype=np.uint8)
        self.n = 0
        self.live = 0

    @property
    def capacity(self) -> int:
        return len(self.refs)

    def grown(self, needed: int) -> _Delta:
        bigger = _Delta(self.codes.shape[1], max(needed, 2 * self.capacity, 1024))
        n = self.n
        bigger.codes[:n], bigger.refs[:n] = self.codes[:n], self.refs[:n]
        bigger.banks[:n], bigger.alive[:n] = self.banks[:n], self.alive[:n]
        bigger.n, bigger.live = n, self.live
        return bigger


@dataclass(frozen=True)
class _View:
    segments: tuple[Segment, ...]
    delta: _Delta


@dataclass
class _Merge:
    segments: tuple[Segment, ...]
    removed_refs: list[np.ndarray] = field(default_factory=list)
    removed_banks: list[int] = field(default_factory=list)
    thread: threading.Thread | None = None


@dataclass(frozen=True)
class SearchResult:
    """Hits of a batch, sorted by (query, distance, ref)."""

    query: np.ndarray  # int64
    refs: np.ndarray  # int64
    banks: np.ndarray  # int32
    dist: np.ndarray  # int32
    codes: np.ndarray | None = None  # uint64[k, words] when asked for

    def __len__(self) -> int:
        return len(self.query)


class HammingIndex(SignalIndex):
    """Exact search within a Hamming distance over ``bits``-bit values given as hex.

    ``ref`` is the caller's int (Warding uses the bank entry id) and ``bank`` a
    small int stored with it (the bank id) so that callers can filter by bank
    without a lookup. ``threshold`` is the usual query threshold, used to lay
    out the chunks; any threshold can be queried, always exactly.
    """

    def __init__(self, bits: int = 256, *, threshold: int | None = None,
                 delta_limit: int = 65536, background_merges: bool = True) -> None:
        if bits <= 0 or bits % 8:
            raise ValueError(f"HammingIndex needs a positive multiple of 8 bits, got {bits}")
        self.bits = bits
        self.nbytes = bits // 8
        self.words = words_for(bits)
        self.typical_r = threshold if threshold is not None else max(1, bits // 8)
        self.delta_limit = max(16, delta_limit)
        self.background_merges = background_merges
        self._lock = threading.RLock()
        self._view = _View((), _Delta(self.words, 1024))
        self._merge: _Merge | None = None

    # -- parsing ---------------------------------------------------------------------
    def parse(self, values: Sequence[str]) -> np.ndarray:
        """Hex values as an ``(k, words)`` uint64 array; ValueError names the first bad one."""
        k = len(values)
        width = self.nbytes * 2
        out = np.zeros((k, self.words), dtype=np.uint64)
        if not k:
            return out
        stripped = [v.strip() for v in values]
        try:
            if any(len(v) != width for v in stripped):
                raise ValueError
            raw = np.frombuffer(bytes.fromhex("".join(stripped)), dtype=np.uint8)
        except (ValueError, TypeError):
            for v in values:
                self._check_one(v)
            raise
        out.view(np.uint8).reshape(k, self.words * 8)[:, :self.nbytes] = raw.reshape(k, self.nbytes)
        return out

    def _check_one(self, value: str) -> None:
        text = value.strip() if isinstance(value, str) else value
        if not isinstance(text, str) or len(text) != self.nbytes * 2:
            got = len(text) if isinstance(text, str) else type(value).__name__
            raise ValueError(f"expected {self.nbytes * 2} hex characters for a {self.bits}-bit "
                             f"value, got {got}: {value!r}")
        try:
            bytes.fromhex(text)
        except ValueError as exc:
            raise ValueError(f"not a hex value: {value!r}") from exc

    def to_hex(self, codes: np.ndarray) -> list[str]:
        raw = np.ascontiguousarray(codes, dtype=np.uint64).view(np.uint8)
        raw = raw.reshape(len(codes), self.words * 8)[:, :self.nbytes]
        return [row.tobytes().hex() for row in raw]

    # -- updates ---------------------------------------------------------------------
    def add_codes(self, codes: np.ndarray, refs: np.ndarray, banks: np.ndarray | None = None) -> None:
        """Add entries (parsed codes); visible to the next query."""
        codes = np.ascontiguousarray(codes, dtype=np.uint64).reshape(-1, self.words)
        refs = np.asarray(refs, dtype=np.int64).reshape(-1)
        banks = (np.zeros(len(refs), np.int32) if banks is None
                 else np.asarray(banks, dtype=np.int32).reshape(-1))
        if not (len(codes) == len(refs) == len(banks)):
            raise ValueError("codes, refs and banks must have the same length")
        if not len(refs):
            return
        with self._lock:
            if len(refs) >= self.delta_limit:
                self._flush()
                seg = Segment(codes, refs, banks, self.bits, self.typical_r)
                self._view = _View(self._view.segments + (seg,), self._view.delta)
                self._maybe_merge()
                return
            view = self._view
            delta = view.delta
            if delta.n + len(refs) > delta.capacity:
                delta = delta.grown(delta.n + len(refs))
            n, k = delta.n, len(refs)
            delta.codes[n:n + k] = codes
            delta.refs[n:n + k] = refs
            delta.banks[n:n + k] = banks
            delta.alive[n:n + k] = 1
            delta.live += k
            delta.n = n + k  # publish after the rows are written
            if delta is not view.delta:
                self._view = _View(view.segments, delta)
            if delta.n >= self.delta_limit:
                self._flush()
                self._maybe_merge()

    def add(self, value: str, ref: int, bank: int = 0) -> None:
        self.add_codes(self.parse([value]), np.array([ref]), np.array([bank]))

    def add_many(self, values: Sequence[str], refs: Sequence[int],
                 banks: Sequence[int] | None = None) -> None:
        self.add_codes(self.parse(values), np.asarray(refs),
                       None if banks is None else np.asarray(banks))

    def remove_refs(self, refs: Iterable[int] | np.ndarray) -> int:
        """Remove every entry whose ref is in ``refs``; returns how many were live."""
        arr = np.unique(np.asarray(list(refs) if not isinstance(refs, np.ndarray) else refs,
                                   dtype=np.int64))
        if not len(arr):
            return 0
        with self._lock:
            view = self._view
            removed = 0
            for seg in view.segments:
                removed += seg.kill(seg.positions(arr))
            d = view.delta
            if d.n:
                hit = np.flatnonzero(np.isin(d.refs[:d.n], arr) & (d.alive[:d.n] != 0))
                d.alive[hit] = 0
                d.live -= len(hit)
                removed += len(hit)
            if self._merge is not None:
                self._merge.removed_refs.append(arr)
            self._maybe_merge()
            return removed

    def remove(self, ref: int) -> None:
        self.remove_refs(np.array([ref]))

    def remove_bank(self, bank: int) -> int:
        """Remove every entry of ``bank``."""
        with self._lock:
            view = self._view
            removed = 0
            for seg in view.segments:
                removed += seg.kill(np.flatnonzero((seg.banks == bank) & (seg.alive != 0)))
            d = view.delta
            hit = np.flatnonzero((d.banks[:d.n] == bank) & (d.alive[:d.n] != 0))
            d.alive[hit] = 0
            d.live -= len(hit)
            removed += len(hit)
            if self._merge is not None:
                self._merge.removed_banks.append(bank)
            self._maybe_merge()
            return removed

    def contains_refs(self, refs: np.ndarray) -> np.ndarray:
        """For each ref, whether a live entry has it."""
        refs = np.asarray(refs, dtype=np.int64)
        found = np.zeros(len(refs), dtype=bool)
        view = self._view
        for seg in view.segments:
            if not len(seg):
                continue
            lo = np.searchsorted(seg.refs, refs, side="left")
            hi = np.searchsorted(seg.refs, refs, side="right")
            single = (hi - lo) == 1
            found[single] |= seg.alive[lo[single]] != 0
            for i in np.flatnonzero((hi - lo) > 1):  # one ref with several values: rare
                found[i] |= bool(seg.alive[lo[i]:hi[i]].any())
        d = view.delta
        if d.n:
            live = d.refs[:d.n][d.alive[:d.n] != 0]
            found |= np.isin(refs, live)
        return found

    # -- merges ----------------------------------------------------------------------
    def _flush(self) -> None:
        """Turn the delta into a segment (under the lock)."""
        view = self._view
        d = view.delta
        if not d.n:
            return
        n = d.n
        keep = np.flatnonzero(d.alive[:n])
        segments = view.segments
        if len(keep):
            seg = Segment(d.codes[keep], d.refs[keep], d.banks[keep], self.bits, self.typical_r)
            segments = segments + (seg,)
        self._view = _View(segments, _Delta(self.words, max(1024, min(self.delta_limit, 2 * n))))

    def _mergeable(self) -> list[Segment] | None:
        """Tail of the segment list to merge next (logarithmic method), or None."""
        segs = list(self._view.segments)
        start = 0
        if self._merge is not None:
            busy = set(map(id, self._merge.segments))
            start = max((i + 1 for i, s in enumerate(segs) if id(s) in busy), default=0)
        tail = segs[start:]
        for i, s in enumerate(tail):  # mostly dead segments are rebuilt
            if len(s) >= MIN_MIH and s.live * 2 < len(s):
                return tail[i:i + 1]
        for i in range(len(tail) - 1, 0, -1):
            if tail[i - 1].live <= 2 * sum(s.live for s in tail[i:]):
                return tail[i - 1:]
        return None

    def _maybe_merge(self) -> None:
        while True:
            plan = self._mergeable()
            if plan is None:
                return
            total = sum(s.live for s in plan)
            if total > SYNC_MERGE_LIMIT and self.background_merges:
                if self._merge is None:
                    self._start_background(tuple(plan))
                return
            merged = self._merged(tuple(plan), [s.alive for s in plan])
            self._replace(tuple(plan), merged)

    def _merged(self, plan: tuple[Segment, ...], alive: list[np.ndarray]) -> Segment | None:
        keep = [np.flatnonzero(a) for a in alive]
        if not sum(len(k) for k in keep):
            return None
        codes = np.concatenate([s.codes[k] for s, k in zip(plan, keep, strict=True)])
        refs = np.concatenate([s.refs[k] for s, k in zip(plan, keep, strict=True)])
        banks = np.concatenate([s.banks[k] for s, k in zip(plan, keep, strict=True)])
        return Segment(codes, refs, banks, self.bits, self.typical_r)

    def _replace(self, plan: tuple[Segment, ...], merged: Segment | None) -> None:
        segs = list(self._view.segments)
        first = next(i for i, s in enumerate(segs) if s is plan[0])
        ids = set(map(id, plan))
        rest = [s for s in segs if id(s) not in ids]
        if merged is not None:
            rest.insert(first, merged)
        self._view = _View(tuple(rest), self._view.delta)

    def _start_background(self, plan: tuple[Segment, ...]) -> None:
        alive = [s.alive.copy() for s in plan]
        job = _Merge(plan)
        self._merge = job

        def run() -> None:
            merged = self._merged(plan, alive)
            with self._lock:
                if merged is not None:
                    for refs in job.removed_refs:
                        merged.kill(merged.positions(refs))
                    for bank in job.removed_banks:
                        merged.kill(np.flatnonzero(merged.banks == bank))
                self._replace(plan, merged)
                self._merge = None
                self._maybe_merge()

        job.thread = threading.Thread(target=run, name="warding-mih-merge", daemon=True)
        job.thread.start()

    def wait(self) -> None:
        """Wait for background merges to finish (tests, benchmarks, snapshots)."""
        while True:
            job = self._merge
            if job is None or job.thread is None:
                return
            job.thread.join()

    def compact(self) -> None:
        """Merge everything (delta included) into one segment, in this thread."""
        self.wait()
        with self._lock:
            self._flush()
            plan = self._view.segments
            if len(plan) > 1 or (plan and plan[0].live < len(plan[0])):
                self._replace(plan, self._merged(plan, [s.alive for s in plan]))

    # -- queries ---------------------------------------------------------------------
    def search(self, queries: np.ndarray, threshold: int, *, with_codes: bool = False,
               threads: int | None = None) -> SearchResult:
        """Every live entry within ``threshold`` of each query (parsed codes)."""
        queries = np.ascontiguousarray(queries, dtype=np.uint64).reshape(-1, self.words)
        view = self._view
        d = view.delta
        dn = d.n
        r = min(int(threshold), self.bits)
        workers = threads if threads is not None else parallelism()
        if workers > 1 and len(queries) >= 32 and len(self) >= 50_000:
            parts = np.array_split(np.arange(len(queries)), workers)
            results = list(_threads().map(
                lambda idx: self._search_view(view, dn, queries[idx], r, with_codes), parts))
            for part, res in zip(parts, results, strict=True):
                res.query[:] = part[res.query] if len(res) else res.query
            return _concat(results, with_codes)
        return self._search_view(view, dn, queries, r, with_codes)

    def _search_view(self, view: _View, dn: int, queries: np.ndarray, r: int,
                     with_codes: bool) -> SearchResult:
        parts: list[tuple[Any, kernel.Hits]] = []
        for seg in view.segments:
            if seg.live:
                hits = seg.search(queries, r)
                if len(hits):
                    parts.append((seg, hits))
        d = view.delta
        if dn:
            hits = kernel.scan(d.codes[:dn], d.alive[:dn], queries, r)
            if len(hits):
                parts.append((d, hits))
        if not parts:
            return SearchResult(np.zeros(0, np.int64), np.zeros(0, np.int64),
                                np.zeros(0, np.int32), np.zeros(0, np.int32),
                                np.zeros((0, self.words), np.uint64) if with_codes else None)
        q = np.concatenate([h.query for _, h in parts]).astype(np.int64)
        refs = np.concatenate([src.refs[h.pos] for src, h in parts])
        banks = np.concatenate([src.banks[h.pos] for src, h in parts])
        dist = np.concatenate([h.dist for _, h in parts]).astype(np.int32)
        codes = np.concatenate([src.codes[h.pos] for src, h in parts]) if with_codes else None
        order = np.lexsort((refs, dist, q))
        return SearchResult(q[order], refs[order], banks[order], dist[order],
                            codes[order] if codes is not None else None)

    def query(self, value: str, threshold: int) -> list[IndexHit]:
        """Every live entry within Hamming distance ``threshold`` (inclusive), closest first."""
        return self.query_many([value], threshold)[0]

    def query_many(self, values: Sequence[str], threshold: int) -> list[list[IndexHit]]:
        codes = self.parse(list(values))
        out: list[list[IndexHit]] = [[] for _ in values]
        if threshold < 0:
            return out
        res = self.search(codes, threshold, with_codes=True)
        hexes = self.to_hex(res.codes) if res.codes is not None else []
        for qi, ref, dist, value in zip(res.query.tolist(), res.refs.tolist(), res.dist.tolist(),
                                        hexes, strict=True):
            out[qi].append(IndexHit(value, ref, dist))
        return out

    # -- state -----------------------------------------------------------------------
    def __len__(self) -> int:
        view = self._view
        return sum(s.live for s in view.segments) + view.delta.live

    def live(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every live entry: (codes, refs, banks), sorted by ref."""
        view = self._view
        d = view.delta
        parts = [(s.codes, s.refs, s.banks, s.alive) for s in view.segments]
        parts.append((d.codes[:d.n], d.refs[:d.n], d.banks[:d.n], d.alive[:d.n]))
        keep = [np.flatnonzero(a) for *_, a in parts]
        codes = np.concatenate([p[0][k] for p, k in zip(parts, keep, strict=True)])
        refs = np.concatenate([p[1][k] for p, k in zip(parts, keep, strict=True)])
        banks = np.concatenate([p[2][k] for p, k in zip(parts, keep, strict=True)])
        order = np.argsort(refs, kind="stable")
        return codes[order], refs[order], banks[order]

    def to_arrays(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """The index as (meta, arrays) for :mod:`warding.matching.store`: every segment with
        its tables, tombstones and the delta, so that loading rebuilds nothing."""
        self.wait()
        with self._lock:
            view = self._view
            d = view.delta
            arrays: dict[str, np.ndarray] = {}
            segs = []
            for i, seg in enumerate(view.segments):
                p = f"s{i}."
                arrays[p + "codes"] = seg.codes.view(np.uint8).reshape(len(seg), self.words * 8)
                arrays[p + "refs"], arrays[p + "banks"] = seg.refs, seg.banks
                arrays[p + "alive"] = seg.alive.copy()
                if seg.tables is not None:
                    t = seg.tables
                    arrays.update({p + "coff": t.coff, p + "cbits": t.cbits, p + "tab_off": t.tab_off,
                                   p + "offsets": t.offsets, p + "ids": t.ids})
                segs.append({"entries": len(seg), "tables": seg.tables is not None})
            n = d.n
            arrays["delta.codes"] = d.codes[:n].copy().view(np.uint8).reshape(n, self.words * 8)
            arrays["delta.refs"], arrays["delta.banks"] = d.refs[:n].copy(), d.banks[:n].copy()
            arrays["delta.alive"] = d.alive[:n].copy()
            meta = {"kind": "hamming", "bits": self.bits, "threshold": self.typical_r,
                    "segments": segs, "entries": len(self)}
        return meta, arrays

    @classmethod
    def from_snapshot(cls, meta: dict[str, Any], arrays: dict[str, np.ndarray], **kw: Any) -> Self:
        """The index saved by :meth:`to_arrays`; ValueError if the arrays do not fit together."""
        try:
            index = cls(bits=int(meta["bits"]), threshold=int(meta["threshold"]), **kw)
            w = index.words

            def codes(name: str) -> np.ndarray:
                raw = np.ascontiguousarray(arrays[name], dtype=np.uint8)
                if raw.ndim != 2 or raw.shape[1] != w * 8:
                    raise ValueError(f"{name}: wrong shape {raw.shape}")
                return raw.view(np.uint64).reshape(len(raw), w)

            segments = []
            for i, spec in enumerate(meta["segments"]):
                p = f"s{i}."
                tables = None
                if spec["tables"]:
                    tables = kernel.Tables(arrays[p + "coff"].astype(np.int32),
                                           arrays[p + "cbits"].astype(np.int32),
                                           arrays[p + "tab_off"].astype(np.int64),
                                           arrays[p + "offsets"], arrays[p + "ids"])
                    _check_tables(tables, len(arrays[p + "refs"]), index.bits)
                segments.append(Segment.restore(codes(p + "codes"), arrays[p + "refs"],
                                                arrays[p + "banks"], arrays[p + "alive"],
                                                tables, index.bits))
            dcodes = codes("delta.codes")
            delta = _Delta(w, max(1024, len(dcodes)))
            n = len(dcodes)
            delta.codes[:n], delta.refs[:n] = dcodes, arrays["delta.refs"]
            delta.banks[:n], delta.alive[:n] = arrays["delta.banks"], arrays["delta.alive"]
            delta.n, delta.live = n, int(np.count_nonzero(delta.alive[:n]))
            index._view = _View(tuple(segments), delta)
            return index
        except (KeyError, TypeError, IndexError) as exc:
            raise ValueError(f"index arrays do not fit together: {exc!r}") from exc

    def stats(self) -> dict[str, Any]:
        view = self._view
        return {
            "entries": len(self),
            "segments": [len(s) for s in view.segments],
            "delta": view.delta.n,
            "bytes": sum(s.nbytes for s in view.segments) + view.delta.codes.nbytes
            + view.delta.refs.nbytes + view.delta.banks.nbytes + view.delta.alive.nbytes,
            "kernel": kernel.active(),
            "merging": self._merge is not None,
        }

    @classmethod
    def build(cls, entries: Iterable[tuple[str, int]], bits: int | None = None, **kw: Any) -> Self:
        """An index of ``entries`` (value, ref); ``bits`` defaults to the first value's length."""
        items = list(entries)
        if bits is None:
            if not items:
                raise ValueError("HammingIndex.build needs bits= when there are no entries")
            bits = len(items[0][0].strip()) * 4
        index = cls(bits=bits, **kw)
        if items:
            index.add_codes(index.parse([v for v, _ in items]), np.array([r for _, r in items]))
        return index

    @classmethod
    def from_arrays(cls, bits: int, codes: np.ndarray, refs: np.ndarray, banks: np.ndarray,
                    **kw: Any) -> Self:
        """An index holding one segment of these entries (a bulk build or a snapshot load)."""
        index = cls(bits=bits, **kw)
        if len(refs):
            with index._lock:
                seg = Segment(np.ascontiguousarray(codes, np.uint64).reshape(-1, index.words),
                              refs, banks, bits, index.typical_r)
                index._view = _View((seg,), index._view.delta)
        return index


def _check_tables(t: kernel.Tables, n: int, bits: int) -> None:
    """Bounds the compiled kernel relies on (a snapshot is data, not trusted code)."""
    m = len(t.coff)
    if not (len(t.cbits) == len(t.tab_off) == m and t.ids.shape == (m, n)):
        raise ValueError("multi-index tables have inconsistent shapes")
    for i in range(m):
        off, width, start = int(t.coff[i]), int(t.cbits[i]), int(t.tab_off[i])
        if not (0 <= off and 1 <= width <= 30 and off + width <= bits and start >= 0
                and start + (1 << width) + 1 <= len(t.offsets)):
            raise ValueError(f"multi-index chunk {i} is out of bounds")
        table = t.offsets[start:start + (1 << width) + 1]
        if table[0] != 0 or table[-1] != n or bool(np.any(table[1:] < table[:-1])):
            raise ValueError(f"multi-index chunk {i} has invalid bucket offsets")
    if n and m and int(t.ids.max()) >= n:
        raise ValueError("multi-index ids point outside the segment")


def _concat(results: list[SearchResult], with_codes: bool) -> SearchResult:
    q = np.concatenate([r.query for r in results])
    refs = np.concatenate([r.refs for r in results])
    banks = np.concatenate([r.banks for r in results])
    dist = np.concatenate([r.dist for r in results])
    codes = np.concatenate([r.codes for r in results if r.codes is not None]) if with_codes else None
    return SearchResult(q, refs, banks, dist, codes)
