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
        return compute.for_bytes(app.signal_types, data, sniff_mime(data, name), name,
                                 app.derive_limits)
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
