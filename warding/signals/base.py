"""The signal type plug-in point.

A signal type turns one kind of content (file bytes, an image, text or a URL)
(or a video) into a hash or fingerprint. ``name`` is the stable storage key: it is written
into the database, bank exports and API answers and must never change.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar, Literal

ContentKind = Literal["file", "image", "video", "text", "url"]
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
    #: True for a signal made of many values (vPDQ: one per sampled frame): ``compute`` gives
    #: the whole signal in its exchange form, ``split`` the values stored and indexed one by
    #: one, ``join`` puts them back together; matching decides on the whole (see
    #: :mod:`warding.matching.video`).
    multi: ClassVar[bool] = False

    def configure(self, settings: Any) -> None:
        """Take limits or thresholds from the app's settings (most signal types have none)."""

    def split(self, value: str) -> list[str]:
        """The values stored for one computed or imported ``value`` (itself, unless multi)."""
        return [value]

    def join(self, values: list[str]) -> str:
        """The exchange form of the stored values of one entry (the inverse of ``split``)."""
        if len(values) != 1:
            raise ValueError(f"{self.name} has one value per entry, got {len(values)}")
        return values[0]

    def index_key(self, value: str) -> str:
        """The part of a stored value that the Hamming index holds (hex of ``bits`` bits)."""
        return value

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
        return (int(self.index_key(a), 16) ^ int(self.index_key(b), 16)).bit_count()
