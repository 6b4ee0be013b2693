"""Log in and out of the console. Both are audited (by the account service and the audit log).

Failed logins are throttled per user name and per client address (429 with Retry-After,
:mod:`warding.accounts.throttle`); each refused attempt is audited as
``auth.login_throttled``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from warding.accounts.service import authenticate
from warding.accounts.throttle import LoginThrottle
from warding.audit.log import record
from warding.events import LoginThrottled, Logout
from warding.web.deps import CurrentUser, SessionDep, csrf_matches, start_session
from warding.web.templating import flash, render

router = APIRouter(include_in_schema=False)


def safe_next(target: str | None) -> str:
    """Only local paths: never redirect off-site after login."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    if any(c in target for c in "\r\n\\"):
        return "/"
    return target


@router.get("/login")
def login_form(request: Request, next: str = "/") -> Response:
    return render(request, "login.html", {"next": safe_next(next), "username": ""})


@router.post("/login")
def login(
    request: Request,
    session: SessionDep,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    context = {"next": safe_next(next), "username": username}
    if not csrf_matches(request, csrf_token):
        return render(request, "login.html",
                      {**context, "error": "The form expired. Please try again."},
                      status_code=403)
    name = username.strip()
    address = request.client.host if request.client is not None else None
    limiter = throttle(request)
    refusal = limiter.check(name, address)
    if refusal is None:
        user = authenticate(session, name, password)
        if user is not None:
            limiter.succeeded(name, address)
            start_session(request, user)
            return RedirectResponse(safe_next(next), status_code=303)
        refusal = limiter.failed(name, address)
        if refusal is None:
            return render(request, "login.html",
                          {**context, "error": "Wrong username or password."}, status_code=401)
    record(session, LoginThrottled(name[:120], address or "", refusal.key[:200],
                                   refusal.retry_after), "anonymous")
    response = render(request, "login.html",
                      {**context, "error": f"Too many failed logins: {refusal.message()}."},
                      status_code=429)
    response.headers["Retry-After"] = str(refusal.retry_after)
    return response


def throttle(request: Request) -> LoginThrottle:
    """The app's login throttle (made on first use)."""
    found = getattr(request.app.state, "login_throttle", None)
    if found is None:
        found = request.app.state.login_throttle = LoginThrottle(
            request.app.state.warding.settings)
    assert isinstance(found, LoginThrottle)
    return found


@router.post("/logout")
def logout(request: Request, user: CurrentUser, session: SessionDep) -> Response:
    record(session, Logout(user.username), user.username)
    request.session.clear()
    flash(request, "You are logged out.")
    return RedirectResponse("/login", status_code=303)
