"""Compute signals for a file, a text or a URL (the ``warding hash`` / ``match`` inputs)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from warding.app import Warding
from warding.errors import InvalidInput
from warding.ocr.model import ImageText
from warding.signals import compute
from warding.signals.base import SignalError


@dataclass
class Hashed:
    """The signals of a file and, for an image, the text read in it (OCR)."""

    signals: list[compute.SignalValue]
    ocr_text: ImageText | None = None
    ocr_error: str | None = None


def hash_content(app: Warding, data: bytes, name: str) -> Hashed:
    """Every signal of a file; an image's text (origin ``ocr``) gets the text signals."""
    from warding.ingest._common import sniff_mime
    from warding.ocr import items as ocr_items

    if not data:
        raise InvalidInput(f"{name}: empty file")
    mime = sniff_mime(data, name)
    try:
        values = compute.for_bytes(app.signal_types, data, mime, name, app.derive_limits)
    except SignalError as exc:
        raise InvalidInput(f"{name}: {exc}") from exc
    text, error = ocr_items.read_one(app, data, mime)
    if text is not None:
        values += compute.for_text(app.signal_types, text.text, origin=ocr_items.ORIGIN)
    return Hashed(values, text, error)


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
