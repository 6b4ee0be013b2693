"""Look signals up in the enabled banks.

The in-memory indexes are built from the database once and cached on the app;
the cache is rebuilt when any bank changes (entries added or removed, a bank
enabled, disabled or re-thresholded). A later issue replaces this simple
engine with the incremental 10M-entry index.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from warding.db.models import Bank, BankEntry, BankSignal
from warding.matching.index import SignalIndex, index_for
from warding.signals.base import SignalType
from warding.signals.compute import SignalValue


@dataclass(frozen=True)
class MatchResult:
    bank: str
    bank_id: int
    entry_id: int
    signal_type: str
    value: str
    query: str
    distance: int
    labels: dict[str, Any] = field(default_factory=dict)
    provenance: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "bank": self.bank,
            "signal_type": self.signal_type,
            "distance": self.distance,
            "entry_id": str(self.entry_id),
            "labels": self.labels,
            "provenance": self.provenance,
        }


@dataclass
class _BankInfo:
    name: str
    thresholds: dict[str, Any]


@dataclass
class MatchEngine:
    """Indexes of every enabled bank signal, by signal type."""

    types: Mapping[str, SignalType]
    token: tuple[Any, ...]
    indexes: dict[str, SignalIndex] = field(default_factory=dict)
    refs: dict[int, tuple[int, int, str]] = field(default_factory=dict)  # row -> bank, entry, value
    banks: dict[int, _BankInfo] = field(default_factory=dict)
    entries: dict[int, tuple[dict[str, Any], str]] = field(default_factory=dict)

    def threshold(self, bank_id: int, st: SignalType) -> int:
        raw = self.banks[bank_id].thresholds.get(st.name, st.default_threshold)
        return int(raw)

    def lookup(self, signal_type: str, value: str) -> list[MatchResult]:
        st = self.types.get(signal_type)
        index = self.indexes.get(signal_type)
        if st is None or index is None or len(index) == 0:
            return []
        query_threshold = 0
        if st.match == "hamming":
            query_threshold = max(self.threshold(b, st) for b in self.banks)
        best: dict[tuple[int, int], MatchResult] = {}
        for hit in index.query(value, query_threshold):
            bank_id, entry_id, stored = self.refs[hit.ref]
            if st.match == "hamming" and hit.distance > self.threshold(bank_id, st):
                continue
            labels, provenance = self.entries[entry_id]
            result = MatchResult(
                bank=self.banks[bank_id].name,
                bank_id=bank_id,
                entry_id=entry_id,
                signal_type=signal_type,
                value=stored,
                query=value,
                distance=hit.distance,
                labels=labels,
                provenance=provenance,
            )
            key = (bank_id, entry_id)
            if key not in best or best[key].distance > result.distance:
                best[key] = result
        return sorted(best.values(), key=lambda r: (r.distance, r.bank, r.entry_id))

    def lookup_all(self, signals: Iterable[SignalValue]) -> list[MatchResult]:
        """Matches of all ``signals``; one per (bank, entry, signal type), closest first."""
        best: dict[tuple[int, int, str], MatchResult] = {}
        for sig in signals:
            for result in self.lookup(sig.signal_type, sig.value):
                key = (result.bank_id, result.entry_id, result.signal_type)
                if key not in best or best[key].distance > result.distance:
                    best[key] = result
        return sorted(best.values(), key=lambda r: (r.distance, r.bank, r.entry_id, r.signal_type))


def _state_token(session: Session) -> tuple[Any, ...]:
    signals = session.execute(select(func.count(BankSignal.id), func.max(BankSignal.id))).one()
    banks = session.execute(select(func.count(Bank.id), func.sum(Bank.version))).one()
    return (tuple(signals), tuple(banks))


def build_engine(session: Session, types: Mapping[str, SignalType]) -> MatchEngine:
    engine = MatchEngine(types=types, token=_state_token(session))
    for bank in session.execute(select(Bank).where(Bank.enabled.is_(True))).scalars():
        engine.banks[bank.id] = _BankInfo(bank.name, dict(bank.thresholds or {}))
    if not engine.banks:
        return engine
    rows = session.execute(
        select(BankSignal.id, BankSignal.signal_type, BankSignal.value, BankEntry.id,
               BankEntry.bank_id, BankEntry.labels, BankEntry.provenance)
        .join(BankEntry, BankSignal.entry_id == BankEntry.id)
        .where(BankEntry.enabled.is_(True), BankEntry.bank_id.in_(list(engine.banks)))
    )
    grouped: dict[str, list[tuple[str, int]]] = {}
    for row_id, signal_type, value, entry_id, bank_id, labels, provenance in rows:
        if signal_type not in types:
            continue
        grouped.setdefault(signal_type, []).append((value, row_id))
        engine.refs[row_id] = (bank_id, entry_id, value)
        engine.entries[entry_id] = (dict(labels or {}), provenance or "")
    for signal_type, entries in grouped.items():
        index = index_for(types[signal_type])
        for value, ref in entries:
            index.add(value, ref)
        engine.indexes[signal_type] = index
    return engine


def get_engine(app: Any, session: Session) -> MatchEngine:
    """The cached engine, rebuilt when the banks changed since it was built."""
    token = _state_token(session)
    cached: MatchEngine | None = app.index_cache.get("match_engine")
    if cached is None or cached.token != token:
        cached = build_engine(session, app.signal_types)
        app.index_cache["match_engine"] = cached
    return cached
