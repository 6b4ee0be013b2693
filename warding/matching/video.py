"""Video matching (vPDQ), as HMA and threatexchange decide it.

Each distinct frame of the query with PDQ quality ≥ 50 is searched in the signal's Hamming
index (the multi-index engine, so a lookup stays sub-linear in the number of bank frames) at
each bank's ``vpdq`` threshold (31 by default). For every bank video hit, two shares are
counted over distinct good-quality frames: the query's frames that matched one of its frames,
and its frames that matched one of the query's. The video matches when the first is at least
``vpdq_query_match_percent`` (80) and the second at least ``vpdq_index_match_percent`` (0).
The result says which frames matched (their timestamps) on both sides.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from warding.signals.vpdq import VpdqFrame, frames_of

if TYPE_CHECKING:
    from warding.matching.service import MatchEngine, MatchResult
    from warding.signals.base import SignalType


@dataclass
class _Hit:
    query: set[str] = field(default_factory=set)  # query frame hashes that matched
    stored: set[str] = field(default_factory=set)  # bank frame hashes matched
    best: MatchResult | None = None


def good_frames(frames: Sequence[VpdqFrame], min_quality: int) -> dict[str, list[float]]:
    """Distinct frame hashes of good quality, with the timestamps where each appears."""
    out: dict[str, list[float]] = {}
    for f in frames:
        if f.quality >= min_quality:
            out.setdefault(f.pdq, []).append(f.timestamp)
    return out


def lookup(engine: MatchEngine, queries: Sequence[tuple[str, str]], banks: set[str] | None,
           include_disabled: bool) -> dict[int, list[MatchResult]]:
    """Matches of the multi-valued queries (by position); an invalid value matches nothing."""
    out: dict[int, list[MatchResult]] = {}
    for i, (signal_type, value) in enumerate(queries):
        st = engine.core.types.get(signal_type)
        if st is None or not st.multi:
            continue
        try:
            frames = frames_of(st.split(value))
        except ValueError:
            out[i] = []
            continue
        out[i] = match_frames(engine, st, frames, banks, include_disabled)
    return out


def match_frames(engine: MatchEngine, st: SignalType, frames: Sequence[VpdqFrame],
                 banks: set[str] | None = None, include_disabled: bool = False,
                 ) -> list[MatchResult]:
    from dataclasses import replace

    min_quality = int(getattr(st, "min_quality", 50))
    query = good_frames(frames, min_quality)
    if not query:
        return []
    hexes = list(query)
    raw, meta = engine.raw_hits([(st.name, h) for h in hexes], banks=banks,
                                include_disabled=include_disabled)
    hits: dict[tuple[int, int], _Hit] = {}
    for h, results in zip(hexes, raw, strict=True):
        for r in results:
            hit = hits.setdefault((r.bank_id, r.entry_id), _Hit())
            hit.query.add(h)
            hit.stored.add(r.value)
            if hit.best is None or r.distance < hit.best.distance:
                hit.best = r
    out = []
    need_query = float(getattr(st, "query_match_percent", 80.0))
    need_bank = float(getattr(st, "index_match_percent", 0.0))
    for (_, entry_id), hit in hits.items():
        assert hit.best is not None
        bank_frames = frames_of(meta[entry_id].values.get(st.name, ()))
        stored = good_frames(bank_frames, min_quality)
        matched = hit.stored & set(stored)
        query_pct = 100.0 * len(hit.query) / len(query)
        bank_pct = 100.0 * len(matched) / len(stored) if stored else 0.0
        if query_pct < need_query or bank_pct < need_bank:
            continue
        best_query = next(f for f in frames if f.pdq == hit.best.query)
        best_stored = next(str(f) for f in bank_frames if f.pdq == hit.best.value)
        out.append(replace(hit.best, value=best_stored, query=str(best_query), frames={
            "query_match_percent": round(query_pct, 1),
            "bank_match_percent": round(bank_pct, 1),
            "query_frames": sorted(t for h in hit.query for t in query[h]),
            "bank_frames": sorted(t for h in matched for t in stored[h]),
            "query_frame_count": len(query), "bank_frame_count": len(stored)}))
    return sorted(out, key=lambda r: (-r.frames["query_match_percent"], r.distance, r.bank,
                                      r.entry_id))


@dataclass(frozen=True)
class Comparison:
    """Two videos compared frame by frame (the case view, retroactive matching)."""

    query_match_percent: float
    bank_match_percent: float
    query_frames: list[float]  # timestamps of the query's frames that matched
    bank_frames: list[float]
    distance: int  # the closest pair of frames
    query_frame: str  # that pair, as stored
    bank_frame: str

    def as_json(self) -> dict[str, object]:
        return {"query_match_percent": round(self.query_match_percent, 1),
                "bank_match_percent": round(self.bank_match_percent, 1),
                "query_frames": self.query_frames, "bank_frames": self.bank_frames}


def _bits(hexes: Sequence[str]) -> np.ndarray:
    return np.unpackbits(np.frombuffer(bytes.fromhex("".join(hexes)), dtype=np.uint8)
                         .reshape(len(hexes), 32), axis=1)


def compare(query: Sequence[VpdqFrame], bank: Sequence[VpdqFrame], threshold: int,
            min_quality: int = 50) -> Comparison | None:
    """Every good frame of ``query`` against every good frame of ``bank`` (None: no pair
    within ``threshold``)."""
    q, b = good_frames(query, min_quality), good_frames(bank, min_quality)
    if not q or not b:
        return None
    qh, bh = list(q), list(b)
    qb, bb = _bits(qh).astype(np.int32), _bits(bh).astype(np.int32)
    dist = qb.shape[1] - (qb @ bb.T + (1 - qb) @ (1 - bb).T)  # Hamming distances
    close = dist <= threshold
    if not close.any():
        return None
    qi, bi = np.unravel_index(int(np.argmin(dist)), dist.shape)
    q_ok, b_ok = close.any(axis=1), close.any(axis=0)
    first = {f.pdq: f for f in reversed(list(query))}
    first_b = {f.pdq: f for f in reversed(list(bank))}
    return Comparison(
        100.0 * int(q_ok.sum()) / len(qh), 100.0 * int(b_ok.sum()) / len(bh),
        sorted(t for k, h in enumerate(qh) if q_ok[k] for t in q[h]),
        sorted(t for k, h in enumerate(bh) if b_ok[k] for t in b[h]),
        int(dist[qi, bi]), str(first[qh[qi]]), str(first_b[bh[bi]]))


def accepts(st: SignalType, found: Comparison) -> bool:
    """Whether the shares of frames matched make a video match (the signal's settings)."""
    return (found.query_match_percent >= float(getattr(st, "query_match_percent", 80.0))
            and found.bank_match_percent >= float(getattr(st, "index_match_percent", 0.0)))


def frames_line(frames: dict[str, object]) -> str:
    """One line for the CLI: the shares matched and the query's frames that matched."""
    times = frames.get("query_frames") or []
    shown = ", ".join(f"{float(t):g}" for t in list(times)[:12])  # type: ignore[call-overload]
    more = " ..." if len(times) > 12 else ""  # type: ignore[arg-type]
    return (f"frames: {frames.get('query_match_percent')}% of the video, "
            f"{frames.get('bank_match_percent')}% of the bank video; at {shown}{more} s")
