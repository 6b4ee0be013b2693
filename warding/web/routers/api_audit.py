"""The audit log's hash chain, checked on demand (admins only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from warding.audit.log import verify
from warding.audit.queries import list_events
from warding.db.models import User
from warding.web.deps import SessionDep, require
from warding.web.schemas import AuditVerifyOut, ErrorOut
from warding.web.schemas_review import AuditEventOut, AuditEventsOut

router = APIRouter(prefix="/api/audit", tags=["audit"],
                   responses={401: {"model": ErrorOut}, 403: {"model": ErrorOut}})


@router.get("/verify", response_model=AuditVerifyOut)
def verify_chain(session: SessionDep,
                 user: Annotated[User, Depends(require("view_audit"))]) -> AuditVerifyOut:
    result = verify(session)
    return AuditVerifyOut(ok=result.ok, events=result.events, first_bad_id=result.first_bad_id,
                          problem=result.problem)


@router.get("/events", response_model=AuditEventsOut)
def events(
    session: SessionDep,
    user: Annotated[User, Depends(require("view_audit"))],
    event_type: Annotated[str | None, Query(max_length=60, description="e.g. case.decided")] = None,
    subject: Annotated[str | None, Query(max_length=200, description="e.g. case:12")] = None,
    before_id: Annotated[int | None, Query(ge=1, description="Page back from this id.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> AuditEventsOut:
    """Audit events, newest first."""
    rows = list_events(session, event_type=event_type, subject=subject, before_id=before_id,
                       limit=limit)
    return AuditEventsOut(events=[AuditEventOut(**e) for e in rows])
