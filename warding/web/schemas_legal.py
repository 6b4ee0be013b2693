"""Request and response models of the legal API (issue 14, docs/legal.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from warding.web.schemas import _In

Ground = Literal["incitement", "solicitation", "participation", "instruction", "threat"]


class AuthorityIn(_In):
    member_state: str = Field(min_length=2, max_length=2, pattern="^[A-Z]{2}$",
                              description="Two-letter code of the issuing Member State.")
    name: str = Field(min_length=1, max_length=300)
    email: str | None = Field(default=None, max_length=320)
    contact: str | None = Field(default=None, max_length=1000,
                                description="Any other contact: phone, address, person.")


class LocationIn(_In):
    url: str | None = Field(default=None, max_length=4000)
    source: str | None = Field(default=None, max_length=200,
                               description="The platform's source name of the item, if known.")
    external_id: str | None = Field(default=None, max_length=512)
    detail: str | None = Field(default=None, max_length=2000,
                               description="Any other identifying detail the order gives.")


class RemovalOrderIn(_In):
    reference: str = Field(min_length=1, max_length=200,
                           description="The authority's reference of the order.")
    issuing_authority: AuthorityIn
    issued_at: datetime = Field(description="When the authority issued the order (with zone).")
    received_at: datetime | None = Field(
        default=None, description="When the order was received; default now. Never changed.")
    locations: list[str | LocationIn] = Field(min_length=1, max_length=1000,
                                              description="URLs, or objects with url and "
                                                          "identifying detail.")
    grounds: list[Ground] = Field(min_length=1, max_length=5,
                                  description="TCO Art. 2(7) grounds.")
    reasons: str = Field(min_length=1, max_length=20_000)
    nondisclosure_until: datetime | None = Field(
        default=None, description="Until when the uploader may not be told (TCO Art. 11(3)).")
    cross_border: bool = False


class ComplyIn(_In):
    measure: Literal["removed", "disabled"]


class InabilityIn(_In):
    reason: Literal["force_majeure", "manifest_error", "insufficient_information"]
    explanation: str = Field(min_length=1, max_length=10_000)
    clarification_needed: str | None = Field(default=None, max_length=10_000)


class ClarificationIn(_In):
    received_at: datetime | None = Field(
        default=None, description="When the clarification arrived or the cause ended; "
                                  "default now. The hour starts again from it.")
    note: str | None = Field(default=None, max_length=10_000)


class ScrutinyIn(_In):
    event: Literal["requested", "upheld", "annulled"]
    note: str | None = Field(default=None, max_length=10_000)


class OrderOut(BaseModel):
    id: int
    reference: str
    provider_file_reference: str
    issuing_authority: dict[str, Any]
    issued_at: str
    received_at: str
    due_at: str | None
    seconds_left: float | None
    status: str
    locations: list[Any]
    grounds: list[str]
    reasons: str
    nondisclosure_until: str | None
    cross_border: bool
    measure: str | None
    complied_at: str | None
    within_deadline: bool | None
    inability: dict[str, Any] | None
    scrutiny: dict[str, Any] | None
    alerts: list[Any]
    created_by: str
    scrutiny_request_until: str | None = None
    items: list[dict[str, Any]] = Field(default_factory=list)
    actions: list[dict[str, Any]] | None = None


class OrdersOut(BaseModel):
    orders: list[OrderOut]


class ComplyOut(BaseModel):
    id: int
    status: str
    measure: str
    complied_at: str
    within_deadline: bool
    due_at: str | None
    items: list[dict[str, Any]]
    actions: list[dict[str, Any]]


class ProviderOut(BaseModel):
    name: str
    contact_point: str
    member_state: str
    authorised_person: str


class AnnexIIOut(BaseModel):
    order_reference: str
    authority_file_reference: str
    provider_file_reference: str
    issuing_authority: dict[str, Any]
    received_at: str
    measure: str | None
    measure_at: str | None
    within_deadline: bool | None
    items: list[dict[str, Any]]
    hosting_service_provider: ProviderOut


class AnnexIIIOut(BaseModel):
    order_reference: str
    provider_file_reference: str
    issuing_authority: dict[str, Any]
    received_at: str
    inability: dict[str, Any]
    hosting_service_provider: ProviderOut


class PreservationOut(BaseModel):
    id: int
    item_id: int
    case_id: int
    decision_id: int
    order_id: int | None
    removed_at: str
    preserve_until: str
    status: str
    extensions: list[dict[str, Any]]
    purged_at: str | None


class PreservationsOut(BaseModel):
    preservations: list[PreservationOut]


class ExtendIn(_In):
    until: datetime
    requested_by: str = Field(min_length=1, max_length=300,
                              description="The competent authority or court that asked.")
    reference: str = Field(default="", max_length=300)


class ComplainantIn(_In):
    name: str | None = Field(default=None, max_length=300)
    email: str | None = Field(default=None, max_length=320)
    contact: str | None = Field(default=None, max_length=1000)


class ComplaintIn(_In):
    location: str | LocationIn | None = None
    item: int | None = Field(default=None, ge=1)
    complainant: ComplainantIn
    grounds: str = Field(min_length=1, max_length=20_000)


class ComplaintDecisionIn(_In):
    outcome: Literal["reinstated", "rejected"]
    reason: str = Field(min_length=1, max_length=10_000)


class ComplaintOut(BaseModel):
    id: int
    item_id: int
    case_id: int
    location: str | None
    complainant: dict[str, Any]
    grounds: str
    order_id: int | None
    received_at: str
    due_at: str
    status: str
    outcome: str | None
    reason: str | None
    decided_at: str | None
    decided_by: str | None
    decision_id: int | None
    response: str | None
    actions: list[dict[str, Any]] | None = None


class ComplaintsOut(BaseModel):
    complaints: list[ComplaintOut]


class NoticeIn(_In):
    explanation: str = Field(min_length=1, max_length=20_000)
    locations: list[str | LocationIn] = Field(min_length=1, max_length=1000)
    notifier_name: str | None = Field(default=None, max_length=200)
    notifier_email: str | None = Field(default=None, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")
    bona_fide: bool
    trusted_flagger: bool = False


class NoticeOut(BaseModel):
    id: int
    explanation: str
    locations: list[Any]
    notifier_name: str | None
    notifier_email: str | None
    bona_fide: bool
    trusted_flagger: bool
    received_at: str
    status: str
    outcome: str | None
    decided_at: str | None
    response: str | None
    cases: list[dict[str, Any]]


class NoticesOut(BaseModel):
    notices: list[NoticeOut]


class ThreatIn(_In):
    note: str = Field(min_length=1, max_length=10_000,
                      description="What makes the threat to life imminent.")


class ThreatOut(BaseModel):
    id: int
    case_id: int
    flagged_by: str
    note: str
    flagged_at: str
    status: str
    attempts: int
    notified_at: str | None
    detail: str
