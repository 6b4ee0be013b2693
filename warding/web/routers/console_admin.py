"""The console's admin pages: users and roles, and the audit log."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from starlette.responses import RedirectResponse, Response

from warding.accounts.roles import ROLES
from warding.accounts.service import create_user, list_users, set_active, set_role
from warding.audit.log import verify
from warding.audit.queries import EVENT_PAGE, list_events
from warding.db.engine import savepoint
from warding.db.models import User
from warding.errors import WardingError
from warding.web.deps import SessionDep, require
from warding.web.templating import flash, render

router = APIRouter(include_in_schema=False)

Admin = Annotated[User, Depends(require("manage_users"))]
Auditor = Annotated[User, Depends(require("view_audit"))]


@router.get("/admin/users")
def users_page(request: Request, session: SessionDep, user: Admin) -> Response:
    return render(request, "users.html", {"users": list_users(session), "roles": ROLES,
                                          "active": "users"})


def _change(request: Request, session: SessionDep, fn: Callable[[], object],
            message: str) -> Response:
    try:
        with savepoint(session):
            fn()
    except WardingError as exc:
        flash(request, str(exc), "error")
    else:
        flash(request, message)
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/users")
def add_user(
    request: Request, session: SessionDep, user: Admin,
    username: Annotated[str, Form(max_length=120)] = "",
    role: Annotated[str, Form(max_length=20)] = "reviewer",
    password: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    return _change(request, session,
                   lambda: create_user(session, username.strip(), role, password,
                                       actor=user.username),
                   f"User {username.strip()!r} created with role {role}.")


@router.post("/admin/users/{username}/role")
def change_role(
    username: str, request: Request, session: SessionDep, user: Admin,
    role: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    return _change(request, session,
                   lambda: set_role(session, username, role, actor=user.username),
                   f"{username} now has the role {role}.")


@router.post("/admin/users/{username}/active")
def change_active(
    username: str, request: Request, session: SessionDep, user: Admin,
    active: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    on = active == "yes"
    return _change(request, session,
                   lambda: set_active(session, username, on, actor=user.username),
                   f"{username} is now {'enabled' if on else 'disabled'}.")


@router.get("/audit")
def audit_page(
    request: Request, session: SessionDep, user: Auditor,
    event_type: Annotated[str, Query(max_length=60)] = "",
    before: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    result = verify(session)
    events = list_events(session, event_type=event_type or None, before_id=before)
    return render(request, "audit.html", {
        "result": result, "events": events, "event_type": event_type,
        "page_size": EVENT_PAGE, "active": "audit"})
