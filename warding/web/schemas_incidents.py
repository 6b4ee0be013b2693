"""Request and response bodies of the incident and retroactive-matching endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class RetroRunOut(BaseModel):
    id: int
    trigger: str
    status: str
    first_entry: int | None
    last_entry: int | None
    since: str | None
    entries: int
    items_checked: int
    signals_checked: int
    matches: int
    cases_opened: int
    cases_updated: int
    received_at: str | None
    live_at: str | None
    started_at: str | None
    finished_at: str | None
    seconds: float | None
    error: str | None


class RetroProgressOut(BaseModel):
    bank: str
    running: bool = Field(description="A run of this bank is in progress.")
    pending_changes: int = Field(description="Changes of this bank the server's background "
                                 "worker has not matched yet.")
    runs: list[RetroRunOut]


class IncidentIn(BaseModel):
    name: str = Field(min_length=1, max_length=120)
    started_at: datetime
    banks: list[str] = Field(min_length=1)
    description: str = ""
    priority: int = Field(default=90, ge=0, le=100,
                          description="Severity its open cases are raised to in the queue.")
    notify_step: int | None = Field(default=None, ge=1, description="Send incident.count "
                                    "each time the copies count crosses a multiple of this.")


class IncidentOut(BaseModel):
    id: int
    name: str
    description: str
    started_at: str
    banks: list[str]
    priority: int
    notify_step: int | None
    notified_count: int
    created_by: str
    created_at: str


class IncidentsOut(BaseModel):
    incidents: list[IncidentOut]


class IncidentStatsOut(BaseModel):
    incident: str
    id: int
    started_at: str
    copies: int
    blocked_at_upload: int
    found_afterwards: int
    open: int
    decided: int
    removed: int
    no_case: int
    hash_to_live_seconds: float | None
    hash_to_all_earlier_found_seconds: float | None
    upload_to_removal_seconds: dict[str, Any]
    banks: dict[str, Any]


class ClusterOut(BaseModel):
    entry_id: int
    bank: str
    max_distance: float
    cases: int
    exact: int
    near: int
    sample: list[dict[str, Any]] = Field(description="Random near copies to review first.")


class ClustersOut(BaseModel):
    clusters: list[ClusterOut]


class ClusterDecisionIn(BaseModel):
    violating: bool
    reason: str = Field(min_length=1)
    category: str | None = None
    exemption: str | None = None
    max_distance: float = Field(ge=0)
    sample_seen: list[int] = Field(default_factory=list, description="The near copies (case "
                                   "ids) of the sample the reviewer looked at.")


class ClusterDecisionOut(BaseModel):
    incident_id: int
    entry_id: int
    max_distance: float
    decided: list[dict[str, Any]]
    skipped: list[dict[str, Any]]
    actions_queued: int
