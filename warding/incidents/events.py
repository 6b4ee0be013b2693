"""Audit events of incident response."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from warding.events import Event


@dataclass(frozen=True)
class RetroReasonsAdded(Event):
    """Retroactive bank matches added to an open case."""

    type: ClassVar[str] = "case.retro_matched"
    case_id: int
    item_id: int
    entries: list[str]

    def subject(self) -> str:
        return f"case:{self.case_id}"


@dataclass(frozen=True)
class RetroRunFinished(Event):
    type: ClassVar[str] = "bank.retro_matched"
    bank: str
    run_id: int
    counts: dict[str, Any]

    def subject(self) -> str:
        return f"bank:{self.bank}"


@dataclass(frozen=True)
class IncidentChanged(Event):
    type: ClassVar[str] = "incident.changed"
    incident_id: int
    name: str
    change: str
    detail: dict[str, Any]

    def subject(self) -> str:
        return f"incident:{self.incident_id}"


@dataclass(frozen=True)
class ClusterDecided(Event):
    """One decision carried out on every case of a cluster (each case has its own
    ``case.decided`` event too)."""

    type: ClassVar[str] = "incident.cluster_decided"
    incident_id: int
    entry_id: int
    max_distance: float
    case_ids: list[int]
    decision_ids: list[int]
    violating: bool
    sample_shown: list[int]

    def subject(self) -> str:
        return f"incident:{self.incident_id}"
