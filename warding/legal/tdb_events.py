"""Audit events of the Transparency Database submissions (issue 14)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from warding.events import Event


@dataclass(frozen=True)
class TdbStatementQueued(Event):
    type: ClassVar[str] = "tdb.queued"
    statement_id: int
    case_id: int
    puid: str

    def subject(self) -> str:
        return f"case:{self.case_id}"


@dataclass(frozen=True)
class TdbStatementSent(Event):
    type: ClassVar[str] = "tdb.sent"
    statement_id: int
    case_id: int
    puid: str
    detail: str

    def subject(self) -> str:
        return f"case:{self.case_id}"


@dataclass(frozen=True)
class TdbStatementRejected(Event):
    type: ClassVar[str] = "tdb.rejected"
    statement_id: int
    case_id: int
    puid: str
    error: str

    def subject(self) -> str:
        return f"case:{self.case_id}"
