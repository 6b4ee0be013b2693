"""The ingest connector plug-in point.

A connector reads one kind of input (a JSONL file of posts, a folder of media,
a saved web page, a Telegram export) and yields :class:`RawItem` for each item
it accepts and :class:`Rejection` for each it refuses, with a reason that names
the input. A connector never raises for bad content: one bad line or file must
not stop the rest of the batch.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar


@dataclass(frozen=True)
class Limits:
    """Size limits that every connector enforces (from the settings)."""

    max_file_bytes: int = 50 * 1024 * 1024
    max_text_chars: int = 200_000
    max_image_pixels: int = 50_000_000
    max_html_bytes: int = 10 * 1024 * 1024


@dataclass(frozen=True)
class MediaBlob:
    """One media file attached to an item, held in memory (size already checked)."""

    name: str
    data: bytes
    mime: str


@dataclass
class RawItem:
    """An accepted item, before it is stored."""

    source: str
    external_id: str
    input_ref: str
    kind: str = "post"
    url: str | None = None
    account: str | None = None
    posted_at: datetime | None = None
    title: str | None = None
    text: str | None = None
    media: list[MediaBlob] = field(default_factory=list)
    outlinks: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Rejection:
    """An input that was refused: ``input`` names it, ``reason`` says why."""

    input: str
    reason: str


Read = RawItem | Rejection


class Connector(ABC):
    """Reads one kind of input. ``name`` is stable: it is stored and shown."""

    name: ClassVar[str]
    description: ClassVar[str]

    @abstractmethod
    def can_read(self, path: Path) -> bool:
        """Whether this connector recognises ``path``."""

    @abstractmethod
    def read(self, path: Path, source: str, limits: Limits) -> Iterator[Read]:
        """Yield every item in ``path`` as a RawItem or a Rejection; never raise for bad content."""
