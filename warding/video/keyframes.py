"""Key frames of an item's videos for the case view: the sampled frames (one a second), which
of them matched a bank video and which banks, a dozen at most (the matched ones first)."""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from warding.db.models import Bank, BankSignal, ItemMedia, Match, Signal
from warding.matching.video import compare
from warding.signals.base import SignalType
from warding.signals.vpdq import VpdqFrame, frames_of

MAX_KEY_FRAMES = 12
THUMB_SIDE = 320


@dataclass(frozen=True)
class KeyFrame:
    timestamp: float
    matched: bool
    banks: tuple[str, ...] = ()

    @property
    def ms(self) -> int:
        return round(self.timestamp * 1000)


def key_frames(session: Session, item_id: int,
               types: Mapping[str, SignalType]) -> dict[str, list[KeyFrame]]:
    """Key frames of each video of the item, by the media file's SHA-256."""
    multi = [name for name, st in types.items() if st.multi]
    if not multi:
        return {}
    by_origin: dict[str, list[VpdqFrame]] = {}
    for origin, value in session.execute(select(Signal.origin, Signal.value).where(
            Signal.item_id == item_id, Signal.signal_type.in_(multi))):
        try:
            by_origin.setdefault(origin, []).append(VpdqFrame.parse(value))
        except ValueError:
            continue
    if not by_origin:
        return {}
    matched = _matched(session, item_id, types, multi, by_origin)
    out: dict[str, list[KeyFrame]] = {}
    for sha, name in session.execute(select(ItemMedia.sha256, ItemMedia.name).where(
            ItemMedia.item_id == item_id)):
        frames = by_origin.get(f"media:{name}")
        if frames:
            hits = matched.get(f"media:{name}", {})
            out[sha] = _choose([KeyFrame(f.timestamp, f.timestamp in hits,
                                         tuple(sorted(hits.get(f.timestamp, ()))))
                                for f in sorted(frames, key=lambda f: f.timestamp)])
    return out


def _matched(session: Session, item_id: int, types: Mapping[str, SignalType], multi: list[str],
             by_origin: dict[str, list[VpdqFrame]]) -> dict[str, dict[float, set[str]]]:
    """Per origin, the timestamps that matched a frame of a matched bank video, and the banks."""
    out: dict[str, dict[float, set[str]]] = {}
    rows = session.execute(select(Match.entry_id, Match.signal_type, Bank.name, Bank.thresholds)
                           .join(Bank, Bank.id == Match.bank_id)
                           .where(Match.item_id == item_id, Match.signal_type.in_(multi))).all()
    for entry_id, stype, bank, thresholds in rows:
        st = types[stype]
        bank_frames = frames_of(session.execute(select(BankSignal.value).where(
            BankSignal.entry_id == entry_id, BankSignal.signal_type == stype)).scalars())
        try:
            threshold = int((thresholds or {}).get(stype, st.default_threshold))
        except (TypeError, ValueError):
            threshold = st.default_threshold
        for origin, frames in by_origin.items():
            found = compare(frames, bank_frames, threshold)
            if found is not None:
                for t in found.query_frames:
                    out.setdefault(origin, {}).setdefault(t, set()).add(bank)
    return out


def _choose(frames: list[KeyFrame]) -> list[KeyFrame]:
    """At most MAX_KEY_FRAMES: up to half of them matched frames, the rest evenly spread."""
    if len(frames) <= MAX_KEY_FRAMES:
        return frames
    matched = [f for f in frames if f.matched]
    keep = set(_spread(matched, MAX_KEY_FRAMES // 2)) if matched else set()
    rest = [f for f in frames if f not in keep]
    keep |= set(_spread(rest, MAX_KEY_FRAMES - len(keep)))
    return sorted(keep, key=lambda f: f.timestamp)


def _spread(frames: list[KeyFrame], n: int) -> list[KeyFrame]:
    if len(frames) <= n:
        return frames
    return [frames[int(i * len(frames) / n)] for i in range(n)]


def thumbnail_jpeg(data: bytes, timestamp: float) -> bytes:
    """The frame at ``timestamp`` as a small JPEG (the console blurs it by default)."""
    from PIL import Image

    from warding.video.frames import frame_at

    image = frame_at(data, timestamp)
    image.thumbnail((THUMB_SIDE, THUMB_SIDE), Image.Resampling.BILINEAR)
    out = io.BytesIO()
    image.convert("RGB").save(out, format="JPEG", quality=80)
    return out.getvalue()
