"""A Hamming index's view as arrays for :mod:`warding.matching.store`, and back: every
segment with its tables and tombstones, and the delta, so that loading rebuilds nothing.
Tables read from a snapshot are checked against the bounds the compiled kernel relies on.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from warding.matching import kernel
from warding.matching.mih_segment import Delta, Segment, View


def view_arrays(view: View, words: int) -> tuple[list[dict[str, Any]], dict[str, np.ndarray]]:
    """(segment specs, arrays) of ``view``, for the snapshot's meta and its arrays."""
    d = view.delta
    arrays: dict[str, np.ndarray] = {}
    segs = []
    for i, seg in enumerate(view.segments):
        p = f"s{i}."
        arrays[p + "codes"] = seg.codes.view(np.uint8).reshape(len(seg), words * 8)
        arrays[p + "refs"], arrays[p + "banks"] = seg.refs, seg.banks
        arrays[p + "alive"] = seg.alive.copy()
        if seg.tables is not None:
            t = seg.tables
            arrays.update({p + "coff": t.coff, p + "cbits": t.cbits, p + "tab_off": t.tab_off,
                           p + "offsets": t.offsets, p + "ids": t.ids})
        segs.append({"entries": len(seg), "tables": seg.tables is not None})
    n = d.n
    arrays["delta.codes"] = d.codes[:n].copy().view(np.uint8).reshape(n, words * 8)
    arrays["delta.refs"], arrays["delta.banks"] = d.refs[:n].copy(), d.banks[:n].copy()
    arrays["delta.alive"] = d.alive[:n].copy()
    return segs, arrays


def view_from_arrays(specs: list[dict[str, Any]], arrays: dict[str, np.ndarray], words: int,
                     bits: int) -> View:
    """The view saved by :func:`view_arrays`; ValueError (or KeyError, TypeError, IndexError)
    if the arrays do not fit together."""
    w = words

    def codes(name: str) -> np.ndarray:
        raw = np.ascontiguousarray(arrays[name], dtype=np.uint8)
        if raw.ndim != 2 or raw.shape[1] != w * 8:
            raise ValueError(f"{name}: wrong shape {raw.shape}")
        return raw.view(np.uint64).reshape(len(raw), w)

    segments = []
    for i, spec in enumerate(specs):
        p = f"s{i}."
        tables = None
        if spec["tables"]:
            tables = kernel.Tables(arrays[p + "coff"].astype(np.int32),
                                   arrays[p + "cbits"].astype(np.int32),
                                   arrays[p + "tab_off"].astype(np.int64),
                                   arrays[p + "offsets"], arrays[p + "ids"])
            _check_tables(tables, len(arrays[p + "refs"]), bits)
        segments.append(Segment.restore(codes(p + "codes"), arrays[p + "refs"],
                                        arrays[p + "banks"], arrays[p + "alive"],
                                        tables, bits))
    dcodes = codes("delta.codes")
    delta = Delta(w, max(1024, len(dcodes)))
    n = len(dcodes)
    delta.codes[:n], delta.refs[:n] = dcodes, arrays["delta.refs"]
    delta.banks[:n], delta.alive[:n] = arrays["delta.banks"], arrays["delta.alive"]
    delta.n, delta.live = n, int(np.count_nonzero(delta.alive[:n]))
    return View(tuple(segments), delta)


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
