"""Cases: the review queue, a case's detail, claiming and deciding."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from warding.cases.queries import QueueFilter, case_detail, claim, list_cases
from warding.db.models import User
from warding.review.decisions import DecisionInput
from warding.review.service import record_decision
from warding.web.deps import SessionDep, WardingDep, require
from warding.web.schemas import (
    CaseDetailOut,
    CasesOut,
    CaseSummaryOut,
    ClaimOut,
    DecisionIn,
    DecisionOut,
    ErrorOut,
)

router = APIRouter(prefix="/api/cases", tags=["cases"],
                   responses={401: {"model": ErrorOut}, 403: {"model": ErrorOut}})

Viewer = Annotated[User, Depends(require("view_cases"))]
Decider = Annotated[User, Depends(require("decide"))]
Status = Literal["open", "decided", "escalated", "all"]
Reason = Literal["bank_match", "classifier"]


@router.get("", response_model=CasesOut)
def cases(
    session: SessionDep,
    user: Viewer,
    status: Status = "open",
    bank: Annotated[str | None, Query(max_length=120)] = None,
    source: Annotated[str | None, Query(max_length=200)] = None,
    reason: Reason | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> CasesOut:
    f = QueueFilter(status=None if status == "all" else status, bank=bank or None,
                    source=source or None, reason=reason, limit=limit, offset=offset)
    return CasesOut(cases=[CaseSummaryOut(**c) for c in list_cases(session, f)])


@router.get("/{case_id}", response_model=CaseDetailOut, responses={404: {"model": ErrorOut}})
def case(case_id: int, session: SessionDep, user: Viewer) -> CaseDetailOut:
    return CaseDetailOut(**case_detail(session, case_id))


@router.post("/{case_id}/claim", response_model=ClaimOut,
             responses={404: {"model": ErrorOut}, 409: {"model": ErrorOut}})
def claim_case(case_id: int, session: SessionDep, user: Decider) -> ClaimOut:
    claim(session, case_id, user)
    return ClaimOut(case_id=case_id, assigned_to=user.username)


@router.post("/{case_id}/decision", response_model=DecisionOut, status_code=201,
             responses={404: {"model": ErrorOut}, 409: {"model": ErrorOut},
                        422: {"model": ErrorOut}})
def decide(case_id: int, body: DecisionIn, w: WardingDep, user: Decider) -> DecisionOut:
    """Record a decision (or an appeal, or an escalation); its actions then run."""
    result = record_decision(
        w, case_id,
        DecisionInput(violating=body.violating, reason=body.reason, category=body.category or None,
                      exemption=body.exemption or None, kind=body.kind),
        actor=user.username, reviewer_id=user.id,
    )
    return DecisionOut(**result)
