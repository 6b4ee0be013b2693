"""The review console (HTML): the queue, a case, claiming and deciding."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from warding.accounts.roles import allowed
from warding.cases.queries import QueueFilter, case_detail, claim, list_cases
from warding.db.models import User
from warding.errors import InvalidInput, WardingError
from warding.review.decisions import EXEMPTIONS, POLICY_CATEGORIES, DecisionInput
from warding.review.service import record_decision
from warding.web.deps import SessionDep, WardingDep, require
from warding.web.errors import status_for
from warding.web.templating import flash, render

router = APIRouter(include_in_schema=False)

Viewer = Annotated[User, Depends(require("view_cases"))]
Decider = Annotated[User, Depends(require("decide"))]

STATUSES = ("open", "decided", "escalated", "all")
REASONS = ("bank_match", "classifier")
CONSOLE_KINDS = ("decision", "appeal")


@router.get("/")
def queue(
    request: Request,
    session: SessionDep,
    user: Viewer,
    status: Annotated[str, Query(max_length=20)] = "open",
    bank: Annotated[str, Query(max_length=120)] = "",
    source: Annotated[str, Query(max_length=200)] = "",
    reason: Annotated[str, Query(max_length=20)] = "",
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    if status not in STATUSES:
        raise InvalidInput(f"unknown status {status!r}; use one of {', '.join(STATUSES)}")
    if reason and reason not in REASONS:
        raise InvalidInput(f"unknown reason {reason!r}; use one of {', '.join(REASONS)}")
    f = QueueFilter(status=None if status == "all" else status, bank=bank.strip() or None,
                    source=source.strip() or None, reason=reason or None, offset=offset)
    cases = list_cases(session, f)
    return render(request, "queue.html", {
        "cases": cases,
        "filters": {"status": status, "bank": bank, "source": source, "reason": reason},
        "statuses": STATUSES,
        "reasons": REASONS,
        "offset": offset,
        "page_size": f.limit,
    })


def _case_page(request: Request, session: Session, user: User, case_id: int, *,
               form: dict[str, Any] | None = None, error: str | None = None,
               status_code: int = 200) -> Response:
    case = case_detail(session, case_id)
    claimed_by = None
    if case["assigned_to"] is not None:
        holder = session.get(User, case["assigned_to"])
        claimed_by = holder.username if holder is not None else None
    decided = any(d["kind"] != "escalation" for d in case["decisions"])
    default_form = {"violating": "", "category": "", "reason": "", "exemption": "",
                    "kind": "appeal" if decided else "decision"}
    return render(request, "case.html", {
        "case": case,
        "claimed_by": claimed_by,
        "can_decide": allowed(user.role, "decide"),
        "can_view_media": allowed(user.role, "view_media"),
        "categories": POLICY_CATEGORIES,
        "exemptions": EXEMPTIONS,
        "kinds": CONSOLE_KINDS,
        "form": {**default_form, **(form or {})},
        "error": error,
    }, status_code=status_code)


@router.get("/cases/{case_id}")
def case_page(case_id: int, request: Request, session: SessionDep, user: Viewer) -> Response:
    return _case_page(request, session, user, case_id)


@router.post("/cases/{case_id}/claim")
def claim_case(case_id: int, request: Request, session: SessionDep, user: Decider) -> Response:
    try:
        claim(session, case_id, user)
    except WardingError as exc:
        flash(request, str(exc), "error")
    else:
        flash(request, f"Case #{case_id} is yours for the next minutes.")
    return RedirectResponse(f"/cases/{case_id}", status_code=303)


@router.post("/cases/{case_id}/decide")
def decide(
    case_id: int,
    request: Request,
    w: WardingDep,
    session: SessionDep,
    user: Decider,
    violating: Annotated[str, Form(max_length=10)] = "",
    category: Annotated[str, Form(max_length=60)] = "",
    reason: Annotated[str, Form(max_length=10_000)] = "",
    exemption: Annotated[str, Form(max_length=30)] = "",
    kind: Annotated[str, Form(max_length=20)] = "decision",
) -> Response:
    form = {"violating": violating, "category": category, "reason": reason,
            "exemption": exemption, "kind": kind}
    try:
        if violating not in ("yes", "no"):
            raise InvalidInput("choose whether the content is violating (yes or no)")
        if kind not in CONSOLE_KINDS:
            raise InvalidInput(f"unknown decision kind {kind!r}")
        decision = DecisionInput(
            violating=violating == "yes",
            reason=reason,
            category=category or None,
            exemption=None if exemption in ("", "none") else exemption,
            kind="appeal" if kind == "appeal" else "decision",
        )
        record_decision(w, case_id, decision, actor=user.username, reviewer_id=user.id)
    except WardingError as exc:
        return _case_page(request, session, user, case_id, form=form, error=str(exc),
                          status_code=status_for(exc))
    outcome = "violating" if decision.violating else "not violating"
    flash(request, f"{kind.capitalize()} recorded on case #{case_id}: {outcome}.")
    return RedirectResponse(f"/cases/{case_id}", status_code=303)
