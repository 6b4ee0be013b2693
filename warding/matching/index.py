"""In-memory signal indexes: the interface, and the reference brute force.

The interface mirrors python-threatexchange's ``SignalTypeIndex``: build / add /
remove / query, with ``ref`` an opaque int chosen by the caller (the match
engine uses the bank entry id). The engine's indexes live in their own modules:
``warding.matching.mih.HammingIndex`` (multi-index hashing, for PDQ and
text_near) and ``warding.matching.exact.ExactIndex`` (fingerprints in sorted
arrays, for hashes, text and URLs). ``BruteForceHammingIndex`` here is the
simple exhaustive index they are tested and benchmarked against.

Every index is exact: a query returns every live entry within the threshold
and nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal, Self

import numpy as np

from warding.matching.base import IndexHit, SignalIndex
from warding.signals.base import SignalType


class DictExactIndex(SignalIndex):
    """Exact matches only: a dict from value to refs (the simple reference). ``threshold`` is
    ignored."""

    def __init__(self) -> None:
        self._by_value: dict[str, list[int]] = {}
        self._by_ref: dict[int, list[str]] = {}
        self._count = 0

    def add(self, value: str, ref: int) -> None:
        self._by_value.setdefault(value, []).append(ref)
        self._by_ref.setdefault(ref, []).append(value)
        self._count += 1

    def remove(self, ref: int) -> None:
        for value in self._by_ref.pop(ref, []):
            refs = self._by_value[value]
            refs.remove(ref)
            self._count -= 1
            if not refs:
                del self._by_value[value]

    def query(self, value: str, threshold: int = 0) -> list[IndexHit]:
        return [IndexHit(value, ref, 0) for ref in sorted(self._by_value.get(value, ()))]

    def __len__(self) -> int:
        return self._count


_POPCOUNT8 = np.array([i.bit_count() for i in range(256)], dtype=np.uint8)


def _popcount(words: np.ndarray) -> np.ndarray:
    """Set bits of each element of a 1-D unsigned array."""
    if hasattr(np, "bitwise_count"):  # numpy >= 2
        return np.bitwise_count(words)
    per_byte = _POPCOUNT8[words.view(np.uint8)]  # numpy 1.x fallback
    return per_byte.reshape(len(words), -1).sum(axis=1, dtype=np.uint8)


class BruteForceHammingIndex(SignalIndex):
    """Brute-force Hamming search over fixed-length hex values (the reference).

    Values are rows of a uint8 matrix (read as uint64 words when ``bits`` is a
    multiple of 64); a query XORs against every row and popcounts. About
    2 ms per query per 100k PDQ hashes: fine for the banks this engine is
    meant for as a reference. The buffer grows by doubling; removal sets a tombstone, and the
    buffer is compacted once more than half of it is dead.
    """

    _MIN_CAPACITY = 64

    def __init__(self, bits: int = 256) -> None:
        if bits <= 0 or bits % 8:
            raise ValueError(f"HammingIndex needs a positive multiple of 8 bits, got {bits}")
        self.bits = bits
        self._nbytes = bits // 8
        self._rows = np.zeros((0, self._nbytes), dtype=np.uint8)
        self._refs = np.zeros(0, dtype=np.int64)
        self._alive = np.zeros(0, dtype=bool)
        self._size = 0  # rows used, live or dead
        self._live = 0
        self._by_ref: dict[int, list[int]] = {}

    @classmethod
    def build(cls, entries: Iterable[tuple[str, int]], bits: int | None = None) -> Self:
        """An index of ``entries``; ``bits`` defaults to the length of the first value."""
        entries = list(entries)
        if bits is None:
            if not entries:
                raise ValueError("HammingIndex.build needs bits= when there are no entries")
            bits = len(entries[0][0].strip()) * 4
        index = cls(bits=bits)
        if entries:
            rows = np.stack([index._parse(value) for value, _ in entries])
            index._append(rows, np.array([ref for _, ref in entries], dtype=np.int64))
        return index

    def _parse(self, value: str) -> np.ndarray:
        text = value.strip()
        if len(text) != self._nbytes * 2:
            raise ValueError(
                f"expected {self._nbytes * 2} hex characters for a {self.bits}-bit value, "
                f"got {len(text)}: {value!r}"
            )
        try:
            return np.frombuffer(bytes.fromhex(text), dtype=np.uint8)
        except ValueError as exc:
            raise ValueError(f"not a hex value: {value!r}") from exc

    def _append(self, rows: np.ndarray, refs: np.ndarray) -> None:
        needed = self._size + len(rows)
        if needed > len(self._rows):
            capacity = max(self._MIN_CAPACITY, len(self._rows) * 2, needed)
            self._resize(capacity)
        start = self._size
        self._rows[start:needed] = rows
        self._refs[start:needed] = refs
        self._alive[start:needed] = True
        for offset, ref in enumerate(refs.tolist()):
            self._by_ref.setdefault(ref, []).append(start + offset)
        self._size = needed
        self._live += len(rows)

    def _resize(self, capacity: int) -> None:
        rows = np.zeros((capacity, self._nbytes), dtype=np.uint8)
        refs = np.zeros(capacity, dtype=np.int64)
        alive = np.zeros(capacity, dtype=bool)
        rows[: self._size] = self._rows[: self._size]
        refs[: self._size] = self._refs[: self._size]
        alive[: self._size] = self._alive[: self._size]
        self._rows, self._refs, self._alive = rows, refs, alive

    def add(self, value: str, ref: int) -> None:
        self._append(self._parse(value)[None, :], np.array([ref], dtype=np.int64))

    def remove(self, ref: int) -> None:
        positions = self._by_ref.pop(ref, [])
        self._alive[positions] = False
        self._live -= len(positions)
        if self._size >= self._MIN_CAPACITY and self._live * 2 < self._size:
            self._compact()

    def _compact(self) -> None:
        keep = np.flatnonzero(self._alive[: self._size])
        rows, refs = self._rows[keep], self._refs[keep]
        self._size = self._live = 0
        self._by_ref = {}
        self._alive[:] = False
        self._append(rows, refs)

    def _distances(self, query: np.ndarray) -> np.ndarray:
        rows = self._rows[: self._size]
        if self._nbytes % 8 == 0:  # compare 64 bits at a time
            rows = rows.view(np.uint64)
            query = query.view(np.uint64)
        # One column (word) at a time: several times faster than XOR-ing the
        # whole matrix and reducing along its short axis.
        distances = np.zeros(self._size, dtype=np.int32)
        scratch = np.empty(self._size, dtype=rows.dtype)
        for col in range(rows.shape[1]):
            np.bitwise_xor(rows[:, col], query[col], out=scratch)
            distances += _popcount(scratch)
        return distances

    def query(self, value: str, threshold: int) -> list[IndexHit]:
        """Every live entry within Hamming distance ``threshold`` (inclusive)."""
        query = self._parse(value)
        if self._size == 0 or threshold < 0:
            return []
        distances = self._distances(query)
        hits = np.flatnonzero((distances <= threshold) & self._alive[: self._size])
        if len(hits) == 0:
            return []
        refs = self._refs[hits]
        order = np.lexsort((refs, distances[hits]))
        return [
            IndexHit(self._rows[pos].tobytes().hex(), int(self._refs[pos]), int(distances[pos]))
            for pos in hits[order].tolist()
        ]

    def query_many(self, values: Iterable[str], threshold: int) -> list[list[IndexHit]]:
        """``query`` for each value, in order."""
        return [self.query(value, threshold) for value in values]

    def __len__(self) -> int:
        return self._live


def index_for(signal_type: SignalType) -> HammingIndex | ExactIndex:
    """An empty engine index suited to ``signal_type``."""
    if signal_type.match == "hamming":
        if not signal_type.bits:
            raise ValueError(f"signal type {signal_type.name!r} is hamming but has no bits")
        return HammingIndex(bits=signal_type.bits, threshold=signal_type.default_threshold)
    return ExactIndex(kind=exact_kind(signal_type))


def exact_kind(signal_type: SignalType) -> Literal["hex", "text"]:
    """Hash-digest signal types are fingerprinted by their own bits, others by BLAKE2b."""
    return "hex" if getattr(signal_type, "hex_length", None) else "text"


# The engine's indexes (imported last: they subclass SignalIndex defined above).
from warding.matching.exact import ExactIndex
from warding.matching.mih import HammingIndex

__all__ = ["BruteForceHammingIndex", "DictExactIndex", "ExactIndex", "HammingIndex", "IndexHit",
           "SignalIndex", "exact_kind", "index_for"]
