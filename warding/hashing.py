"""Compute signals for a file, a text or a URL (the ``warding hash`` / ``match`` inputs)."""

from __future__ import annotations

from pathlib import Path

from warding.app import Warding
from warding.errors import InvalidInput
from warding.signals import compute
from warding.signals.base import SignalError


def hash_bytes(app: Warding, data: bytes, name: str) -> list[compute.SignalValue]:
    from warding.ingest._common import sniff_mime

    if not data:
        raise InvalidInput(f"{name}: empty file")
    try:
        return compute.for_bytes(app.signal_types, data, sniff_mime(data, name), name)
    except SignalError as exc:
        raise InvalidInput(f"{name}: {exc}") from exc


def hash_file(app: Warding, path: Path) -> list[compute.SignalValue]:
    if not path.is_file():
        raise InvalidInput(f"{path}: not a file")
    size = path.stat().st_size
    limit = app.settings.max_file_bytes
    if size > limit:
        raise InvalidInput(f"{path}: {size} bytes is over the {limit}-byte limit (max_file_bytes)")
    return hash_bytes(app, path.read_bytes(), str(path))


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
