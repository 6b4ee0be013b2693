"""The console's delivery log, dead-letter list and statements of reasons."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import RedirectResponse, Response

from warding.accounts.roles import allowed
from warding.actions.delivery import (
    STATUSES,
    get_action,
    list_actions,
    list_attempts,
    requeue,
    status_counts,
)
from warding.actions.notice import get_statement
from warding.db.engine import savepoint
from warding.db.models import User
from warding.errors import InvalidInput, WardingError
from warding.web.deps import SessionDep, WardingDep, require
from warding.web.templating import flash, render

router = APIRouter(include_in_schema=False)

ActionViewer = Annotated[User, Depends(require("view_actions"))]
ActionManager = Annotated[User, Depends(require("manage_actions"))]
StatementViewer = Annotated[User, Depends(require("view_statements"))]
PAGE = 100


@router.get("/actions")
def deliveries(
    request: Request,
    session: SessionDep,
    user: ActionViewer,
    status: Annotated[str, Query(max_length=20)] = "",
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    """Actions by status (``status=dead`` is the dead-letter list) and the delivery log."""
    if status and status not in STATUSES:
        raise InvalidInput(f"unknown status {status!r}; use one of {', '.join(STATUSES)}")
    return render(request, "actions.html", {
        "actions": list_actions(session, status=status or None, limit=PAGE, offset=offset),
        "attempts": list_attempts(session, limit=PAGE) if not status else [],
        "counts": status_counts(session),
        "status": status,
        "statuses": STATUSES,
        "offset": offset,
        "page_size": PAGE,
        "can_manage": allowed(user.role, "manage_actions"),
        "active": "actions",
    })


@router.get("/actions/{action_id}")
def action_page(action_id: int, request: Request, session: SessionDep,
                user: ActionViewer) -> Response:
    return render(request, "action.html", {
        "action": get_action(session, action_id),
        "can_manage": allowed(user.role, "manage_actions"), "active": "actions"})


@router.post("/actions/{action_id}/retry")
def retry(action_id: int, request: Request, w: WardingDep, session: SessionDep,
          user: ActionManager) -> Response:
    try:
        with savepoint(session):
            requeue(session, action_id, actor=user.username,
                    extra_attempts=w.settings.action_max_attempts)
    except WardingError as exc:
        flash(request, str(exc), "error")
    else:
        flash(request, f"Action #{action_id} is queued again; the worker sends it shortly.")
    return RedirectResponse(f"/actions/{action_id}", status_code=303)


@router.get("/statements/{statement_id}")
def statement_page(statement_id: int, request: Request, session: SessionDep,
                   user: StatementViewer) -> Response:
    return render(request, "statement.html", {"statement": get_statement(session, statement_id),
                                              "active": "actions"})
