"""A Hamming index of a few entries, searched by many queries (retroactive matching).

The live engine's planner weighs one query against millions of entries; here it is the
other way round: 1,000 entries, 10,000,000 queries. Multi-index hashing with chunks of
about 16 bits (the kernel's :func:`~warding.matching.kernel.mih_query`) then costs a few
hundred table probes per query, measured about three times faster than comparing each
query with every entry (:func:`~warding.matching.kernel.scan`); the exact distance is
checked either way, so the answer is the same.
"""

from __future__ import annotations

import numpy as np

from warding.matching import kernel
from warding.matching.mih_layout import (
    MAX_CHUNK_BITS,
    masks_within,
    plan_thresholds,
    split_bits,
    words_for,
)
from warding.matching.mih_segment import build_tables

CHUNK_BITS = 16
MAX_PROBES = 4_096
MIN_ENTRIES = 64


class SmallHamming:
    def __init__(self, bits: int, codes: np.ndarray, refs: np.ndarray, threshold: int) -> None:
        self.words = words_for(bits)
        self.codes = np.ascontiguousarray(codes, dtype=np.uint64).reshape(-1, self.words)
        self.refs = np.asarray(refs, dtype=np.int64)
        self.alive = np.ones(len(self.refs), dtype=np.uint8)
        self.threshold = int(threshold)
        self.tables: kernel.Tables | None = None
        self.probe: kernel.Probe | None = None
        if len(self.refs) >= MIN_ENTRIES:
            self._plan(bits)

    def _plan(self, bits: int) -> None:
        layout = split_bits(bits, max(1, bits // CHUNK_BITS))
        widths = [w for _, w in layout]
        if max(widths) > MAX_CHUNK_BITS:
            return
        t, _ = plan_thresholds(widths, len(self.refs), self.threshold)
        parts = [masks_within(w, ti) if ti >= 0 else np.zeros(0, np.uint32)
                 for w, ti in zip(widths, t, strict=True)]
        counts = np.array([len(p) for p in parts], dtype=np.int64)
        if int(counts.sum()) > MAX_PROBES:
            return  # a wide threshold: scanning is cheaper
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
        self.tables = build_tables(self.codes, layout)
        self.probe = kernel.Probe(np.array(t, dtype=np.int32),
                                  np.ascontiguousarray(np.concatenate(parts), np.uint32),
                                  starts, counts)

    def search(self, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                   np.ndarray]:
        """(query index, entry ref, distance, entry code) of every entry within the threshold."""
        queries = np.ascontiguousarray(queries, dtype=np.uint64).reshape(-1, self.words)
        if self.tables is not None and self.probe is not None:
            hits = kernel.mih_query(self.codes, self.alive, self.tables, self.probe, queries,
                                    self.threshold)
        else:
            hits = kernel.scan(self.codes, self.alive, queries, self.threshold)
        pos = hits.pos.astype(np.int64)
        return (hits.query.astype(np.int64), self.refs[pos], hits.dist.astype(np.int32),
                self.codes[pos])
