"""The Hamming index's inner loops: a compiled kernel and a numpy twin.

Both implement the same three functions with the same arguments and the same
answers (``tests/test_matching_mih.py`` checks that they agree):

- ``build_chunk(codes, off, bits) -> (offsets, ids)``: a counting sort of the
  codes by the value of one chunk (``bits`` bits starting at bit ``off``).
- ``mih_query(segment tables, queries, r) -> Hits``: multi-index hashing.
- ``scan(codes, alive, queries, r) -> Hits``: every code checked.

Codes are ``(n, words)`` C-contiguous ``uint64`` arrays. The compiled kernel
(``warding/matching/_kernel.c``, built by ``pip install``) is used when it was
built; ``use("numpy")`` forces the fallback (setting ``WARDING_MATCH_KERNEL``).
The choice is process-wide because the kernel is a property of the
installation, not of one index.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Literal

import numpy as np

KernelName = Literal["auto", "c", "numpy"]

_compiled: ModuleType | None
try:  # built by setup.py; optional
    from warding.matching import _kernel as _compiled
except ImportError:  # pragma: no cover - depends on the installation
    _compiled = None

_active: ModuleType | None = _compiled


def available() -> bool:
    """Whether the compiled kernel was built."""
    return _compiled is not None


def use(name: KernelName) -> str:
    """Select the kernel ('auto' prefers the compiled one); returns the name in use."""
    global _active
    if name == "c" and _compiled is None:
        raise RuntimeError(
            "the compiled matching kernel is not built: reinstall with a C compiler "
            "(`pip install -e .`), or set WARDING_MATCH_KERNEL=numpy"
        )
    _active = None if name == "numpy" else _compiled
    return active()


def active() -> str:
    return "c" if _active is not None else "numpy"


@dataclass(frozen=True)
class Hits:
    """Results of a batch: parallel arrays, in no particular order."""

    query: np.ndarray  # int32, index into the batch
    pos: np.ndarray  # uint32, position in the searched array
    dist: np.ndarray  # int16

    @classmethod
    def empty(cls) -> Hits:
        return cls(np.zeros(0, np.int32), np.zeros(0, np.uint32), np.zeros(0, np.int16))

    @classmethod
    def from_bytes(cls, raw: tuple[bytes, bytes, bytes]) -> Hits:
        return cls(np.frombuffer(raw[0], np.int32), np.frombuffer(raw[1], np.uint32),
                   np.frombuffer(raw[2], np.int16))

    def __len__(self) -> int:
        return len(self.query)


@dataclass(frozen=True)
class Tables:
    """Multi-index tables of one segment: chunk layout, bucket offsets and ids."""

    coff: np.ndarray  # int32[m]: first bit of each chunk
    cbits: np.ndarray  # int32[m]: bits of each chunk
    tab_off: np.ndarray  # int64[m]: where chunk i's offsets start in ``offsets``
    offsets: np.ndarray  # uint32: concatenated 2^bits + 1 bucket starts per chunk
    ids: np.ndarray  # uint32[m, n]: positions, bucket by bucket

    @property
    def nbytes(self) -> int:
        return int(self.offsets.nbytes + self.ids.nbytes)


@dataclass(frozen=True)
class Probe:
    """How to search the tables for one threshold: chunk thresholds and their XOR masks."""

    t: np.ndarray  # int32[m], -1 = chunk not probed
    masks: np.ndarray  # uint32, concatenated per chunk
    mstart: np.ndarray  # int64[m]
    mcount: np.ndarray  # int64[m]


# -- helpers shared by both implementations ----------------------------------------
def chunk_values(codes: np.ndarray, off: int, bits: int) -> np.ndarray:
    """The value of one chunk for every row of ``codes`` (numpy; same bits as the C kernel)."""
    word, shift = divmod(off, 64)
    values = codes[:, word] >> np.uint64(shift)
    if shift + bits > 64:
        values = values | (codes[:, word + 1] << np.uint64(64 - shift))
    return (values & np.uint64((1 << bits) - 1)).astype(np.uint32)


def popcount_rows(x: np.ndarray) -> np.ndarray:
    """Set bits per row of a 2-D uint64 array."""
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(x).sum(axis=1, dtype=np.int32)
    table = np.array([i.bit_count() for i in range(256)], dtype=np.int32)  # numpy 1.x
    return table[np.ascontiguousarray(x).view(np.uint8)].reshape(len(x), -1).sum(axis=1)


# -- the three functions -------------------------------------------------------------
def build_chunk(codes: np.ndarray, off: int, bits: int, offsets: np.ndarray | None = None,
                ids: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Bucket tables of one chunk: ``offsets`` (2^bits + 1) and ``ids`` (ascending in a bucket),
    written into the given arrays when there are some."""
    n, words = codes.shape
    if offsets is None:
        offsets = np.empty((1 << bits) + 1, dtype=np.uint32)
    if ids is None:
        ids = np.empty(n, dtype=np.uint32)
    if _active is not None:
        _active.build_chunk(codes, n, words, off, bits, offsets, ids)
        return offsets, ids
    keys = chunk_values(codes, off, bits)
    ids[:] = np.argsort(keys, kind="stable")
    counts = np.bincount(keys, minlength=1 << bits)
    offsets[0] = 0
    np.cumsum(counts, out=offsets[1:])
    return offsets, ids


