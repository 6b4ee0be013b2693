"""Searching a Hamming index's view: every segment (by its tables or a scan) and the delta,
hits merged and sorted by (query, distance, ref)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from warding.matching import kernel
from warding.matching.mih_segment import View


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


def search_view(view: View, dn: int, queries: np.ndarray, r: int, with_codes: bool,
                words: int) -> SearchResult:
    """Every live entry of ``view`` (its delta's first ``dn`` rows) within ``r`` of each
    query."""
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
                            np.zeros((0, words), np.uint64) if with_codes else None)
    q = np.concatenate([h.query for _, h in parts]).astype(np.int64)
    refs = np.concatenate([src.refs[h.pos] for src, h in parts])
    banks = np.concatenate([src.banks[h.pos] for src, h in parts])
    dist = np.concatenate([h.dist for _, h in parts]).astype(np.int32)
    codes = np.concatenate([src.codes[h.pos] for src, h in parts]) if with_codes else None
    order = np.lexsort((refs, dist, q))
    return SearchResult(q[order], refs[order], banks[order], dist[order],
                        codes[order] if codes is not None else None)


def concat(results: list[SearchResult], with_codes: bool) -> SearchResult:
    """The results of a batch searched in parts, in the order of the parts."""
    q = np.concatenate([r.query for r in results])
    refs = np.concatenate([r.refs for r in results])
    banks = np.concatenate([r.banks for r in results])
    dist = np.concatenate([r.dist for r in results])
    codes = np.concatenate([r.codes for r in results if r.codes is not None]) if with_codes else None
    return SearchResult(q, refs, banks, dist, codes)
