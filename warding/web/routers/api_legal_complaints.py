"""Complaints against removals (TCO Art. 10, DSA Art. 20), decided by a person."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query

from warding.db.models import User
from warding.errors import NotFound
from warding.legal import complaints
from warding.legal.access import case_scope, redact
from warding.web.deps import SessionDep, WardingDep, require
from warding.web.schemas import ErrorOut
from warding.web.schemas_legal import (
    ComplaintDecisionIn,
    ComplaintIn,
    ComplaintOut,
    ComplaintsOut,
)

router = APIRouter(prefix="/api/legal/complaints", tags=["legal"],
                   responses={401: {"model": ErrorOut}, 403: {"model": ErrorOut}})

Officer = Annotated[User, Depends(require("legal"))]
Viewer = Annotated[User, Depends(require("view_legal"))]
ERRORS: dict[int | str, dict[str, Any]] = {404: {"model": ErrorOut}, 409: {"model": ErrorOut}, 422: {"model": ErrorOut}}


@router.post("", response_model=ComplaintOut, status_code=201, responses=ERRORS)
def receive(body: ComplaintIn, w: WardingDep, session: SessionDep,
            user: Officer) -> ComplaintOut:
    """Record a complaint against a removal; ``due_at`` = ``received_at`` + 14 days."""
    data = body.model_dump(exclude_none=True)
    if body.location is not None and not isinstance(body.location, str):
        data["location"] = body.location.model_dump(exclude_none=True)
    return ComplaintOut(**complaints.create_complaint(session, w.settings, data,
                                                      actor=user.username))


@router.get("", response_model=ComplaintsOut, responses={422: {"model": ErrorOut}})
def list_complaints(
    session: SessionDep, user: Viewer,
    status: Literal["open", "overdue", "decided"] | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> ComplaintsOut:
    return ComplaintsOut(complaints=[ComplaintOut(**redact(c, user)) for c in
                                     complaints.list_complaints(
                                         session, status, case_ids=case_scope(session, user),
                                         limit=limit, offset=offset)])


@router.get("/{complaint_id}", response_model=ComplaintOut, responses=ERRORS)
def get_complaint(complaint_id: int, session: SessionDep, user: Viewer) -> ComplaintOut:
    c = complaints.get_complaint(session, complaint_id)
    scope = case_scope(session, user)
    if scope is not None and c.case_id not in scope:
        raise NotFound(f"no complaint {complaint_id}")
    return ComplaintOut(**redact(complaints.complaint_json(c), user))


@router.post("/{complaint_id}/decision", response_model=ComplaintOut, responses=ERRORS)
def decide(complaint_id: int, body: ComplaintDecisionIn, w: WardingDep,
           user: Officer) -> ComplaintOut:
    """A person decides: ``reinstated`` restores the content through the action sinks at
    once; ``rejected`` upholds the removal. The complainant is answered with reasons."""
    return ComplaintOut(**complaints.decide_complaint(
        w, complaint_id, body.outcome, body.reason, actor=user.username, user_id=user.id))
