"""Retroactive matching of videos: the frame hits of the stream, decided per video.

The stream finds stored frames within the threshold of a changed entry's frames; each (item,
entry) pair found is then compared whole (all the item's frames of that video against all the
entry's frames, :func:`warding.matching.video.compare`) and kept when the shares of frames
matched pass the signal's settings, as a live lookup would decide.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import Connection, select

from warding.db.models import Signal
from warding.incidents.retro import Entries, Hit
from warding.matching.video import accepts, compare
from warding.signals.base import SignalType
from warding.signals.vpdq import frames_of


def whole_videos(conn: Connection, hits: Sequence[Hit], entries: Entries,
                 types: Mapping[str, SignalType]) -> list[Hit]:
    """``hits`` with the frame hits of multi-valued types replaced by whole-video matches."""
    out = [h for h in hits if not types[h.signal_type].multi]
    pairs = sorted({(h.item_id, h.entry_id, h.signal_type) for h in hits
                    if types[h.signal_type].multi})
    for item_id, entry_id, stype in pairs:
        st = types[stype]
        threshold = _threshold(st, entries)
        bank = frames_of(v for e, v in entries.values.get(stype, []) if e == entry_id)
        by_origin: dict[str, list[str]] = {}
        for origin, value in conn.execute(select(Signal.origin, Signal.value).where(
                Signal.item_id == item_id, Signal.signal_type == stype)):
            by_origin.setdefault(origin, []).append(value)
        best = None
        for values in by_origin.values():
            found = compare(frames_of(values), bank, threshold)
            if found is not None and accepts(st, found) and (
                    best is None or found.distance < best.distance):
                best = found
        if best is not None:
            out.append(Hit(item_id, entry_id, stype, best.bank_frame, best.query_frame,
                           float(best.distance)))
    return out


def _threshold(st: SignalType, entries: Entries) -> int:
    try:
        return int(entries.thresholds.get(st.name, st.default_threshold))
    except (TypeError, ValueError):
        return st.default_threshold
