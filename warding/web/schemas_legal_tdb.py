"""Response models of ``GET /api/legal/transparency-db/statements`` (issue 14).

``TdbStatementOut`` is a statement in the DSA Transparency Database's own schema
(https://transparency.dsa.ec.europa.eu/page/api-documentation): the field names
and values are the database's, so the JSON can be sent as it is.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class TdbStatementOut(BaseModel):
    decision_visibility: list[str] | None = None
    decision_monetary: str | None = None
    decision_provision: str | None = None
    decision_account: str | None = None
    decision_ground: str = Field(description="DECISION_GROUND_ILLEGAL_CONTENT or "
                                             "DECISION_GROUND_INCOMPATIBLE_CONTENT")
    decision_ground_reference_url: str | None = None
    illegal_content_legal_ground: str | None = None
    illegal_content_explanation: str | None = None
    incompatible_content_ground: str | None = None
    incompatible_content_explanation: str | None = None
    content_type: list[str]
    content_type_other: str | None = None
    category: str
    category_specification: list[str] | None = None
    territorial_scope: list[str]
    content_language: str | None = None
    content_date: str = Field(description="YYYY-MM-DD: when the content was posted.")
    application_date: str = Field(description="YYYY-MM-DD: when the restriction applied.")
    decision_facts: str
    source_type: str = Field(description="SOURCE_ARTICLE_16, SOURCE_TRUSTED_FLAGGER, "
                                         "SOURCE_TYPE_OTHER_NOTIFICATION or SOURCE_VOLUNTARY")
    automated_detection: str = Field(description='"Yes" or "No"')
    automated_decision: str = Field(description="AUTOMATED_DECISION_FULLY, "
                                                "AUTOMATED_DECISION_PARTIALLY or "
                                                "AUTOMATED_DECISION_NOT_AUTOMATED")
    puid: str


class TdbSubmissionOut(BaseModel):
    id: int
    statement_id: int = Field(description="The statement of reasons (GET /api/statements/{id}).")
    case_id: int
    puid: str
    status: Literal["pending", "sent", "rejected"]
    attempts: int
    error: str | None = Field(default=None, description="The database's error text (rejected), "
                                                        "the last failure (pending), or a note "
                                                        "(sent: already in the database).")
    http_status: int | None = None
    queued_at: str
    sent_at: str | None = None
    next_attempt_at: str | None = None
    statement: TdbStatementOut


class TdbCountsOut(BaseModel):
    pending: int
    sent: int
    rejected: int


class TdbSubmissionsOut(BaseModel):
    statements: list[TdbSubmissionOut]
    total: int
    limit: int
    offset: int
    counts: TdbCountsOut
