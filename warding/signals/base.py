"""The signal type plug-in point.

A signal type turns one kind of content (file bytes, an image, text or a URL)
into a hash or fingerprint. ``name`` is the stable storage key: it is written
into the database, bank exports and API answers and must never change.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar, Literal

ContentKind = Literal["file", "image", "text", "url"]
MatchKind = Literal["exact", "hamming"]


class SignalError(ValueError):
    """The content cannot be hashed (e.g. a corrupt image); the message says why."""


class SignalType(ABC):
    """One hash or fingerprint. Subclasses are stateless and cheap to build."""

    name: ClassVar[str]
    content: ClassVar[ContentKind]
    match: ClassVar[MatchKind] = "exact"
    bits: ClassVar[int | None] = None
    default_threshold: ClassVar[int] = 0
    description: ClassVar[str] = ""

    @abstractmethod
    def compute(self, content: bytes | str) -> str | None:
        """The signal of ``content`` (bytes for file/image, str for text/url).

        Returns None when the signal does not apply (empty text, an image too
        flat to hash). Raises SignalError for content that is broken.
        """

    @abstractmethod
    def validate(self, value: str) -> str:
        """Normalise an imported value (e.g. lower-case hex); raise ValueError if invalid."""

    def distance(self, a: str, b: str) -> int:
        """Hamming distance between two values (hamming signals only)."""
        if self.match != "hamming":
            return 0 if a == b else 1
        return (int(a, 16) ^ int(b, 16)).bit_count()
