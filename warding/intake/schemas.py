"""Request and response models of the intake API (``/api/items``).

The request models describe the body for the OpenAPI document; the body itself is
read by the router (with a size limit) and each post is checked on its own
(:mod:`warding.intake.items`), so that one bad post is rejected by name and the
others are still stored.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from warding.web.schemas import MatchOut


class MediaIn(BaseModel):
    filename: str = Field(description="The file's name, e.g. a.jpg (folders are dropped).")
    data_b64: str = Field(description="The file's bytes, base64 (at most WARDING_MAX_FILE_BYTES "
                                      "once decoded).")


class PostIn(BaseModel):
    """A post, in the fields of docs/formats.md; any other field is kept as metadata."""

    model_config = ConfigDict(extra="allow")

    id: str | int = Field(description="The platform's id of the post (required; a retry with "
                                      "the same source and id is a duplicate).")
    url: str | None = Field(default=None, description="Link to the post.")
    account: str | int | None = Field(default=None, description="The account that posted it.")
    time: str | int | float | None = Field(
        default=None, description="When it was posted: ISO-8601, epoch seconds or "
                                  "YYYY-MM-DD HH:MM (UTC when naive).")
    title: str | None = None
    text: str | None = Field(default=None, description="The post's text "
                                                       "(at most WARDING_MAX_TEXT_CHARS).")
    outlinks: list[str] | None = Field(default=None, description="Links in the post "
                                                                 "(links in the text are added).")
    lang: str | None = Field(default=None, description="Language code; detected when absent.")
    platform: str | None = None
    media: list[MediaIn] | None = Field(default=None, description="Files, inline.")


class ItemsIn(BaseModel):
    source: str = Field(min_length=1, max_length=200,
                        description="The platform or upload channel; (source, id) is unique.")
    items: list[PostIn] = Field(min_length=1, max_length=1000,
                                description="1 to WARDING_INTAKE_MAX_ITEMS (1,000) posts.")


class ClassificationOut(BaseModel):
    label: str
    score: float
    violating: bool
    assessed: bool = True
    model: str


class ItemResultOut(BaseModel):
    external_id: str | None = Field(description="The post's id as stored: as sent, or "
                                                "sha256:… for one over 512 characters "
                                                "(null when it had none).")
    item_id: int | None = Field(description="Warding's id of the stored item (also for a "
                                            "duplicate: the item stored first).")
    status: Literal["accepted", "duplicate", "rejected"]
    error: str | None = Field(default=None, description="Why the post was rejected, naming it.")
    matches: list[MatchOut] = Field(default_factory=list)
    classification: ClassificationOut | None = None
    case_id: int | None = Field(default=None, description="The item's case, when one is open.")


class ItemsOut(BaseModel):
    accepted: int
    duplicates: int
    rejected: int
    items: list[ItemResultOut] = Field(description="One entry per post, in request order.")


class SignalRowOut(BaseModel):
    type: str
    value: str
    origin: str


class MediaOut(BaseModel):
    sha256: str
    name: str
    mime: str
    size: int


class StoredMatchOut(BaseModel):
    bank: str
    entry_id: str
    signal_type: str
    value: str
    distance: float | None


class StoredClassificationOut(ClassificationOut):
    explanation: dict[str, Any]


class CaseOut(BaseModel):
    id: int
    status: str
    severity: int
    reasons: list[dict[str, Any]]
    opened_at: str


class DecisionOut(BaseModel):
    id: int
    kind: str
    violating: bool
    category: str | None
    reason: str
    automated: bool
    created_at: str


class ActionOut(BaseModel):
    id: int
    decision_id: int
    sink: str
    status: str
    attempts: int
    detail: str


class EventOut(BaseModel):
    event: str
    event_id: str
    status: str
    attempts: int
    detail: str


class ItemOut(BaseModel):
    item_id: int
    source: str
    external_id: str
    kind: str
    url: str | None
    account: str | None
    posted_at: str | None
    title: str | None
    text: str | None
    lang: str | None
    outlinks: list[Any]
    metadata: dict[str, Any]
    ingested_at: str
    media: list[MediaOut]
    signals: list[SignalRowOut]
    matches: list[StoredMatchOut]
    classification: StoredClassificationOut | None
    case: CaseOut | None
    decisions: list[DecisionOut]
    actions: list[ActionOut]
    events: list[EventOut] = Field(description="Webhook events sent to the platform about it.")
