"""Derived content: what a file holds that other signals can hash (the one place where bytes
turn into further texts and images).

A :class:`Deriver` looks at a file's bytes and MIME type and returns :class:`Derived` pieces,
each with an origin naming where in the file it was found. :func:`warding.signals.compute.for_media`
hashes every piece with the signal types of its kind (text → ``text``/``text_near``, image →
``pdq`` and the file hashes) and passes the texts on to the classifier. To add a deriver (OCR
of images or video key frames, subtitles...), write a class with ``applies`` and ``derive`` and
list it in :data:`DERIVERS`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from importlib import import_module
from typing import Any, ClassVar, Literal

#: The derivers, in order ("module:Class"); built when first used.
DERIVERS = ("warding.documents.pdf:PdfDeriver",)


@dataclass(frozen=True)
class DeriveLimits:
    """Bounds against hostile files (from the settings, see docs/configuration.md)."""

    pdf_max_pages: int = 500
    pdf_max_bytes: int = 200 * 1024 * 1024  # decompressed content streams and images
    pdf_max_seconds: float = 60.0
    max_image_pixels: int = 50_000_000

    @classmethod
    def from_settings(cls, settings: Any) -> DeriveLimits:
        return cls(pdf_max_pages=int(settings.pdf_max_pages),
                   pdf_max_bytes=int(settings.pdf_max_bytes),
                   pdf_max_seconds=float(settings.pdf_max_seconds),
                   max_image_pixels=int(settings.max_image_pixels))


@dataclass(frozen=True)
class Derived:
    kind: Literal["text", "image"]
    origin: str  # e.g. "media:report.pdf:p3" or "media:report.pdf:p3:img1"
    text: str = ""
    data: bytes = b""
    mime: str = ""


class Deriver(ABC):
    """Finds texts and images inside one kind of file."""

    name: ClassVar[str]

    @abstractmethod
    def applies(self, mime: str, data: bytes) -> bool:
        """Whether this deriver reads files of this type."""

    @abstractmethod
    def derive(self, data: bytes, origin: str, limits: DeriveLimits) -> list[Derived]:
        """The pieces found; raises SignalError when the file breaks a limit or is broken."""


_built: list[Deriver] = []


def derivers() -> list[Deriver]:
    if not _built:
        for spec in DERIVERS:
            module, _, attr = spec.partition(":")
            _built.append(getattr(import_module(module), attr)())
    return _built


def derive(data: bytes, mime: str, origin: str, limits: DeriveLimits) -> list[Derived]:
    out: list[Derived] = []
    for d in derivers():
        if d.applies(mime, data):
            out += d.derive(data, origin, limits)
    return out
