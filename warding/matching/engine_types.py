"""What the match engine holds and returns: the banks' settings, the hits of a batch, the
status of each index; the two kinds of index and small helpers over them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from warding.matching.exact import ExactIndex
from warding.matching.mih import HammingIndex
from warding.signals.base import SignalType

Index = HammingIndex | ExactIndex


@dataclass(frozen=True)
class BankInfo:
    id: int
    name: str
    enabled: bool
    thresholds: dict[str, Any]
    match_ratio: float = 1.0  # HMA's matching_enabled_ratio (HMA lookups only)


@dataclass(frozen=True)
class Found:
    """Hits of a batch of queries of one signal type, sorted by (query, distance, entry)."""

    query: np.ndarray  # int64
    entry: np.ndarray  # int64
    bank: np.ndarray  # int32
    dist: np.ndarray  # int32
    stored: list[str] | None  # stored value per hit (Hamming types)

    def __len__(self) -> int:
        return len(self.query)


@dataclass
class EngineStatus:
    signal_type: str
    present: bool
    size: int
    built_to: float  # creation time of the last change applied (or the build time)
    details: dict[str, Any] = field(default_factory=dict)


def parses(st: SignalType, value: str) -> bool:
    try:
        st.validate(value)
        if st.match == "hamming":
            HammingIndex(bits=st.bits or 8).parse([st.index_key(value)])
        return True
    except ValueError:
        return False


def max_ref(index: Index) -> int:
    _, refs, _ = live_refs(index)
    return int(refs.max()) if len(refs) else 0


def live_refs(index: Index) -> tuple[Any, np.ndarray, np.ndarray]:
    if isinstance(index, HammingIndex):
        view = index._view
        ref_parts = [s.refs for s in view.segments] + [view.delta.refs[:view.delta.n]]
        bank_parts = [s.banks for s in view.segments] + [view.delta.banks[:view.delta.n]]
        return None, np.concatenate(ref_parts), np.concatenate(bank_parts)
    _, _, refs, banks = index.live()
    return None, refs, banks
