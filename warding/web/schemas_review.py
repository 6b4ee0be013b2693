"""Request and response models of the review, action, statement, user and audit API
(issue 5). Kept beside ``warding.web.schemas`` so feature areas do not collide."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from warding.web.schemas import _In


# -- cases ---------------------------------------------------------------------
class CopyOut(BaseModel):
    case_id: int
    status: str
    severity: int
    shared: list[str]
    source: str
    external_id: str
    account: str | None
    text_preview: str
    claimed_by: str | None


class CopiesOut(BaseModel):
    copies: list[CopyOut]


class BulkDecisionIn(_In):
    violating: bool
    reason: str = Field(max_length=10_000, description="Why; recorded and audited.")
    category: str | None = Field(default=None, description="Policy category (when violating).")
    exemption: str | None = Field(default=None, description="journalism, research, education, "
                                                            "art or counter_speech.")
    copies: list[int] = Field(default_factory=list, max_length=500,
                              description="Case ids of waiting copies (GET …/copies) to decide "
                                          "with the same decision.")


class BulkDecisionOut(BaseModel):
    case_id: int
    decided: list[dict[str, int]]
    skipped: list[dict[str, Any]]
    actions: list[dict[str, Any]]


class NextCaseOut(BaseModel):
    case_id: int | None = Field(description="The case now claimed by you; null when the "
                                            "queue is clear.")


class ReleaseOut(BaseModel):
    case_id: int
    released: bool


# -- actions -------------------------------------------------------------------
class ActionOut(BaseModel):
    id: int
    case_id: int
    decision_id: int
    sink: str
    status: str
    attempts: int
    max_attempts: int | None
    detail: str
    idempotency_key: str
    created_at: str
    updated_at: str
    next_attempt_at: str | None
    dead_at: str | None


class AttemptOut(BaseModel):
    id: int
    action_id: int
    case_id: int
    sink: str
    attempt: int
    status: str
    detail: str
    http_status: int | None
    duration_ms: float
    started_at: str
    finished_at: str
    next_attempt_at: str | None
    idempotency_key: str


class ActionDetailOut(ActionOut):
    attempt_log: list[AttemptOut]


class ActionsOut(BaseModel):
    actions: list[ActionOut]
    counts: dict[str, int]


class AttemptsOut(BaseModel):
    attempts: list[AttemptOut]


class RunOut(BaseModel):
    ran: list[dict[str, Any]]


# -- statements ----------------------------------------------------------------
class StatementOut(BaseModel):
    id: int
    case_id: int
    decision_id: int
    source: str
    account: str | None
    restriction: str
    created_at: str
    body: dict[str, Any]
    text: str
    released: bool = True
    withheld_until: str | None = None


class StatementsOut(BaseModel):
    statements: list[StatementOut]


# -- people --------------------------------------------------------------------
class WellnessSettingsOut(BaseModel):
    blur: bool
    greyscale: bool
    autoplay: bool
    mute_audio: bool
    break_after_items: int
    break_after_minutes: int


class WellnessSettingsIn(_In):
    blur: bool | None = None
    greyscale: bool | None = None
    autoplay: bool | None = None
    mute_audio: bool | None = None
    break_after_items: int | None = Field(default=None, ge=0, le=1000,
                                          description="0 turns the item limit off.")
    break_after_minutes: int | None = Field(default=None, ge=0, le=600,
                                            description="0 turns the time limit off.")


class WellnessOut(BaseModel):
    seen_since_break: int
    seen_today: int
    minutes_since_break: int
    break_after_items: int
    break_after_minutes: int
    break_due: bool
    break_reason: str


class MeOut(BaseModel):
    username: str
    role: str
    permissions: list[str]


class UserOut(BaseModel):
    username: str
    role: str
    active: bool


class UsersOut(BaseModel):
    users: list[UserOut]


class UserCreateIn(_In):
    username: str = Field(min_length=1, max_length=120)
    role: Literal["admin", "reviewer", "analyst", "legal", "api"]
    password: str = Field(min_length=12, max_length=1024)


class UserUpdateIn(_In):
    role: Literal["admin", "reviewer", "analyst", "legal", "api"] | None = None
    active: bool | None = None


# -- audit ---------------------------------------------------------------------
class AuditEventOut(BaseModel):
    id: int
    at: str
    actor: str
    type: str
    subject: str
    data: dict[str, Any]
    hash: str
    prev_hash: str


class AuditEventsOut(BaseModel):
    events: list[AuditEventOut]
