"""The signal index interface (after python-threatexchange's ``SignalTypeIndex``)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Self


@dataclass(frozen=True)
class IndexHit:
    value: str  # the stored value that matched
    ref: int  # the caller's reference for it
    distance: int  # 0 for exact indexes


class SignalIndex(ABC):
    """A set of (value, ref) entries searchable by value."""

    @classmethod
    def build(cls, entries: Iterable[tuple[str, int]]) -> Self:
        index = cls()
        for value, ref in entries:
            index.add(value, ref)
        return index

    @abstractmethod
    def add(self, value: str, ref: int) -> None:
        """Add one entry (the same ref may be added with several values)."""

    @abstractmethod
    def remove(self, ref: int) -> None:
        """Remove every entry with ``ref``; unknown refs are ignored."""

    @abstractmethod
    def query(self, value: str, threshold: int) -> list[IndexHit]:
        """Entries within ``threshold`` of ``value``, by distance then ref."""

    @abstractmethod
    def __len__(self) -> int:
        """The number of live entries."""
