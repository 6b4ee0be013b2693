"""Typed events. Each state change is described by one of these and written to the audit log."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
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
class LoginThrottled(Event):
    """A login refused (429) after too many failures for the name or from the address."""

    type: ClassVar[str] = "auth.login_throttled"
    username: str
    address: str
    locked: str  # "user:<name>" or "address:<ip>"
    retry_after: int

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
    attempt: int = 0
    next_attempt_at: str | None = None

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
    scopes: list[str] = field(default_factory=list)

    def subject(self) -> str:
        return f"user:{self.username}"


@dataclass(frozen=True)
class CaseClaimed(Event):
    type: ClassVar[str] = "case.claimed"
    case_id: int
    username: str

    def subject(self) -> str:
        return f"case:{self.case_id}"


# -- review console and actions (issue 5) ---------------------------------------
@dataclass(frozen=True)
class CaseReleased(Event):
    type: ClassVar[str] = "case.released"
    case_id: int
    username: str

    def subject(self) -> str:
        return f"case:{self.case_id}"


@dataclass(frozen=True)
class BulkDecisionRecorded(Event):
    """One decision applied to copies of one item; each case also gets its own case.decided."""

    type: ClassVar[str] = "case.bulk_decided"
    primary_case_id: int
    case_ids: list[int]
    decision_ids: list[int]
    violating: bool
    category: str | None

    def subject(self) -> str:
        return f"case:{self.primary_case_id}"


@dataclass(frozen=True)
class ActionDeadLettered(Event):
    type: ClassVar[str] = "action.dead_lettered"
    action_id: int
    case_id: int
    sink: str
    attempts: int
    detail: str

    def subject(self) -> str:
        return f"case:{self.case_id}"


@dataclass(frozen=True)
class ActionRequeued(Event):
    type: ClassVar[str] = "action.requeued"
    action_id: int
    case_id: int
    sink: str

    def subject(self) -> str:
        return f"case:{self.case_id}"


@dataclass(frozen=True)
class StatementIssued(Event):
    type: ClassVar[str] = "statement.issued"
    statement_id: int
    case_id: int
    decision_id: int
    restriction: str

    def subject(self) -> str:
        return f"case:{self.case_id}"


@dataclass(frozen=True)
class BankEntriesDisabled(Event):
    type: ClassVar[str] = "bank.entries_disabled"
    bank: str
    entry_ids: list[int]
    how: str

    def subject(self) -> str:
        return f"bank:{self.bank}"


@dataclass(frozen=True)
class SettingsChanged(Event):
    """A person's own console settings (wellness) changed: old and new values."""

    type: ClassVar[str] = "user.settings_changed"
    username: str
    changes: dict[str, Any]

    def subject(self) -> str:
        return f"user:{self.username}"


@dataclass(frozen=True)
class RoleChanged(Event):
    type: ClassVar[str] = "user.role_changed"
    username: str
    old_role: str
    new_role: str

    def subject(self) -> str:
        return f"user:{self.username}"


@dataclass(frozen=True)
class UserActiveChanged(Event):
    type: ClassVar[str] = "user.active_changed"
    username: str
    active: bool

    def subject(self) -> str:
        return f"user:{self.username}"
