"""vPDQ: Meta's video hash, a PDQ hash (with its quality) of one frame per second.

The exchange form is threatexchange's (and so HMA's and the hash-sharing lists'): a JSON list
of ``"<pdq hex>,<quality>,<timestamp>"`` strings, one per sampled frame. Warding stores and
indexes each frame string as one value (so frame hashes go into the multi-index Hamming engine
and lookups stay sub-linear) and decides on the whole video afterwards
(:mod:`warding.matching.video`).

Frames come from PyAV (FFmpeg in the wheel), one per second, with black borders (letterbox,
pillarbox) trimmed before hashing (:mod:`warding.video.borders`); Meta's ``vpdq`` package is
not used because it only builds from source against the FFmpeg development libraries.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from warding.signals.base import ContentKind, MatchKind, SignalError, SignalType
from warding.signals.hashes import _validate_hex

#: Frames below this PDQ quality are kept in the hash but ignored when matching
#: (threatexchange's VPDQ_QUALITY_THRESHOLD).
MIN_QUALITY = 50
#: Share (percent) of the query's frames that must match frames of a bank video.
QUERY_MATCH_PERCENT = 80.0
#: Share (percent) of the bank video's frames that must match frames of the query.
INDEX_MATCH_PERCENT = 0.0
SECONDS_PER_FRAME = 1.0


@dataclass(frozen=True)
class VpdqFrame:
    pdq: str  # 64 lower-case hex characters
    quality: int  # 0..100
    timestamp: float  # seconds

    def __str__(self) -> str:
        return f"{self.pdq},{self.quality},{self.timestamp:.3f}"

    @classmethod
    def parse(cls, value: str) -> VpdqFrame:
        """A frame from threatexchange's ``"<hex>,<quality>,<timestamp>"``; ValueError if not."""
        if not isinstance(value, str):
            raise ValueError(  # noqa: TRY004 - the validators' contract is ValueError
                f"a vpdq frame must be a string, got {type(value).__name__}")
        parts = value.strip().split(",")
        if len(parts) != 3:
            raise ValueError(f"invalid vpdq frame {value[:80]!r}: expected "
                             "'<pdq hex>,<quality>,<timestamp>'")
        pdq = _validate_hex(parts[0], 64, "vpdq")
        try:
            quality, timestamp = int(parts[1]), float(parts[2])
        except ValueError:
            raise ValueError(f"invalid vpdq frame {value[:80]!r}: quality and timestamp must "
                             "be numbers") from None
        if not 0 <= quality <= 100 or not timestamp >= 0 or timestamp == float("inf"):
            raise ValueError(f"invalid vpdq frame {value[:80]!r}: quality 0-100 and a "
                             "timestamp of 0 or more")
        return cls(pdq, quality, timestamp)


def frames_of(values: Iterable[str]) -> list[VpdqFrame]:
    return [VpdqFrame.parse(v) for v in values]


def to_json(frames: Iterable[VpdqFrame | str]) -> str:
    """threatexchange's serialization of a vPDQ hash."""
    return json.dumps([str(f) for f in frames], separators=(",", ":"))


def from_json(text: str) -> list[VpdqFrame]:
    try:
        items = json.loads(text)
    except json.JSONDecodeError:
        raise ValueError("invalid vpdq value: not a JSON list of frame strings") from None
    if not isinstance(items, list) or not items:
        raise ValueError("invalid vpdq value: expected a non-empty JSON list of frames")
    return frames_of(items)


def hash_frames(data: bytes, limits: Any = None) -> list[VpdqFrame]:
    """vPDQ frames of a video or animation: one per second, black borders trimmed."""
    import pdqhash  # type: ignore[import-untyped]

    from warding.video.borders import trim
    from warding.video.frames import sample

    sampled = sample(data, SECONDS_PER_FRAME, limits)
    images, _ = trim([f.image for f in sampled])
    out = []
    for frame, image in zip(sampled, images, strict=True):
        bits, quality = pdqhash.compute(np.asarray(image))
        out.append(VpdqFrame(np.packbits(np.asarray(bits, dtype=np.uint8)).tobytes().hex(),
                             int(quality), frame.timestamp))
    return out


class VPDQSignal(SignalType):
    """vPDQ of a video or animated GIF/WebP (threatexchange's ``vpdq``).

    ``compute`` gives threatexchange's JSON list; each frame is stored and indexed alone.
    A video matches a bank video when at least ``query_match_percent`` of its distinct
    good-quality frames are within the bank's threshold (31 by default) of the bank video's
    frames, and at least ``index_match_percent`` of the bank video's frames are matched.
    """

    name: ClassVar[str] = "vpdq"
    content: ClassVar[ContentKind] = "video"
    match: ClassVar[MatchKind] = "hamming"
    bits: ClassVar[int | None] = 256
    default_threshold: ClassVar[int] = 31
    multi: ClassVar[bool] = True
    description: ClassVar[str] = ("vPDQ video hash: PDQ of one frame per second, black borders "
                                  "trimmed (Hamming distance per frame, share of frames matched)")

    def __init__(self) -> None:
        from warding.video.frames import VideoLimits

        self.limits = VideoLimits()
        self.query_match_percent = QUERY_MATCH_PERCENT
        self.index_match_percent = INDEX_MATCH_PERCENT
        self.min_quality = MIN_QUALITY

    def configure(self, settings: Any) -> None:
        from warding.video.frames import VideoLimits

        self.limits = VideoLimits(max_seconds=float(settings.video_max_seconds),
                                  max_decode_seconds=float(settings.video_max_decode_seconds),
                                  max_pixels=int(settings.max_image_pixels))
        self.query_match_percent = float(settings.vpdq_query_match_percent)
        self.index_match_percent = float(settings.vpdq_index_match_percent)

    def compute(self, content: bytes | str) -> str | None:
        if isinstance(content, str):
            raise SignalError("vpdq hashes video bytes, not text")
        frames = hash_frames(bytes(content), self.limits)
        if not any(f.quality >= self.min_quality for f in frames):
            return None  # every frame nearly flat: nothing to match on
        return to_json(frames)

    def validate(self, value: str) -> str:
        """A stored frame (``hex,quality,timestamp``) or a whole hash (JSON list), normalised."""
        if not isinstance(value, str):
            raise ValueError(  # noqa: TRY004 - the validators' contract is ValueError
                f"vpdq value must be a string, got {type(value).__name__}")
        if value.lstrip().startswith("["):
            return to_json(from_json(value))
        return str(VpdqFrame.parse(value))

    def split(self, value: str) -> list[str]:
        if value.lstrip().startswith("["):
            return [str(f) for f in from_json(value)]
        return [str(VpdqFrame.parse(value))]

    def join(self, values: list[str]) -> str:
        frames = [f for v in values for f in frames_of(self.split(v))]  # frames or whole hashes
        ordered = sorted(frames, key=lambda f: f.timestamp)
        return to_json(ordered)

    def index_key(self, value: str) -> str:
        return value[:64]

    def distance(self, a: str, b: str) -> int:
        """The smallest distance between a frame of ``a`` and a frame of ``b``."""
        fa = [f.pdq for f in frames_of(self.split(a))]
        fb = [f.pdq for f in frames_of(self.split(b))]
        return min((int(x, 16) ^ int(y, 16)).bit_count() for x in fa for y in fb)