def scan(codes: np.ndarray, alive: np.ndarray, queries: np.ndarray, r: int) -> Hits:
    """Every live code within distance ``r`` of each query."""
    n, words = codes.shape
    if n == 0 or len(queries) == 0 or r < 0:
        return Hits.empty()
    if _active is not None:
        return Hits.from_bytes(_active.scan(codes, n, words, alive, queries, len(queries), r))
    out_q, out_p, out_d = [], [], []
    for qi in range(len(queries)):
        dist = popcount_rows(codes ^ queries[qi])
        pos = np.flatnonzero((dist <= r) & (alive != 0))
        out_q.append(np.full(len(pos), qi, np.int32))
        out_p.append(pos.astype(np.uint32))
        out_d.append(dist[pos].astype(np.int16))
    return Hits(np.concatenate(out_q), np.concatenate(out_p), np.concatenate(out_d))


def mih_query(codes: np.ndarray, alive: np.ndarray, tables: Tables, probe: Probe,
              queries: np.ndarray, r: int) -> Hits:
    """Multi-index hashing: exact when ``sum(probe.t) >= r - m + 1`` (see ``_kernel.c``)."""
    n, words = codes.shape
    if n == 0 or len(queries) == 0 or r < 0:
        return Hits.empty()
    if _active is not None:
        raw = _active.mih_query(codes, n, words, alive, tables.coff, tables.cbits, probe.t,
                                tables.tab_off, tables.offsets, tables.ids, probe.masks,
                                probe.mstart, probe.mcount, queries, len(queries), r)
        return Hits.from_bytes(raw)
    out_q, out_p, out_d = [], [], []
    m = len(tables.coff)
    chunks = [(i, int(tables.coff[i]), int(tables.cbits[i])) for i in range(m) if probe.t[i] >= 0]
    for qi in range(len(queries)):
        q = queries[qi:qi + 1]
        found: list[np.ndarray] = []
        for i, off, bits in chunks:
            key = int(chunk_values(q, off, bits)[0])
            masks = probe.masks[probe.mstart[i]:probe.mstart[i] + probe.mcount[i]]
            buckets = (masks ^ np.uint32(key)).astype(np.int64)
            table = tables.offsets[tables.tab_off[i]:tables.tab_off[i] + (1 << bits) + 1]
            starts = table[buckets].astype(np.int64)
            ends = table[buckets + 1].astype(np.int64)
            lengths = ends - starts
            total = int(lengths.sum())
            if total:
                # concatenate ids[start:end] for every probed bucket, without a Python loop
                first = np.repeat(starts - np.cumsum(lengths) + lengths, lengths)
                found.append(tables.ids[i][first + np.arange(total)])
        if not found:
            continue
        cand = np.unique(np.concatenate(found))
        dist = popcount_rows(codes[cand] ^ q)
        keep = (dist <= r) & (alive[cand] != 0)
        pos = cand[keep]
        out_q.append(np.full(len(pos), qi, np.int32))
        out_p.append(pos.astype(np.uint32))
        out_d.append(dist[keep].astype(np.int16))
    if not out_q:
        return Hits.empty()
    return Hits(np.concatenate(out_q), np.concatenate(out_p), np.concatenate(out_d))
