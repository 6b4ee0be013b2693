"""Cases: the review queue, a case's detail, claiming, deciding (one case or copies)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from warding.cases.claims import claim, release
from warding.cases.queries import QueueFilter, list_cases, next_case
from warding.db.models import User
from warding.review.case_view import case_detail
from warding.review.context import copies_of
from warding.review.decisions import DecisionInput
from warding.review.service import record_bulk_decision, record_decision
from warding.web.deps import ActionsDep, SessionDep, WardingDep, require
from warding.web.schemas import (
    CaseDetailOut,
    CasesOut,
    CaseSummaryOut,
    ClaimOut,
    DecisionIn,
    DecisionOut,
    ErrorOut,
)
from warding.web.schemas_review import (
    BulkDecisionIn,
    BulkDecisionOut,
    CopiesOut,
    CopyOut,
    NextCaseOut,
    ReleaseOut,
)

router = APIRouter(prefix="/api/cases", tags=["cases"],
                   responses={401: {"model": ErrorOut}, 403: {"model": ErrorOut}})

Viewer = Annotated[User, Depends(require("view_cases"))]
Decider = Annotated[User, Depends(require("decide"))]
Status = Literal["open", "decided", "escalated", "all"]
Reason = Literal["bank_match", "classifier"]
Category = Literal["incitement_glorification", "solicitation_recruitment", "instruction",
                   "threat", "perpetrator_content"]
Order = Literal["deadline", "severity", "oldest", "newest"]


@router.get("", response_model=CasesOut)
def cases(
    session: SessionDep,
    user: Viewer,
    status: Status = "open",
    bank: Annotated[str | None, Query(max_length=120)] = None,
    source: Annotated[str | None, Query(max_length=200)] = None,
    reason: Reason | None = None,
    category: Category | None = None,
    lang: Annotated[str | None, Query(max_length=16)] = None,
    min_age_hours: Annotated[float | None, Query(ge=0, description="Opened at least this "
                                                                   "long ago.")] = None,
    max_age_hours: Annotated[float | None, Query(ge=0, description="Opened at most this "
                                                                   "long ago.")] = None,
    assignee: Annotated[str | None, Query(max_length=120, description="me, unassigned, others "
                                                                      "or a username")] = None,
    order: Order = "deadline",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> CasesOut:
    f = QueueFilter(status=None if status == "all" else status, bank=bank or None,
                    source=source or None, reason=reason, category=category, lang=lang or None,
                    min_age_hours=min_age_hours, max_age_hours=max_age_hours,
                    assignee=assignee or None, order=order, limit=limit, offset=offset)
    return CasesOut(cases=[CaseSummaryOut(**c) for c in list_cases(session, f, viewer=user)])


@router.post("/next", response_model=NextCaseOut)
def claim_next(
    session: SessionDep,
    user: Decider,
    status: Literal["open", "escalated"] = "open",
    bank: Annotated[str | None, Query(max_length=120)] = None,
    source: Annotated[str | None, Query(max_length=200)] = None,
    category: Category | None = None,
    lang: Annotated[str | None, Query(max_length=16)] = None,
    order: Order = "deadline",
) -> NextCaseOut:
    """Claim the most urgent case you can take (your own live claim first)."""
    f = QueueFilter(status=status, bank=bank or None, source=source or None, category=category,
                    lang=lang or None, order=order)
    return NextCaseOut(case_id=next_case(session, f, user))


@router.get("/{case_id}", response_model=CaseDetailOut, responses={404: {"model": ErrorOut}})
def case(case_id: int, session: SessionDep, user: Viewer) -> CaseDetailOut:
    return CaseDetailOut(**case_detail(session, case_id))


@router.get("/{case_id}/copies", response_model=CopiesOut, responses={404: {"model": ErrorOut}})
def copies(case_id: int, session: SessionDep, user: Viewer) -> CopiesOut:
    """Waiting cases whose items are exact copies of this case's item."""
    case_detail(session, case_id)  # 404 for an unknown case
    return CopiesOut(copies=[CopyOut(**c) for c in copies_of(session, case_id)])


@router.post("/{case_id}/claim", response_model=ClaimOut,
             responses={404: {"model": ErrorOut}, 409: {"model": ErrorOut}})
def claim_case(case_id: int, session: SessionDep, user: Decider) -> ClaimOut:
    claim(session, case_id, user)
    return ClaimOut(case_id=case_id, assigned_to=user.username)


@router.post("/{case_id}/release", response_model=ReleaseOut,
             responses={404: {"model": ErrorOut}, 409: {"model": ErrorOut}})
def release_case(case_id: int, session: SessionDep, user: Decider) -> ReleaseOut:
    release(session, case_id, user)
    return ReleaseOut(case_id=case_id, released=True)


@router.post("/{case_id}/decision", response_model=DecisionOut, status_code=201,
             responses={404: {"model": ErrorOut}, 409: {"model": ErrorOut},
                        422: {"model": ErrorOut}})
def decide(case_id: int, body: DecisionIn, w: WardingDep, user: Decider,
           runner: ActionsDep) -> DecisionOut:
    """Record a decision, an appeal (a new decision superseding the current one) or an
    escalation (a request for a second opinion). Its actions are then carried out: by the
    server's action worker when it runs (``actions`` are listed as pending; see
    ``GET /api/actions?case_id=``), otherwise before the answer."""
    result = record_decision(
        w, case_id,
        DecisionInput(violating=body.violating, reason=body.reason, category=body.category or None,
                      exemption=body.exemption or None, kind=body.kind),
        actor=user.username, reviewer_id=user.id, run_actions=runner.inline,
    )
    runner.queued()
    return DecisionOut(**result)


@router.post("/{case_id}/bulk-decision", response_model=BulkDecisionOut, status_code=201,
             responses={404: {"model": ErrorOut}, 409: {"model": ErrorOut},
                        422: {"model": ErrorOut}})
def decide_bulk(case_id: int, body: BulkDecisionIn, w: WardingDep, user: Decider,
                runner: ActionsDep) -> BulkDecisionOut:
    """Decide a case and the listed copies of its item with one decision. Copies that
    cannot be decided now are reported in ``skipped``."""
    result = record_bulk_decision(
        w, case_id, body.copies,
        DecisionInput(violating=body.violating, reason=body.reason, category=body.category or None,
                      exemption=body.exemption or None),
        actor=user.username, reviewer_id=user.id, run_actions=runner.inline,
    )
    runner.queued()
    return BulkDecisionOut(**result)
