"""Turn content into signals with every registered signal type that applies."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from warding.signals.base import SignalError, SignalType


@dataclass(frozen=True)
class SignalValue:
    signal_type: str
    value: str
    origin: str


def is_image_mime(mime: str) -> bool:
    return mime.startswith("image/") and mime not in {"image/svg+xml"}


def for_bytes(
    types: Mapping[str, SignalType], data: bytes, mime: str, origin: str
) -> list[SignalValue]:
    """File signals of ``data``, plus image signals when it is an image.

    Raises SignalError when an image signal cannot be computed (corrupt image).
    """
    out: list[SignalValue] = []
    for st in types.values():
        if st.content == "file" or (st.content == "image" and is_image_mime(mime)):
            value = st.compute(data)
            if value is not None:
                out.append(SignalValue(st.name, value, origin))
    return out


def for_text(types: Mapping[str, SignalType], text: str, origin: str = "text") -> list[SignalValue]:
    out: list[SignalValue] = []
    for st in types.values():
        if st.content == "text":
            value = st.compute(text)
            if value is not None:
                out.append(SignalValue(st.name, value, origin))
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
