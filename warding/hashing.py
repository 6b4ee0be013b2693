"""Compute signals for a file, a text or a URL (the ``warding hash`` / ``match`` inputs)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from warding.app import Warding
from warding.errors import InvalidInput
from warding.ocr.model import ImageText
from warding.signals import compute
from warding.signals.base import SignalError


@dataclass(frozen=True)
class InsideText:
    """The text read in an image inside a file (a scanned PDF page, a video frame), or why
    it was not read; ``where`` names the image (``report.pdf:p3:img1``, ``clip.mp4@12s``)."""

    where: str
    text: ImageText | None
    error: str | None

    def as_json(self) -> dict[str, Any]:
        return {"where": self.where, **({"text": None} if self.text is None
                                        else self.text.as_json()),
                **({"error": self.error} if self.error else {})}


@dataclass
class Hashed:
    """The signals of a file and the text read in it (OCR): in the file itself when it is an
    image (``ocr_text``), in the images inside it when it is a PDF or a video
    (``ocr_inside``)."""

    signals: list[compute.SignalValue]
    ocr_text: ImageText | None = None
    ocr_error: str | None = None
    ocr_inside: list[InsideText] = field(default_factory=list)


def hash_content(app: Warding, data: bytes, name: str) -> Hashed:
    """Every signal of a file; the text read in it or in the images inside it (origin
    ``ocr``) gets the text signals, as in a scan."""
    from warding.ingest._common import sniff_mime
    from warding.ocr import items as ocr_items

    if not data:
        raise InvalidInput(f"{name}: empty file")
    mime = sniff_mime(data, name)
    try:
        found = compute.for_media(app.signal_types, data, mime, name, app.derive_limits)
    except SignalError as exc:
        raise InvalidInput(f"{name}: {exc}") from exc
    reads = ocr_items.read_media(app, [(0, name, "", data, mime)], [found], "")
    values = found.signals + ocr_items.signals(app.signal_types, reads)
    own = next((r for r in reads if r.part == 0), None)
    inside = [InsideText(r.name, r.text, r.error) for r in reads if r.part > 0]
    return Hashed(values, own.text if own else None, own.error if own else None, inside)


def hash_bytes(app: Warding, data: bytes, name: str) -> list[compute.SignalValue]:
    return hash_content(app, data, name).signals


def image_text(app: Warding) -> Callable[[bytes, str], str | None]:
    """``read_text`` for :func:`warding.banks.service.records_for_files`: an image's text."""
    from warding.ocr import items as ocr_items

    def read(data: bytes, mime: str) -> str | None:
        text, _ = ocr_items.read_one(app, data, mime)
        return text.text if text is not None else None

    return read


def hash_file_content(app: Warding, path: Path) -> Hashed:
    if not path.is_file():
        raise InvalidInput(f"{path}: not a file")
    size = path.stat().st_size
    limit = app.settings.max_file_bytes
    if size > limit:
        raise InvalidInput(f"{path}: {size} bytes is over the {limit}-byte limit (max_file_bytes)")
    return hash_content(app, path.read_bytes(), str(path))


def hash_file(app: Warding, path: Path) -> list[compute.SignalValue]:
    return hash_file_content(app, path).signals


def exchange_form(app: Warding, signals: list[compute.SignalValue]) -> list[compute.SignalValue]:
    """The signals as they are exchanged: a multi-valued signal (vPDQ) as one value per
    origin (threatexchange's JSON), the others as they are."""
    out: list[compute.SignalValue] = []
    multi: dict[tuple[str, str], list[str]] = {}
    for s in signals:
        st = app.signal_types.get(s.signal_type)
        if st is not None and st.multi:
            if (s.signal_type, s.origin) not in multi:
                out.append(s)  # its place; replaced below
            multi.setdefault((s.signal_type, s.origin), []).append(s.value)
        else:
            out.append(s)
    return [compute.SignalValue(s.signal_type, app.signal_types[s.signal_type].join(
                multi[(s.signal_type, s.origin)]), s.origin)
            if (s.signal_type, s.origin) in multi else s for s in out]


def hash_text(app: Warding, text: str) -> list[compute.SignalValue]:
    values = compute.for_text(app.signal_types, text)
    if not values:
        raise InvalidInput("the text is empty once normalised")
    return values


def hash_url(app: Warding, url: str) -> list[compute.SignalValue]:
    values = compute.for_urls(app.signal_types, [url])
    if not values:
        raise InvalidInput(f"{url!r} is not a valid URL")
    return values
