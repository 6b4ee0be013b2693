"""The console's case view (HTML): claim, release, decide (alone or with copies), ask
for a second opinion, and appeal. Every handler calls the review services."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from warding.accounts.roles import allowed
from warding.actions.notice import list_statements
from warding.cases.categories import POLICY_CATEGORIES
from warding.cases.claims import claim, release
from warding.cases.queries import escalated_by
from warding.db.engine import savepoint
from warding.db.models import User
from warding.errors import InvalidInput, WardingError
from warding.review.case_view import case_detail
from warding.review.context import copies_of
from warding.review.decisions import EXEMPTIONS, DecisionInput, get_case
from warding.review.service import record_bulk_decision, record_decision
from warding.review.wellness import get_settings, record_view
from warding.video.keyframes import key_frames
from warding.web.deps import ActionsDep, SessionDep, WardingDep, require
from warding.web.errors import status_for
from warding.web.routers.console import next_response, wellness_for
from warding.web.templating import flash, render

router = APIRouter(include_in_schema=False)

Viewer = Annotated[User, Depends(require("view_cases"))]
Decider = Annotated[User, Depends(require("decide"))]

CONSOLE_KINDS = ("decision", "appeal")


def _case_page(request: Request, session: Session, user: User, case_id: int, *,
               form: dict[str, Any] | None = None, error: str | None = None,
               status_code: int = 200) -> Response:
    case = case_detail(session, case_id)
    decided = any(d["kind"] != "escalation" for d in case["decisions"])
    escalation = next((d for d in reversed(case["decisions"]) if d["kind"] == "escalation"),
                      None)
    asked_by_me = (case["status"] == "escalated"
                   and escalated_by(session, case_id) == user.id)
    default_form = {"violating": "", "category": "", "reason": "", "exemption": "",
                    "kind": "appeal" if decided else "decision"}
    can_decide = allowed(user.role, "decide")
    return render(request, "case.html", {
        "case": case,
        "claimed_by": case["claimed_by"],
        "mine": case["claimed_by"] == user.username,
        "can_decide": can_decide,
        "can_view_media": allowed(user.role, "view_media"),
        "key_frames": key_frames(session, case["item"]["id"],
                                 request.app.state.warding.signal_types)
        if allowed(user.role, "view_media") else {},
        "can_view_actions": allowed(user.role, "view_actions"),
        "can_view_statements": allowed(user.role, "view_statements"),
        "decided": decided,
        "escalation": escalation,
        "asked_by_me": asked_by_me,
        "copies": copies_of(session, case_id) if can_decide and not decided else [],
        "statements": list_statements(session, case_id=case_id)
        if allowed(user.role, "view_statements") else [],
        "categories": POLICY_CATEGORIES,
        "exemptions": EXEMPTIONS,
        "kinds": CONSOLE_KINDS,
        "form": {**default_form, **(form or {})},
        "error": error,
        "settings": get_settings(session, user.id),
        "wellness": wellness_for(request, session, user),
        "active": "queue",
    }, status_code=status_code)


@router.get("/cases/{case_id}")
def case_page(case_id: int, request: Request, session: SessionDep, user: Viewer) -> Response:
    get_case(session, case_id)  # 404 before anything is counted
    if allowed(user.role, "own_settings"):
        record_view(session, user.id, case_id)  # first, so the counter includes this case
    return _case_page(request, session, user, case_id)


@router.post("/cases/{case_id}/claim")
def claim_case(case_id: int, request: Request, session: SessionDep, user: Decider) -> Response:
    try:
        with savepoint(session):
            claim(session, case_id, user)
    except WardingError as exc:
        flash(request, str(exc), "error")
    else:
        flash(request, f"Case #{case_id} is yours for the next 15 minutes.")
    return RedirectResponse(f"/cases/{case_id}", status_code=303)


@router.post("/cases/{case_id}/release")
def release_case(case_id: int, request: Request, session: SessionDep,
                 user: Decider) -> Response:
    try:
        with savepoint(session):
            release(session, case_id, user)
    except WardingError as exc:
        flash(request, str(exc), "error")
    else:
        flash(request, f"Case #{case_id} is back in the queue.")
    return RedirectResponse("/", status_code=303)


def _after(request: Request, session: Session, user: User, then: str,
           case_id: int) -> Response:
    """After a decision: the next case of the queue ("Record and next"), or this case."""
    if then == "next":
        return next_response(request, session, user)
    return RedirectResponse(f"/cases/{case_id}", status_code=303)


@router.post("/cases/{case_id}/decide")
def decide(
    case_id: int,
    request: Request,
    w: WardingDep,
    session: SessionDep,
    user: Decider,
    runner: ActionsDep,
    violating: Annotated[str, Form(max_length=10)] = "",
    category: Annotated[str, Form(max_length=60)] = "",
    reason: Annotated[str, Form(max_length=10_000)] = "",
    exemption: Annotated[str, Form(max_length=30)] = "",
    kind: Annotated[str, Form(max_length=20)] = "decision",
    copies: Annotated[list[int] | None, Form()] = None,
    then: Annotated[str, Form(max_length=10)] = "case",
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
        if copies and decision.kind == "decision":
            out = record_bulk_decision(w, case_id, list(copies), decision, actor=user.username,
                                       reviewer_id=user.id, run_actions=runner.inline)
            extra = f" and {len(out['decided']) - 1} cop{'y' if len(out['decided']) == 2 else 'ies'}"
            for s in out["skipped"]:
                flash(request, f"Case #{s['case_id']} was not decided: {s['reason']}", "error")
        else:
            record_decision(w, case_id, decision, actor=user.username, reviewer_id=user.id,
                            run_actions=runner.inline)
            extra = ""
    except WardingError as exc:
        return _case_page(request, session, user, case_id, form=form, error=str(exc),
                          status_code=status_for(exc))
    runner.queued()
    outcome = "violating" if decision.violating else "not violating"
    label = "Appeal" if decision.kind == "appeal" else "Decision"
    flash(request, f"{label} recorded on case #{case_id}{extra}: {outcome}.")
    return _after(request, session, user, then, case_id)


@router.post("/cases/{case_id}/escalate")
def escalate(
    case_id: int,
    request: Request,
    w: WardingDep,
    session: SessionDep,
    user: Decider,
    reason: Annotated[str, Form(max_length=10_000)] = "",
    then: Annotated[str, Form(max_length=10)] = "next",
) -> Response:
    """Ask for a second opinion: the case moves to the escalated queue for someone else."""
    try:
        record_decision(w, case_id, DecisionInput(violating=False, reason=reason,
                                                  kind="escalation"),
                        actor=user.username, reviewer_id=user.id)
    except WardingError as exc:
        return _case_page(request, session, user, case_id, error=str(exc),
                          status_code=status_for(exc))
    flash(request, f"Case #{case_id} is waiting for a second opinion.")
    return _after(request, session, user, then, case_id)
