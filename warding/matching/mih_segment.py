"""The pieces a :class:`~warding.matching.mih.HammingIndex` is made of: immutable segments
(codes sorted by ``ref``, tombstones, and multi-index tables when they pay off), the delta of
recent additions, the view a query reads, and the shared thread pool for table builds and
batch queries.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from warding.matching import kernel
from warding.matching.mih_layout import choose_layout, masks_within, probe_thresholds

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def shared_pool() -> ThreadPoolExecutor:
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
            self.tables = build_tables(self.codes, layout)

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
            t = probe_thresholds(widths, len(self.refs), r)
            if t is not None:
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


def build_tables(codes: np.ndarray, layout: list[tuple[int, int]]) -> kernel.Tables:
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
        list(shared_pool().map(one, range(m)))
    else:
        for i in range(m):
            one(i)
    return kernel.Tables(np.array([o for o, _ in layout], dtype=np.int32),
                         np.array([w for _, w in layout], dtype=np.int32),
                         tab_off, offsets, ids)


class Delta:
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

    def grown(self, needed: int) -> Delta:
        bigger = Delta(self.codes.shape[1], max(needed, 2 * self.capacity, 1024))
        n = self.n
        bigger.codes[:n], bigger.refs[:n] = self.codes[:n], self.refs[:n]
        bigger.banks[:n], bigger.alive[:n] = self.banks[:n], self.alive[:n]
        bigger.n, bigger.live = n, self.live
        return bigger


@dataclass(frozen=True)
class View:
    """What a query reads: the immutable segments and the delta, replaced in one assignment."""

    segments: tuple[Segment, ...]
    delta: Delta
