"""Exact-match index for hashes and normalised values (md5, sha256, sha512, text, url).

A dict of Python strings costs about 150 bytes per value; at 10M values that
is gigabytes. Here every value is reduced to a 128-bit fingerprint kept in
sorted numpy arrays (about 45 bytes per entry with its ref, bank and
tombstone), searched with a binary search:

- ``hex`` values (hash digests): the first 128 bits of the digest itself, so
  an MD5 is kept whole and longer digests by their prefix;
- other values (URLs, free strings): BLAKE2b-128 of the UTF-8 value.

Two different values share a fingerprint with probability about n^2 / 2^129
(1e-25 at 10M values). The match engine still confirms every hit's full value
against the database before reporting it, so results are exact.

New entries go into a small dict (the delta) and are merged into the sorted
arrays once it holds ``merge_limit`` entries: an O(n) insertion, about 0.1 s at
10M. Removals set a tombstone; merges drop dead entries.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Self

import numpy as np

from warding.matching.base import IndexHit, SignalIndex

Kind = Literal["hex", "text"]


def fingerprints(values: Sequence[str], kind: Kind) -> tuple[np.ndarray, np.ndarray]:
    """128-bit fingerprints of ``values`` as two uint64 arrays (high, low words)."""
    k = len(values)
    raw = np.zeros((k, 16), dtype=np.uint8)
    if k and kind == "hex":
        try:
            lengths = {len(v) for v in values}
            if len(lengths) == 1 and (width := lengths.pop()) % 2 == 0:
                take = min(width // 2, 16)
                digest = np.frombuffer(bytes.fromhex("".join(values)), np.uint8)
                raw[:, :take] = digest.reshape(k, width // 2)[:, :take]
            else:
                for i, v in enumerate(values):
                    b = bytes.fromhex(v)[:16]
                    raw[i, :len(b)] = np.frombuffer(b, np.uint8)
        except ValueError as exc:
            raise ValueError(f"not a hex value among {k} values: {exc}") from exc
    elif k:
        joined = b"".join(hashlib.blake2b(v.encode("utf-8"), digest_size=16).digest()
                          for v in values)
        raw[:] = np.frombuffer(joined, np.uint8).reshape(k, 16)
    words = raw.view(">u8").reshape(k, 2)
    return words[:, 0].astype(np.uint64), words[:, 1].astype(np.uint64)


@dataclass(frozen=True)
class _Main:
    hi: np.ndarray  # uint64, sorted
    lo: np.ndarray  # uint64
    refs: np.ndarray  # int64
    banks: np.ndarray  # int32
    alive: np.ndarray  # uint8 (written in place)


def _empty_main() -> _Main:
    return _Main(np.zeros(0, np.uint64), np.zeros(0, np.uint64), np.zeros(0, np.int64),
                 np.zeros(0, np.int32), np.zeros(0, np.uint8))


class ExactIndex(SignalIndex):
    """Exact matches only (``threshold`` is ignored). ``kind`` selects the fingerprint."""

    def __init__(self, kind: Kind = "text", *, merge_limit: int = 65536) -> None:
        self.kind: Kind = kind
        self.merge_limit = max(1, merge_limit)
        self._lock = threading.RLock()
        self._main = _empty_main()
        self._live_main = 0
        self._delta: dict[tuple[int, int], list[tuple[int, int]]] = {}
        self._delta_count = 0

    # -- updates ---------------------------------------------------------------------
    def add_fingerprints(self, hi: np.ndarray, lo: np.ndarray, refs: np.ndarray,
                         banks: np.ndarray | None = None) -> None:
        refs = np.asarray(refs, np.int64)
        banks = np.zeros(len(refs), np.int32) if banks is None else np.asarray(banks, np.int32)
        with self._lock:
            if len(refs) >= self.merge_limit:
                self._merge(np.asarray(hi, np.uint64), np.asarray(lo, np.uint64), refs, banks)
                return
            for h, lw, r, b in zip(hi.tolist(), lo.tolist(), refs.tolist(), banks.tolist(),
                                   strict=True):
                self._delta.setdefault((h, lw), []).append((r, b))
            self._delta_count += len(refs)
            if self._delta_count >= self.merge_limit:
                self._merge()

    def add_many(self, values: Sequence[str], refs: Sequence[int],
                 banks: Sequence[int] | None = None) -> None:
        hi, lo = fingerprints(values, self.kind)
        self.add_fingerprints(hi, lo, np.asarray(refs), None if banks is None else np.asarray(banks))

    def add(self, value: str, ref: int, bank: int = 0) -> None:
        self.add_many([value], [ref], [bank])

    def _merge(self, hi: np.ndarray | None = None, lo: np.ndarray | None = None,
               refs: np.ndarray | None = None, banks: np.ndarray | None = None) -> None:
        """Fold the delta (and an optional batch) into the sorted arrays; drop dead entries."""
        items = [(h, lw, r, b) for (h, lw), lst in self._delta.items() for r, b in lst]
        d_hi = np.array([x[0] for x in items], dtype=np.uint64)
        d_lo = np.array([x[1] for x in items], dtype=np.uint64)
        d_refs = np.array([x[2] for x in items], dtype=np.int64)
        d_banks = np.array([x[3] for x in items], dtype=np.int32)
        if hi is not None and lo is not None and refs is not None and banks is not None:
            d_hi, d_lo = np.concatenate([d_hi, hi]), np.concatenate([d_lo, lo])
            d_refs, d_banks = np.concatenate([d_refs, refs]), np.concatenate([d_banks, banks])
        order = np.argsort(d_hi, kind="stable")
        d_hi, d_lo, d_refs, d_banks = d_hi[order], d_lo[order], d_refs[order], d_banks[order]
        main = self._main
        if len(main.hi) and self._live_main * 4 < len(main.hi) * 3:  # a quarter dead: compact
            keep = np.flatnonzero(main.alive)
            main = _Main(main.hi[keep], main.lo[keep], main.refs[keep], main.banks[keep],
                         np.ones(len(keep), np.uint8))
        at = np.searchsorted(main.hi, d_hi, side="right")
        merged = _Main(np.insert(main.hi, at, d_hi), np.insert(main.lo, at, d_lo),
                       np.insert(main.refs, at, d_refs), np.insert(main.banks, at, d_banks),
                       np.insert(main.alive, at, np.ones(len(d_hi), np.uint8)))
        self._main = merged
        self._live_main = int(np.count_nonzero(merged.alive))
        self._delta = {}
        self._delta_count = 0

    def remove_refs(self, refs: Iterable[int] | np.ndarray) -> int:
        arr = np.unique(np.asarray(list(refs) if not isinstance(refs, np.ndarray) else refs,
                                   dtype=np.int64))
        if not len(arr):
            return 0
        with self._lock:
            main = self._main
            hit = np.flatnonzero(np.isin(main.refs, arr) & (main.alive != 0))
            main.alive[hit] = 0
            self._live_main -= len(hit)
            gone = set(arr.tolist())
            return len(hit) + self._drop_delta(lambda r, b: r in gone)

    def remove(self, ref: int) -> None:
        self.remove_refs(np.array([ref]))

    def remove_bank(self, bank: int) -> int:
        with self._lock:
            main = self._main
            hit = np.flatnonzero((main.banks == bank) & (main.alive != 0))
            main.alive[hit] = 0
            self._live_main -= len(hit)
            return len(hit) + self._drop_delta(lambda r, b: b == bank)

    def _drop_delta(self, dead: Any) -> int:
        removed = 0
        for key in list(self._delta):
            kept = [x for x in self._delta[key] if not dead(*x)]
            removed += len(self._delta[key]) - len(kept)
            if kept:
                self._delta[key] = kept
            else:
                del self._delta[key]
        self._delta_count -= removed
        return removed

    def contains_refs(self, refs: np.ndarray) -> np.ndarray:
        refs = np.asarray(refs, np.int64)
        main = self._main
        found = np.isin(refs, main.refs[main.alive != 0])
        if self._delta:
            delta_refs = np.array([r for lst in list(self._delta.values()) for r, _ in lst],
                                  dtype=np.int64)
            found |= np.isin(refs, delta_refs)
        return found

    # -- queries ---------------------------------------------------------------------
    def search_fingerprints(self, hi: np.ndarray, lo: np.ndarray
                            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(query index, ref, bank) of every live entry with the same fingerprint, by query, ref."""
        main = self._main
        delta = self._delta
        start = np.searchsorted(main.hi, hi, side="left")
        end = np.searchsorted(main.hi, hi, side="right")
        counts = end - start
        total = int(counts.sum())
        q = np.repeat(np.arange(len(hi)), counts)
        pos = np.repeat(start - np.cumsum(counts) + counts, counts) + np.arange(total)
        ok = (main.lo[pos] == lo[q]) & (main.alive[pos] != 0)
        q, pos = q[ok], pos[ok]
        out_q, out_r, out_b = [q], [main.refs[pos]], [main.banks[pos]]
        if delta:
            extra = [(i, r, b) for i, key in enumerate(zip(hi.tolist(), lo.tolist(), strict=True))
                     for r, b in delta.get(key, ())]
            if extra:
                arr = np.array(extra, dtype=np.int64)
                out_q.append(arr[:, 0])
                out_r.append(arr[:, 1])
                out_b.append(arr[:, 2].astype(np.int32))
        qa, ra, ba = np.concatenate(out_q), np.concatenate(out_r), np.concatenate(out_b)
        order = np.lexsort((ra, qa))
        return qa[order].astype(np.int64), ra[order], ba[order]

    def search(self, values: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        hi, lo = fingerprints(values, self.kind)
        return self.search_fingerprints(hi, lo)

    def query(self, value: str, threshold: int = 0) -> list[IndexHit]:
        _, refs, _ = self.search([value])
        return [IndexHit(value, int(r), 0) for r in refs.tolist()]

    # -- state -----------------------------------------------------------------------
    def __len__(self) -> int:
        return self._live_main + self._delta_count

    def live(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Every live entry: (hi, lo, refs, banks), sorted by fingerprint."""
        with self._lock:
            self._merge()
            main = self._main
            keep = np.flatnonzero(main.alive)
            return main.hi[keep], main.lo[keep], main.refs[keep], main.banks[keep]

    def to_arrays(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        hi, lo, refs, banks = self.live()
        return ({"kind": "exact", "fingerprint": self.kind, "entries": len(refs)},
                {"hi": hi, "lo": lo, "refs": refs, "banks": banks})

    @classmethod
    def from_snapshot(cls, meta: dict[str, Any], arrays: dict[str, np.ndarray], **kw: Any) -> Self:
        try:
            kind = meta["fingerprint"]
            if kind not in ("hex", "text"):
                raise ValueError(f"unknown fingerprint {kind!r}")
            hi, lo, refs, banks = arrays["hi"], arrays["lo"], arrays["refs"], arrays["banks"]
            if not (hi.ndim == 1 and hi.shape == lo.shape == refs.shape == banks.shape):
                raise ValueError("arrays of different lengths")
            return cls.from_arrays(kind, hi, lo, refs, banks, **kw)
        except (KeyError, TypeError) as exc:
            raise ValueError(f"index arrays do not fit together: {exc!r}") from exc

    def stats(self) -> dict[str, Any]:
        main = self._main
        return {"entries": len(self), "delta": self._delta_count,
                "bytes": int(main.hi.nbytes * 2 + main.refs.nbytes + main.banks.nbytes
                             + main.alive.nbytes)}

    @classmethod
    def build(cls, entries: Iterable[tuple[str, int]], **kw: Any) -> Self:
        index = cls(**kw)
        items = list(entries)
        if items:
            index.add_many([v for v, _ in items], [r for _, r in items])
        return index

    @classmethod
    def from_arrays(cls, kind: Kind, hi: np.ndarray, lo: np.ndarray, refs: np.ndarray,
                    banks: np.ndarray, **kw: Any) -> Self:
        """An index of these entries (sorted here if needed)."""
        index = cls(kind, **kw)
        hi = np.asarray(hi, np.uint64)
        ordered = len(hi) < 2 or bool(np.all(hi[1:] >= hi[:-1]))
        order = np.arange(len(hi)) if ordered else np.argsort(hi, kind="stable")
        index._main = _Main(np.ascontiguousarray(hi[order], np.uint64),
                            np.ascontiguousarray(lo[order], np.uint64),
                            np.ascontiguousarray(refs[order], np.int64),
                            np.ascontiguousarray(banks[order], np.int32),
                            np.ones(len(order), np.uint8))
        index._live_main = len(order)
        return index
