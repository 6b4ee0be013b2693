"""128-bit fingerprints of (signal type, value) pairs, and a set of them in sorted numpy
arrays (about 16 bytes per signal, not a Python set): how a bank import spots the signals a
bank holds already and the repeats within a file without keeping the values."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

import numpy as np

from warding.signals.base import SignalType
from warding.signals.text import splitmix64


class Fingerprinter:
    """128-bit fingerprints of (signal type, value) pairs, to spot repeats without keeping
    the values. Hex values (hashes) are fingerprinted from their bytes, vectorised: a 128-bit
    digest (MD5) is its own fingerprint; longer ones are folded with two independent
    splitmix64 lanes. Other values (URLs) use BLAKE2b-128. Each type has its own salt."""

    def __init__(self, hex_lengths: Mapping[str, int]) -> None:
        self.hex_lengths = dict(hex_lengths)

    @staticmethod
    def _salt(signal_type: str) -> tuple[np.uint64, np.uint64]:
        d = hashlib.blake2b(signal_type.encode(), digest_size=16).digest()
        return np.uint64(int.from_bytes(d[:8], "little")), np.uint64(int.from_bytes(d[8:], "little"))

    def of_raw(self, signal_type: str, raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Fingerprints of hex values given as bytes, ``raw`` an (n, bytes) uint8 array."""
        n, width = raw.shape
        sh, sl = self._salt(signal_type)
        if width == 16:
            words = np.ascontiguousarray(raw).view("<u8").reshape(n, 2)
            return words[:, 0].astype(np.uint64) ^ sh, words[:, 1].astype(np.uint64) ^ sl
        padded = np.zeros((n, (width + 7) // 8 * 8), np.uint8)
        padded[:, :width] = raw
        words = padded.view("<u8").reshape(n, -1).astype(np.uint64)
        hi = np.full(n, sh, np.uint64)
        lo = np.full(n, sl, np.uint64)
        for j in range(words.shape[1]):
            hi = splitmix64(hi ^ words[:, j])
            lo = splitmix64((lo + np.uint64(0x9E3779B97F4A7C15)) ^ words[:, j])
        return hi, lo

    def of(self, signals: Sequence[tuple[str, str]]) -> tuple[np.ndarray, np.ndarray]:
        """Fingerprints of validated (type, value) pairs, in order."""
        hi = np.zeros(len(signals), np.uint64)
        lo = np.zeros(len(signals), np.uint64)
        groups: dict[str, list[int]] = {}
        for i, (t, _) in enumerate(signals):
            groups.setdefault(t, []).append(i)
        for t, idx in groups.items():
            hi[idx], lo[idx] = self.of_values(t, [signals[i][1] for i in idx])
        return hi, lo

    def of_values(self, signal_type: str, values: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Fingerprints of validated values of one signal type, in order."""
        width = self.hex_lengths.get(signal_type)
        if width:
            joined = "".join(values)
            if len(joined) == width * len(values):  # validated values: every one is width long
                raw = np.frombuffer(bytes.fromhex(joined), np.uint8).reshape(len(values),
                                                                              width // 2)
                return self.of_raw(signal_type, raw)
        digest = b"".join(hashlib.blake2b(f"{signal_type}\0{v}".encode(), digest_size=16).digest()
                          for v in values)
        words = np.frombuffer(digest, dtype="<u8").reshape(-1, 2)
        return words[:, 0].astype(np.uint64), words[:, 1].astype(np.uint64)


def hex_lengths(types: Mapping[str, SignalType]) -> dict[str, int]:
    """Hex length of each signal type whose values are hex (hashes, PDQ, text fingerprints)."""
    out = {}
    for name, st in types.items():
        length = getattr(st, "hex_length", None)
        if not length and st.match == "hamming" and st.bits and not st.multi:
            length = st.bits // 4
        if length:
            out[name] = int(length)
    return out


def signal_fingerprints(signals: Sequence[tuple[str, str]],
                        lengths: Mapping[str, int] | None = None) -> tuple[np.ndarray, np.ndarray]:
    return Fingerprinter(lengths or {}).of(list(signals))


class FingerprintSet:
    """A set of 128-bit fingerprints: sorted levels merged like a binary counter."""

    def __init__(self) -> None:
        self._levels: list[tuple[np.ndarray, np.ndarray]] = []

    def __len__(self) -> int:
        return sum(len(h) for h, _ in self._levels)

    def add(self, hi: np.ndarray, lo: np.ndarray) -> None:
        if not len(hi):
            return
        order = np.argsort(hi, kind="stable")
        level = (hi[order], lo[order])
        while self._levels and len(self._levels[-1][0]) <= 2 * len(level[0]):
            top = self._levels.pop()
            h = np.concatenate([top[0], level[0]])
            lw = np.concatenate([top[1], level[1]])
            order = np.argsort(h, kind="stable")
            level = (h[order], lw[order])
        self._levels.append(level)

    def contains(self, hi: np.ndarray, lo: np.ndarray) -> np.ndarray:
        """Which (hi, lo) pairs are in the set. The queries are looked up in sorted order:
        numpy's binary search starts from the previous answer, so a sorted batch walks each
        level once instead of jumping around millions of entries per query."""
        if not len(hi) or not self._levels:
            return np.zeros(len(hi), dtype=bool)
        order = np.argsort(hi, kind="stable")
        qh, ql = hi[order], lo[order]
        hit = np.zeros(len(hi), dtype=bool)
        for lh, ll in self._levels:
            start = np.searchsorted(lh, qh, side="left")
            end = np.searchsorted(lh, qh, side="right")
            single = (end - start) == 1
            idx = np.minimum(start, len(ll) - 1)
            hit[single] |= ll[idx[single]] == ql[single]
            for i in np.flatnonzero((end - start) > 1):  # equal high words: practically never
                hit[i] |= bool(np.any(ll[start[i]:end[i]] == ql[i]))
        found = np.empty(len(hi), dtype=bool)
        found[order] = hit
        return found
