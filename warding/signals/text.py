"""Text fingerprints: an exact one and a near-duplicate one.

Both work on ``normalize_text`` output, so copies that differ only in
obfuscation (zero-width characters, homoglyphs, leetspeak, diacritics,
appended links or hashtags) already share the exact fingerprint.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import ClassVar

import numpy as np

from warding.signals.base import ContentKind, MatchKind, SignalError, SignalType
from warding.signals.hashes import _validate_hex
from warding.signals.normalize import normalize_text

MIN_NEAR_WORDS = 3
"""Fewer normalised words than this: no near-duplicate fingerprint."""


def _text(content: bytes | str) -> str:
    if isinstance(content, bytes):
        try:
            return content.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SignalError(f"text is not valid UTF-8: {exc}") from exc
    return content


class TextSignal(SignalType):
    """SHA-256 (hex) of the normalised text; None when nothing is left after
    normalisation (empty, only links/mentions/hashtags, only punctuation)."""

    name: ClassVar[str] = "text"
    content: ClassVar[ContentKind] = "text"
    hex_length: ClassVar[int] = 64
    description: ClassVar[str] = "SHA-256 of the normalised text (exact match)"

    def compute(self, content: bytes | str) -> str | None:
        norm = normalize_text(_text(content))
        if not norm:
            return None
        return hashlib.sha256(norm.encode("utf-8")).hexdigest()

    def validate(self, value: str) -> str:
        return _validate_hex(value, 64, self.name)


class TextNearSignal(SignalType):
    """64-bit near-duplicate fingerprint of the normalised text (16 hex chars).

    Algorithm: one-bit minwise hashing (Li & König, "b-Bit Minwise Hashing",
    2010) over the multiset of normalised words. For each of 64 fixed
    pseudo-random orderings, the word that comes first is chosen and bit ``i``
    of the fingerprint is bit ``i`` of that word's 64-bit blake2b hash. Two
    texts disagree on a bit with probability (1 - J) / 2, where J is the
    Jaccard similarity of their word multisets, so the Hamming distance
    estimates how many words differ.

    Why not SimHash over word shingles: measured on ~30-word English windows,
    SimHash over 3-shingles put a one-word edit ~8 bits away and even over
    single words a two-word edit exceeded distance 6 in ~40% of cases, while
    still bringing unrelated texts close. One-bit minhash over words puts
    one-word edits at ~2 bits (≤6 in 99% of cases), two-word edits at ~4
    bits (≤6 in ~90%) and unrelated texts at ~29 bits (>20 in ~99%).

    Word order is ignored (a bag of words): re-ordered sentences match. Texts
    with fewer than 3 normalised words return None: a one- or two-word text
    has too few words for a similarity estimate and would near-match any
    other text that shares a word.
    """

    name: ClassVar[str] = "text_near"
    content: ClassVar[ContentKind] = "text"
    match: ClassVar[MatchKind] = "hamming"
    bits: ClassVar[int | None] = 64
    default_threshold: ClassVar[int] = 6
    description: ClassVar[str] = (
        "near-duplicate text fingerprint (1-bit minhash of words; Hamming distance, 64 bits)"
    )

    def compute(self, content: bytes | str) -> str | None:
        words = normalize_text(_text(content)).split()
        if len(words) < MIN_NEAR_WORDS:
            return None
        return f"{minhash64(words):016x}"

    def validate(self, value: str) -> str:
        return _validate_hex(value, 16, self.name)


def _hash64(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "big")


# 64 fixed seeds: one pseudo-random ordering of all words per fingerprint bit.
# Changing them changes every stored text_near value.
_SEEDS = np.array([_hash64(f"warding/text_near/{i}") for i in range(64)], dtype=np.uint64)
_BIT_SHIFTS = np.arange(64, dtype=np.uint64)


def splitmix64(z: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser, element-wise on uint64 (wrap-around is intended); also mixes
    the bank import's fingerprints (``banks/fingerprints.py``)."""
    z = z ^ (z >> np.uint64(30))
    z = z * np.uint64(0xBF58476D1CE4E5B9)
    z = z ^ (z >> np.uint64(27))
    z = z * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def minhash64(words: Sequence[str]) -> int:
    """The 64-bit one-bit-minhash of ``words`` (a multiset: the second "the"
    is a different element from the first)."""
    if not words:
        raise ValueError("minhash64 needs at least one word")
    counts: dict[str, int] = {}
    elements: list[str] = []
    for word in words:
        counts[word] = counts.get(word, 0) + 1
        elements.append(f"{word}\x00{counts[word]}")
    base = np.array([_hash64(e) for e in elements], dtype=np.uint64)
    ranks = splitmix64(base[None, :] ^ _SEEDS[:, None])  # 64 orderings x elements
    winners = base[np.argmin(ranks, axis=1)]
    bits = (winners >> _BIT_SHIFTS) & np.uint64(1)
    return int((bits << _BIT_SHIFTS).sum(dtype=np.uint64))
