"""The records that bank list readers yield (see ``formats.py`` and ``sources.py``): an entry
to add, a hash the source withdrew, a raw text to fingerprint, and a line that could not be
read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class EntryRecord:
    signals: list[tuple[str, str]]
    labels: dict[str, Any] = field(default_factory=dict)
    provenance: str = ""
    tier: int | None = None
    enabled: bool = True
    note: str = ""
    ref: str = ""  # where it came from, for error messages
    entry_id: str | None = None
    metadata: dict[str, Any] | None = None  # HMA's content metadata, as given


@dataclass(frozen=True)
class FormatError:
    input: str
    reason: str


@dataclass
class Removal:
    """A hash the source withdrew (TCAP ``deleted``): remove it from the bank."""

    signals: list[tuple[str, str]]
    ref: str = ""


@dataclass
class TextRecord:
    """A raw text to fingerprint (threatexchange ``raw_text``); only fingerprints are kept."""

    text: str
    labels: dict[str, Any] = field(default_factory=dict)
    provenance: str = ""
    enabled: bool = True
    ref: str = ""
