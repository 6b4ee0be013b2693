"""Turn content into signals with every registered signal type that applies.

Bytes go through one explicit step, :func:`for_media`: the file's own signals (file, image,
video signal types by MIME type), then the content *derived* from it by the derivers of
:mod:`warding.signals.derive` (a PDF's page texts and embedded images today), each hashed with
the signals of its kind under an origin that names where it came from (``pdf:p3``,
``pdf:p3:img1``). Multi-valued signals (vPDQ) give one value per frame, all with the file's
origin.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from warding.signals.base import SignalError, SignalType
from warding.signals.derive import DeriveLimits, derive

log = logging.getLogger("warding.signals")


@dataclass(frozen=True)
class SignalValue:
    signal_type: str
    value: str
    origin: str


@dataclass
class MediaSignals:
    """The signals of one file and of what was derived from it, and the derived texts (for
    the classifier) and images (for OCR), each with its origin."""

    signals: list[SignalValue] = field(default_factory=list)
    texts: list[tuple[str, str]] = field(default_factory=list)  # (origin, text)
    images: list[tuple[str, bytes]] = field(default_factory=list)  # (origin, image bytes)


def is_image_mime(mime: str) -> bool:
    return mime.startswith("image/") and mime not in {"image/svg+xml"}


def is_video(mime: str, data: bytes) -> bool:
    """A video container, or an animated GIF/WebP."""
    if mime.startswith("video/"):
        return True
    if mime in ("image/gif", "image/webp"):
        from warding.video.frames import is_animation

        return is_animation(data)
    return False


def _applies(st: SignalType, mime: str, data: bytes, video: bool | None) -> bool:
    if st.content == "file":
        return True
    if st.content == "image":
        return is_image_mime(mime)
    if st.content == "video":
        return video if video is not None else is_video(mime, data)
    return False


def _values(st: SignalType, content: bytes | str, origin: str) -> list[SignalValue]:
    value = st.compute(content)
    if value is None:
        return []
    return [SignalValue(st.name, v, origin) for v in st.split(value)]


def for_bytes(
    types: Mapping[str, SignalType], data: bytes, mime: str, origin: str,
    limits: DeriveLimits | None = None, *, video: bool | None = None,
) -> list[SignalValue]:
    """Signals of ``data`` and of the content derived from it (see :func:`for_media`)."""
    return for_media(types, data, mime, origin, limits, video=video).signals


def for_media(
    types: Mapping[str, SignalType], data: bytes, mime: str, origin: str,
    limits: DeriveLimits | None = None, *, video: bool | None = None,
) -> MediaSignals:
    """File signals of ``data``, image signals when it is an image, video signals when it is
    a video (``video`` overrides the guess from ``mime``), then the signals of its derived
    content.

    Raises SignalError when the file cannot be hashed (a corrupt image or video, a PDF over
    the limits).
    """
    out = MediaSignals()
    for st in types.values():
        if _applies(st, mime, data, video):
            out.signals += _values(st, data, origin)
    for d in derive(data, mime, origin, limits or DeriveLimits()):
        if d.kind == "text":
            out.texts.append((d.origin, d.text))
            out.signals += for_text(types, d.text, d.origin)
            continue
        out.images.append((d.origin, d.data))
        try:
            out.signals += [s for st in types.values()
                            if _applies(st, d.mime, d.data, False)
                            for s in _values(st, d.data, d.origin)]
        except SignalError as exc:  # one unreadable embedded image does not sink the file
            log.warning("%s: not hashed: %s", d.origin, exc)
    return out


def for_text(types: Mapping[str, SignalType], text: str, origin: str = "text") -> list[SignalValue]:
    out: list[SignalValue] = []
    for st in types.values():
        if st.content == "text":
            out += _values(st, text, origin)
    return out


def for_urls(
    types: Mapping[str, SignalType], urls: Iterable[str], origin: str = "url"
) -> list[SignalValue]:
    out: list[SignalValue] = []
    seen: set[tuple[str, str]] = set()
    for url in urls:
        for st in types.values():
            if st.content != "url":
                continue
            try:
                value = st.compute(url)
            except (SignalError, ValueError):
                continue  # an unparseable link is not a signal; the item is still kept
            if value is not None and (st.name, value) not in seen:
                seen.add((st.name, value))
                out.append(SignalValue(st.name, value, origin))
    return out


def validate(types: Mapping[str, SignalType], signal_type: str, value: str) -> str:
    """Normalise a raw hash for ``signal_type``; ValueError names the problem."""
    if signal_type not in types:
        known = ", ".join(sorted(types))
        raise ValueError(f"unknown signal type {signal_type!r} (known: {known})")
    return types[signal_type].validate(value)
