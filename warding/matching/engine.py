"""The match engine's state: one index per signal type over every enabled bank entry,
kept current from the change feed, saved to and loaded from index snapshots.

Life of an engine (one per process and database, cached on the app):

1. **Open**: load the snapshot in ``<data_dir>/index/`` when it belongs to this
   database (same ``database_id``, watermark not ahead of the feed); otherwise
   build from the database (one streaming read) and save a snapshot.
2. **Refresh**: before serving, apply the feed rows written since (at most every
   ``index_poll_seconds``, and at once after a commit made in this process).
   Added entries go into the indexes' deltas, removed ones get tombstones: no
   rebuild.
3. **Save**: once enough has changed, a background thread writes a new snapshot
   (crash-safe, see :mod:`warding.matching.store`), so that the next process
   starts from it in seconds.

Bank configuration (enabled, per-type thresholds) is applied at query time, so
enabling or disabling a bank of 10M entries changes nothing in the indexes.
Entries are identified in the indexes by their id, with their bank id beside.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Connection, Engine, select

from warding.db.models import Bank, BankEntry, BankSignal
from warding.matching import feed, kernel
from warding.matching.engine_snapshots import read_snapshots, snapshot_path, write_snapshots
from warding.matching.engine_types import (
    BankInfo,
    EngineStatus,
    Found,
    Index,
    live_refs,
    max_ref,
    parses,
)
from warding.matching.entry_meta import EntryMeta, EntryMetaCache
from warding.matching.exact import ExactIndex, fingerprints
from warding.matching.index import exact_kind, index_for
from warding.matching.mih import HammingIndex
from warding.signals.base import SignalType

log = logging.getLogger("warding.matching")

READ_BATCH = 100_000
ENTRY_WINDOW = 200_000


class MatchCore:
    """Indexes of one database's bank entries, by signal type (see the module docstring)."""

    def __init__(self, types: Mapping[str, SignalType], *, snapshot_dir: Path | None,
                 snapshot_min: int = 50_000, poll_seconds: float = 0.25) -> None:
        self.types = dict(types)
        self.snapshot_dir = snapshot_dir
        self.snapshot_min = snapshot_min
        self.poll_seconds = poll_seconds
        self.indexes: dict[str, Index] = {}
        self.banks: dict[int, BankInfo] = {}
        self.cursor = feed.Cursor()
        self.database_id = ""
        self.built_to = 0.0
        self.source = ""  # "snapshot" or "database"
        self.opened_in = 0.0
        self._max_ref: dict[str, int] = {}
        self._refresh_lock = threading.Lock()
        self._last_poll = 0.0
        self._seen_commits = -1
        self._changed_since_save = 0
        self._save_thread: threading.Thread | None = None
        self._meta = EntryMetaCache()
        self._thresholds: dict[str, tuple[np.ndarray, int]] = {}

    # -- opening -----------------------------------------------------------------------
    @classmethod
    def open(cls, sa_engine: Engine, types: Mapping[str, SignalType], *,
             snapshot_dir: Path | None, snapshot_min: int = 50_000,
             poll_seconds: float = 0.25) -> MatchCore:
        core = cls(types, snapshot_dir=snapshot_dir, snapshot_min=snapshot_min,
                   poll_seconds=poll_seconds)
        started = time.perf_counter()
        with sa_engine.begin() as conn:
            core.database_id = feed.database_id(conn)
        if not core._load_snapshots(sa_engine):
            core._build(sa_engine)
            if core.size() >= snapshot_min:
                core.save_async()
        core.refresh(sa_engine, force=True)
        core.opened_in = time.perf_counter() - started
        return core

    def size(self) -> int:
        return sum(len(i) for i in self.indexes.values())

    def _load_snapshots(self, sa_engine: Engine) -> bool:
        """Load every signal type's snapshot if all fit this database; False to rebuild."""
        if self.snapshot_dir is None or not self.snapshot_dir.is_dir():
            return False
        paths = {name: snapshot_path(self.snapshot_dir, name) for name in self.types}
        present = {name: p for name, p in paths.items() if p.exists()}
        if not present:
            return False
        with sa_engine.connect() as conn:
            last = feed.last_change(conn)
        found = read_snapshots(present, self.types, self.database_id, last)
        if found is None:
            return False
        self.indexes = found.indexes
        self.built_to = max(self.built_to, found.built_to)
        for name, index in found.indexes.items():
            self._max_ref[name] = max_ref(index)
        self.cursor = feed.Cursor(found.watermark,
                                  {int(k): float(v) for k, v in found.gaps.items()})
        self._load_banks(sa_engine)
        self.source = "snapshot"
        return True

    def _build(self, sa_engine: Engine) -> None:
        """Every enabled entry's signals, read once from the database."""
        with sa_engine.connect() as conn:
            self.cursor = feed.Cursor(feed.last_change(conn))
            self.built_to = time.time()
            stmt = (select(BankSignal.entry_id, BankEntry.bank_id, BankSignal.signal_type,
                           BankSignal.value)
                    .join(BankEntry, BankEntry.id == BankSignal.entry_id)
                    .where(BankEntry.enabled.is_(True))
                    .order_by(BankSignal.signal_type, BankSignal.entry_id))
            result = conn.execution_options(stream_results=True, yield_per=READ_BATCH).execute(stmt)
            parts: dict[str, list[tuple[np.ndarray, ...]]] = {}
            for batch in result.partitions(READ_BATCH):
                for name, arrays in self._parse_rows(batch).items():
                    parts.setdefault(name, []).append(arrays)
        self.indexes = {}
        for name, chunks in parts.items():
            st = self.types[name]
            refs = np.concatenate([c[1] for c in chunks])
            banks = np.concatenate([c[2] for c in chunks])
            index: Index
            if st.match == "hamming":
                codes = np.concatenate([c[0] for c in chunks])
                index = HammingIndex.from_arrays(st.bits or 0, codes, refs, banks,
                                                 threshold=st.default_threshold)
            else:
                hi = np.concatenate([c[0] for c in chunks])
                lo = np.concatenate([c[3] for c in chunks])
                index = ExactIndex.from_arrays(exact_kind(st), hi, lo, refs, banks)
            self.indexes[name] = index
            self._max_ref[name] = int(refs.max()) if len(refs) else 0
        self._load_banks(sa_engine)
        self.source = "database"

    def _parse_rows(self, rows: Sequence[Any]) -> dict[str, tuple[np.ndarray, ...]]:
        """Rows (entry, bank, type, value) as arrays per type: Hamming types (codes, refs, banks),
        exact types (hi, refs, banks, lo). Values that do not parse are logged and skipped."""
        by_type: dict[str, tuple[list[str], list[int], list[int]]] = {}
        for entry_id, bank_id, signal_type, value in rows:
            if signal_type in self.types:
                vals, refs, banks = by_type.setdefault(signal_type, ([], [], []))
                vals.append(value)
                refs.append(entry_id)
                banks.append(bank_id)
        out: dict[str, tuple[np.ndarray, ...]] = {}
        for name, (vals, refs, banks) in by_type.items():
            st = self.types[name]
            ref_arr = np.array(refs, dtype=np.int64)
            bank_arr = np.array(banks, dtype=np.int32)
            try:
                if st.match == "hamming":
                    keys = [st.index_key(v) for v in vals]  # a vPDQ frame: its PDQ hex
                    out[name] = (self._hamming(name).parse(keys), ref_arr, bank_arr)
                else:
                    hi, lo = fingerprints(vals, exact_kind(st))
                    out[name] = (hi, ref_arr, bank_arr, lo)
            except ValueError:
                good = [i for i, v in enumerate(vals) if parses(st, v)]
                log.warning("skipping %d unparseable %s values in the banks",
                            len(vals) - len(good), name)
                if good:
                    sub = self._parse_rows([(refs[i], banks[i], name, vals[i]) for i in good])
                    out.update(sub)
        return out

    def _hamming(self, name: str) -> HammingIndex:
        index = self.indexes.get(name)
        if isinstance(index, HammingIndex):
            return index
        st = self.types[name]
        return HammingIndex(bits=st.bits or 0, threshold=st.default_threshold)

    def _load_banks(self, sa_engine: Engine) -> None:
        with sa_engine.connect() as conn:
            rows = conn.execute(select(Bank.id, Bank.name, Bank.enabled, Bank.thresholds,
                                      Bank.match_ratio)).all()
        self.banks = {r[0]: BankInfo(r[0], r[1], bool(r[2]), dict(r[3] or {}),
                                 float(r[4] if r[4] is not None else 1.0)) for r in rows}
        self._thresholds = {}

    # -- refreshing --------------------------------------------------------------------
    def due(self) -> bool:
        return (feed.local_commits != self._seen_commits
                or time.monotonic() - self._last_poll >= self.poll_seconds)

    def refresh(self, sa_engine: Engine, *, force: bool = False) -> int:
        """Apply the feed rows not applied yet; returns how many were applied."""
        if not force and not self.due():
            return 0
        urgent = force or feed.local_commits != self._seen_commits
        if not self._refresh_lock.acquire(blocking=urgent):
            return 0  # another thread is refreshing; serve the current state
        try:
            applied = 0
            while True:
                commits = feed.local_commits
                with sa_engine.connect() as conn:
                    changes = self.cursor.read(conn)
                    if changes:
                        self._apply(conn, changes)
                self.cursor.advance(changes)
                applied += len(changes)
                self._seen_commits = commits
                self._last_poll = time.monotonic()
                if len(changes) < 100_000 and feed.local_commits == commits:
                    break
        finally:
            self._refresh_lock.release()
        if applied:
            self._maybe_save()
        return applied

    def _apply(self, conn: Connection, changes: Sequence[feed.Change]) -> None:
        banks_dirty = False
        i = 0
        while i < len(changes):
            c = changes[i]
            if c.kind == "add" and c.bank_id is not None and c.first is not None \
                    and c.last is not None:
                # consecutive additions to one bank are read together
                first, last = c.first, c.last
                j = i + 1
                while (j < len(changes) and changes[j].kind == "add"
                       and changes[j].bank_id == c.bank_id and changes[j].first is not None
                       and changes[j].last is not None):
                    first = min(first, changes[j].first or first)
                    last = max(last, changes[j].last or last)
                    j += 1
                self._add_range(conn, c.bank_id, first, last)
                i = j
                self.built_to = max(self.built_to, changes[j - 1].at)
                continue
            if c.kind == "remove" and c.bank_id is not None and c.first is not None \
                    and c.last is not None:
                self._remove_range(c.bank_id, c.first, c.last)
            elif c.kind == "bank":
                banks_dirty = True
            self.built_to = max(self.built_to, c.at)
            i += 1
        if banks_dirty:
            self._reload_banks(conn)

    def _add_range(self, conn: Connection, bank_id: int, first: int, last: int) -> None:
        for lo in range(first, last + 1, ENTRY_WINDOW):
            hi = min(last, lo + ENTRY_WINDOW - 1)
            rows = conn.execute(
                select(BankSignal.entry_id, BankEntry.bank_id, BankSignal.signal_type,
                       BankSignal.value)
                .join(BankEntry, BankEntry.id == BankSignal.entry_id)
                .where(BankEntry.bank_id == bank_id, BankEntry.enabled.is_(True),
                       BankSignal.entry_id >= lo, BankSignal.entry_id <= hi)
                .order_by(BankSignal.entry_id)
            ).all()
            for name, arrays in self._parse_rows(rows).items():
                refs = arrays[1]
                index = self.indexes.get(name)
                if index is None:
                    index = self.indexes[name] = index_for(self.types[name])
                if int(refs.min()) <= self._max_ref.get(name, 0):
                    # replayed or interleaved ids: never add an entry twice
                    fresh = ~index.contains_refs(np.unique(refs))
                    keep = np.isin(refs, np.unique(refs)[fresh])
                    arrays = tuple(a[keep] for a in arrays)
                    refs = arrays[1]
                if not len(refs):
                    continue
                if isinstance(index, HammingIndex):
                    index.add_codes(arrays[0], arrays[1], arrays[2])
                else:
                    index.add_fingerprints(arrays[0], arrays[3], arrays[1], arrays[2])
                self._max_ref[name] = max(self._max_ref.get(name, 0), int(refs.max()))
                self._changed_since_save += len(refs)

    def _remove_range(self, bank_id: int, first: int, last: int) -> None:
        for index in self.indexes.values():
            refs = np.arange(first, last + 1, dtype=np.int64) if last - first < 1_000_000 else None
            if refs is None:
                self._remove_bank_range(index, bank_id, first, last)
            else:
                removed = index.remove_refs(refs)
                self._changed_since_save += removed
        self._forget_meta()

    def _remove_bank_range(self, index: Index, bank_id: int, first: int, last: int) -> None:
        _, refs, banks = live_refs(index)
        sel = refs[(refs >= first) & (refs <= last) & (banks == bank_id)]
        self._changed_since_save += index.remove_refs(sel)

    def _reload_banks(self, conn: Connection) -> None:
        rows = conn.execute(select(Bank.id, Bank.name, Bank.enabled, Bank.thresholds,
                                      Bank.match_ratio)).all()
        banks = {r[0]: BankInfo(r[0], r[1], bool(r[2]), dict(r[3] or {}),
                                 float(r[4] if r[4] is not None else 1.0)) for r in rows}
        for gone in set(self.banks) - set(banks):
            for index in self.indexes.values():
                self._changed_since_save += index.remove_bank(gone)
        self.banks = banks
        self._thresholds = {}
        self._forget_meta()

    # -- snapshots ---------------------------------------------------------------------
    def _maybe_save(self) -> None:
        if (self.snapshot_dir is not None and self._changed_since_save >= self.snapshot_min // 10
                and self.size() >= self.snapshot_min):
            self.save_async()

    def save_async(self) -> None:
        """Save snapshots in a background (non-daemon) thread, one save at a time."""
        if self.snapshot_dir is None:
            return
        thread = self._save_thread
        if thread is not None and thread.is_alive():
            return
        self._save_thread = threading.Thread(target=self._save_logged, name="warding-index-save")
        self._save_thread.start()

    def _save_logged(self) -> None:
        try:
            self.save()
        except OSError as exc:
            log.warning("could not save the index snapshot: %s", exc)

    def wait_saves(self) -> None:
        thread = self._save_thread
        if thread is not None:
            thread.join()

    def save(self) -> list[Path]:
        """Write every index to ``snapshot_dir`` (consistent with the feed position)."""
        if self.snapshot_dir is None:
            return []
        with self._refresh_lock:
            for index in self.indexes.values():
                if isinstance(index, HammingIndex):
                    index.wait()
            captured = {name: index.to_arrays() for name, index in self.indexes.items()}
            cursor = feed.Cursor(self.cursor.watermark, dict(self.cursor.gaps))
            self._changed_since_save = 0
            built_to = self.built_to
        return write_snapshots(self.snapshot_dir, self.types, captured, self.database_id,
                               cursor, built_to)

    # -- queries -----------------------------------------------------------------------
    def thresholds(self, signal_type: str, include_disabled: bool) -> tuple[np.ndarray, int]:
        """Per-bank threshold array (indexed by bank id, -1 = no match) and its maximum."""
        key = f"{signal_type}/{include_disabled}"
        cached = self._thresholds.get(key)
        if cached is None:
            st = self.types[signal_type]
            size = max(self.banks, default=0) + 1
            arr = np.full(size, -1, dtype=np.int32)
            for b in self.banks.values():
                if b.enabled or include_disabled:
                    raw = b.thresholds.get(signal_type, st.default_threshold)
                    arr[b.id] = int(raw) if st.match == "hamming" else 0
            cached = (arr, int(arr.max()) if len(arr) else -1)
            self._thresholds[key] = cached
        return cached

    def search(self, signal_type: str, values: Sequence[str], *,
               banks: set[int] | None = None, include_disabled: bool = False) -> Found:
        """Every entry matching each value (values already validated by the signal type)."""
        index = self.indexes.get(signal_type)
        empty = Found(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int32),
                      np.zeros(0, np.int32), [])
        if index is None or not len(index) or not values:
            return empty
        thr, r = self.thresholds(signal_type, include_disabled)
        if r < 0:
            return empty
        stored: list[str] | None = None
        if isinstance(index, HammingIndex):
            st = self.types[signal_type]
            res = index.search(index.parse([st.index_key(v) for v in values]), r,
                               with_codes=True)
            q, entry, bank, dist = res.query, res.refs, res.banks, res.dist
            codes = res.codes
        else:
            q, entry, bank = index.search(list(values))
            dist = np.zeros(len(q), np.int32)
            codes = None
        if not len(q):
            return empty
        inside = bank < len(thr)
        limit = np.where(inside, thr[np.minimum(bank, len(thr) - 1)], -1)
        keep = dist <= limit
        if banks is not None:
            keep &= np.isin(bank, np.array(sorted(banks), dtype=np.int32))
        if isinstance(index, HammingIndex) and codes is not None:
            stored = index.to_hex(codes[keep])
        return Found(q[keep], entry[keep], bank[keep], dist[keep], stored)

    # -- entry metadata ----------------------------------------------------------------
    def entry_meta(self, conn: Connection, ids: Sequence[int]) -> dict[int, EntryMeta]:
        """Labels, provenance and values of entries (cached; read in batches when missing)."""
        return self._meta.get(conn, ids)

    def entry_meta_cached(self, ids: Sequence[int]) -> dict[int, EntryMeta]:
        """The cached details of these entries (those not cached are left out)."""
        return self._meta.cached(ids)

    def _forget_meta(self) -> None:
        self._meta.clear()

    def status(self) -> list[EngineStatus]:
        out = []
        for name in sorted(self.types):
            index = self.indexes.get(name)
            size = len(index) if index is not None else 0
            details = index.stats() if index is not None else {}
            out.append(EngineStatus(name, index is not None, size, self.built_to, details))
        return out

    def describe(self) -> dict[str, Any]:
        return {"source": self.source, "opened_in_s": round(self.opened_in, 3),
                "watermark": self.cursor.watermark, "kernel": kernel.active(),
                "indexes": {s.signal_type: {"entries": s.size, **s.details}
                            for s in self.status() if s.present}}


