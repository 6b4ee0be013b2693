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

This module holds the index and its updates and merges; beside it are ``mih_layout``
(chunk layouts and search plans), ``mih_segment`` (segments, the delta, the view),
``mih_search`` (searching a view) and ``mih_snapshot`` (a view as arrays, and back).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Self

import numpy as np

from warding.matching import kernel
from warding.matching.base import IndexHit, SignalIndex
from warding.matching.mih_layout import MIN_MIH, words_for
from warding.matching.mih_search import SearchResult, concat, search_view
from warding.matching.mih_segment import Delta, Segment, View, parallelism, shared_pool
from warding.matching.mih_snapshot import view_arrays, view_from_arrays

SYNC_MERGE_LIMIT = 1_000_000
"""Merges of at most this many entries run in the caller's thread (about 0.1 s)."""


@dataclass
class _Merge:
    segments: tuple[Segment, ...]
    removed_refs: list[np.ndarray] = field(default_factory=list)
    removed_banks: list[int] = field(default_factory=list)
    thread: threading.Thread | None = None


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
        self._view = View((), Delta(self.words, 1024))
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
                self._view = View(self._view.segments + (seg,), self._view.delta)
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
                self._view = View(view.segments, delta)
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
        self._view = View(segments, Delta(self.words, max(1024, min(self.delta_limit, 2 * n))))

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
        self._view = View(tuple(rest), self._view.delta)

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
            results = list(shared_pool().map(
                lambda idx: search_view(view, dn, queries[idx], r, with_codes, self.words), parts))
            for part, res in zip(parts, results, strict=True):
                res.query[:] = part[res.query] if len(res) else res.query
            return concat(results, with_codes)
        return search_view(view, dn, queries, r, with_codes, self.words)

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
            segs, arrays = view_arrays(self._view, self.words)
            meta = {"kind": "hamming", "bits": self.bits, "threshold": self.typical_r,
                    "segments": segs, "entries": len(self)}
        return meta, arrays

    @classmethod
    def from_snapshot(cls, meta: dict[str, Any], arrays: dict[str, np.ndarray], **kw: Any) -> Self:
        """The index saved by :meth:`to_arrays`; ValueError if the arrays do not fit together."""
        try:
            index = cls(bits=int(meta["bits"]), threshold=int(meta["threshold"]), **kw)
            index._view = view_from_arrays(meta["segments"], arrays, index.words, index.bits)
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
                index._view = View((seg,), index._view.delta)
        return index
