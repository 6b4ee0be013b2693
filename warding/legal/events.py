"""Audit events of the legal workflows (written with the change they record)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from warding.events import Event


@dataclass(frozen=True)
class RemovalOrderReceived(Event):
    type: ClassVar[str] = "legal.order_received"
    order_id: int
    reference: str
    member_state: str
    received_at: str
    due_at: str
    items: list[int]

    def subject(self) -> str:
        return f"removal_order:{self.order_id}"


@dataclass(frozen=True)
class RemovalOrderChanged(Event):
    """Complied, answered with Annex III, clarified, scrutinised, annulled, alerted."""

    type: ClassVar[str] = "legal.order_changed"
    order_id: int
    change: str
    status: str
    detail: str

    def subject(self) -> str:
        return f"removal_order:{self.order_id}"


@dataclass(frozen=True)
class PreservationChanged(Event):
    """Extended, purged, or its content accessed."""

    type: ClassVar[str] = "legal.preservation"
    preservation_id: int
    item_id: int
    change: str
    detail: str

    def subject(self) -> str:
        return f"preservation:{self.preservation_id}"


@dataclass(frozen=True)
class ComplaintChanged(Event):
    type: ClassVar[str] = "legal.complaint"
    complaint_id: int
    case_id: int
    change: str
    outcome: str | None

    def subject(self) -> str:
        return f"complaint:{self.complaint_id}"


@dataclass(frozen=True)
class NoticeChanged(Event):
    type: ClassVar[str] = "legal.notice"
    notice_id: int
    change: str
    cases: list[int]
    outcome: str | None
    trusted_flagger: bool

    def subject(self) -> str:
        return f"notice:{self.notice_id}"


@dataclass(frozen=True)
class StatementReleased(Event):
    type: ClassVar[str] = "statement.released"
    statement_id: int
    case_id: int

    def subject(self) -> str:
        return f"case:{self.case_id}"


@dataclass(frozen=True)
class ThreatToLifeFlagged(Event):
    type: ClassVar[str] = "legal.threat_to_life"
    alert_id: int
    case_id: int
    change: str
    detail: str

    def subject(self) -> str:
        return f"case:{self.case_id}"
