"""What a bank import keeps while it runs: the summary it reports, and its state (the bank,
the fingerprints already seen, the hex values staged for the final sorted insert)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from warding.banks.fingerprints import Fingerprinter, FingerprintSet
from warding.banks.service import AddSummary
from warding.signals.base import SignalType

MAX_LISTED = 10_000


@dataclass
class ImportSummary(AddSummary):
    removed: int = 0
    errors_total: int = 0

    def as_json(self) -> dict[str, Any]:
        out = super().as_json()
        out["removed"] = self.removed
        if self.errors_total > len(self.errors):
            out["errors_total"] = self.errors_total
        return out

    def error(self, where: str, reason: str) -> None:
        self.errors_total += 1
        if len(self.errors) < MAX_LISTED:
            self.errors.append({"input": where, "reason": reason})

    def inserted(self, ids: list[int], signals: int) -> None:
        """Count entries just inserted (listing at most MAX_LISTED ids)."""
        self.entries += len(ids)
        self.signals += signals
        self.entry_ids.extend(ids[:max(MAX_LISTED - len(self.entry_ids), 0)])


# An entry waiting to be inserted: (meta, signals); meta = (labels, provenance, tier, enabled,
# note). Plain tuples: millions of them go through the importer's loop.
Meta = tuple[dict[str, Any], str, "int | None", bool, str]
Pending = tuple[Meta, list[tuple[str, str]]]
DEFAULT_META: Meta = ({}, "", None, True, "")


@dataclass
class ImportState:
    bank_id: int
    bank_name: str
    actor: str
    how: str
    known: FingerprintSet = field(default_factory=FingerprintSet)
    summary: ImportSummary = field(default_factory=ImportSummary)
    staged: dict[str, list[np.ndarray]] = field(default_factory=dict)
    fingerprint: Fingerprinter = field(default_factory=lambda: Fingerprinter({}))
    types: Mapping[str, SignalType] = field(default_factory=dict)
