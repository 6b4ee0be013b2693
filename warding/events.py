"""Typed events. Each state change is described by one of these and written to the audit log."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, ClassVar


@dataclass(frozen=True)
class Event:
    type: ClassVar[str]

    def subject(self) -> str:
        return ""

    def data(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class DatabaseInitialised(Event):
    type: ClassVar[str] = "system.init"
    database: str


@dataclass(frozen=True)
class UserCreated(Event):
    type: ClassVar[str] = "user.created"
    username: str
    role: str

    def subject(self) -> str:
        return f"user:{self.username}"


@dataclass(frozen=True)
class LoginSucceeded(Event):
    type: ClassVar[str] = "auth.login"
    username: str

    def subject(self) -> str:
        return f"user:{self.username}"


@dataclass(frozen=True)
class LoginFailed(Event):
    type: ClassVar[str] = "auth.login_failed"
    username: str

    def subject(self) -> str:
        return f"user:{self.username}"


@dataclass(frozen=True)
class Logout(Event):
    type: ClassVar[str] = "auth.logout"
    username: str

    def subject(self) -> str:
        return f"user:{self.username}"


@dataclass(frozen=True)
class BankCreated(Event):
    type: ClassVar[str] = "bank.created"
    bank: str
    thresholds: dict[str, Any]
    auto_action: bool

    def subject(self) -> str:
        return f"bank:{self.bank}"


@dataclass(frozen=True)
class BankUpdated(Event):
    type: ClassVar[str] = "bank.updated"
    bank: str
    changes: dict[str, Any]

    def subject(self) -> str:
        return f"bank:{self.bank}"


@dataclass(frozen=True)
class BankEntriesAdded(Event):
    type: ClassVar[str] = "bank.entries_added"
    bank: str
    count: int
    how: str

    def subject(self) -> str:
        return f"bank:{self.bank}"


@dataclass(frozen=True)
class BankDeleted(Event):
    type: ClassVar[str] = "bank.deleted"
    bank: str
    entries: int

    def subject(self) -> str:
        return f"bank:{self.bank}"


@dataclass(frozen=True)
class BankEntriesRemoved(Event):
    type: ClassVar[str] = "bank.entries_removed"
    bank: str
    entry_ids: list[int]
    how: str

    def subject(self) -> str:
        return f"bank:{self.bank}"


@dataclass(frozen=True)
class BankEntryUpdated(Event):
    type: ClassVar[str] = "bank.entry_updated"
    bank: str
    entry_id: int
    changes: dict[str, Any]

    def subject(self) -> str:
        return f"bank:{self.bank}"


@dataclass(frozen=True)
class ScanCompleted(Event):
    type: ClassVar[str] = "scan.completed"
    source: str
    inputs: list[str]
    items: int
    duplicates: int
    rejected: int
    cases_opened: int

    def subject(self) -> str:
        return f"source:{self.source}"


@dataclass(frozen=True)
class CaseOpened(Event):
    type: ClassVar[str] = "case.opened"
    case_id: int
    item_id: int
    reasons: list[str]

    def subject(self) -> str:
        return f"case:{self.case_id}"


@dataclass(frozen=True)
class DecisionRecorded(Event):
    type: ClassVar[str] = "case.decided"
    case_id: int
    decision_id: int
    kind: str
    violating: bool
    category: str | None
    reason: str
    exemption: str | None
    automated: bool

    def subject(self) -> str:
        return f"case:{self.case_id}"


@dataclass(frozen=True)
class ActionExecuted(Event):
    type: ClassVar[str] = "action.executed"
    action_id: int
    case_id: int
    sink: str
    status: str
    detail: str

    def subject(self) -> str:
        return f"case:{self.case_id}"


@dataclass(frozen=True)
class ModelTrained(Event):
    type: ClassVar[str] = "model.trained"
    model: str
    examples: int
    data_dir: str

    def subject(self) -> str:
        return f"model:{self.model}"


@dataclass(frozen=True)
class PasswordChanged(Event):
    type: ClassVar[str] = "user.password_changed"
    username: str

    def subject(self) -> str:
        return f"user:{self.username}"


@dataclass(frozen=True)
class ApiKeyCreated(Event):
    type: ClassVar[str] = "user.api_key_created"
    username: str
    prefix: str

    def subject(self) -> str:
        return f"user:{self.username}"


@dataclass(frozen=True)
class CaseClaimed(Event):
    type: ClassVar[str] = "case.claimed"
    case_id: int
    username: str

    def subject(self) -> str:
        return f"case:{self.case_id}"
