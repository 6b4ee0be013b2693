"""The details of bank entries a lookup reports (bank, labels, provenance, values), read
from the database in batches and kept in a bounded cache (least recently used first out).
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, text

# A plain statement, built once: the lookups of a busy server run it often.
_META_SQL = text(
    "SELECT e.id, e.bank_id, e.labels, e.provenance, e.enabled, s.signal_type, s.value "
    "FROM bank_entries e LEFT OUTER JOIN bank_signals s ON s.entry_id = e.id "
    "WHERE e.id IN :ids").bindparams(bindparam("ids", expanding=True))

META_CACHE = 50_000


@dataclass(frozen=True)
class EntryMeta:
    bank_id: int
    labels: dict[str, Any]
    provenance: str
    enabled: bool
    values: dict[str, tuple[str, ...]]


class EntryMetaCache:
    """Entry details by entry id, at most META_CACHE of them."""

    def __init__(self) -> None:
        self._entries: OrderedDict[int, EntryMeta] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, conn: Connection, ids: Sequence[int]) -> dict[int, EntryMeta]:
        """Labels, provenance and values of entries (cached; read in batches when missing)."""
        out: dict[int, EntryMeta] = {}
        missing: list[int] = []
        with self._lock:
            for i in ids:
                meta = self._entries.get(i)
                if meta is None:
                    missing.append(i)
                else:
                    self._entries.move_to_end(i)
                    out[i] = meta
        for chunk in _chunks(sorted(set(missing)), 500):
            rows = conn.execute(_META_SQL, {"ids": chunk}).all()
            fresh: dict[int, tuple[Any, ...]] = {}
            values: dict[int, dict[str, list[str]]] = {}
            for eid, bank_id, labels, provenance, enabled, stype, value in rows:
                if isinstance(labels, str | bytes):
                    labels = json.loads(labels)
                fresh[eid] = (bank_id, dict(labels or {}), provenance or "", bool(enabled))
                if stype is not None:
                    values.setdefault(eid, {}).setdefault(stype, []).append(value)
            with self._lock:
                for eid, (bank_id, labels, provenance, enabled) in fresh.items():
                    meta = EntryMeta(bank_id, labels, provenance, enabled,
                                     {k: tuple(v) for k, v in values.get(eid, {}).items()})
                    out[eid] = meta
                    self._entries[eid] = meta
                while len(self._entries) > META_CACHE:
                    self._entries.popitem(last=False)
        return out

    def cached(self, ids: Sequence[int]) -> dict[int, EntryMeta]:
        """The cached details of these entries (those not cached are left out)."""
        out: dict[int, EntryMeta] = {}
        with self._lock:
            for i in ids:
                meta = self._entries.get(i)
                if meta is not None:
                    self._entries.move_to_end(i)
                    out[i] = meta
        return out

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def _chunks(items: Sequence[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield list(items[start:start + size])
