"""How multi-index hashing cuts a code into chunks and plans a search (see ``mih.py`` for
the method): the chunk layout with the lowest estimated cost for a segment's size, and per
threshold ``r`` the chunk thresholds ``t_i`` with ``sum(t_i) >= r - m + 1`` at the least
estimated cost, or None when scanning every code is cheaper.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

MIN_MIH = 2048
"""Segments smaller than this are always scanned (tables would not pay off)."""
MAX_CHUNK_BITS = 24
MIN_CHUNK_BITS = 6
SCAN_COST = 0.06
"""Cost of checking one code in an exhaustive scan, relative to one random memory access."""
MAX_PROBES = 2_000_000


def words_for(bits: int) -> int:
    return (bits + 63) // 64


@lru_cache(maxsize=256)
def _n_within(bits: int, t: int) -> int:
    return sum(math.comb(bits, k) for k in range(min(t, bits) + 1)) if t >= 0 else 0


@lru_cache(maxsize=256)
def masks_within(bits: int, t: int) -> np.ndarray:
    """Every ``bits``-bit XOR mask with at most ``t`` bits set, by popcount."""
    out: list[int] = []
    for k in range(min(t, bits) + 1):
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


def probe_thresholds(widths: Sequence[int], n: int, r: int) -> list[int] | None:
    """The chunk thresholds for a search at ``r`` in a segment of ``n`` codes with chunks of
    these widths, or None when scanning every code is cheaper (or the probes too many)."""
    t, cost = plan_thresholds(widths, n, r)
    probes = sum(_n_within(w, ti) for w, ti in zip(widths, t, strict=True))
    if cost < n * SCAN_COST and probes <= MAX_PROBES:
        return t
    return None
