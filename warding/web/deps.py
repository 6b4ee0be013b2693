"""Request dependencies: the app, a DB session, the current user, permissions and CSRF.

A request is authenticated either by the console's signed session cookie or by an
``Authorization: Bearer <api key>`` header (which then wins; the cookie is ignored).
State-changing requests authenticated by cookie must carry the session's CSRF token
(form field ``csrf_token`` or header ``X-CSRF-Token``); bearer requests need none.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Iterator
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from warding.accounts.roles import allowed
from warding.accounts.service import api_key_owner, view
from warding.app import Warding
from warding.db.models import User
from warding.errors import PermissionDenied

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SESSION_USER = "user_id"
SESSION_AUTH = "auth"
SESSION_CSRF = "csrf"


class NotAuthenticated(Exception):
    """No valid session or API key: 401 for the API, a redirect to /login for console pages."""


def get_warding(request: Request) -> Warding:
    w = request.app.state.warding
    assert isinstance(w, Warding)
    return w


WardingDep = Annotated[Warding, Depends(get_warding)]


def db_session(w: WardingDep) -> Iterator[Session]:
    """One session per request; commits when the endpoint returns, before the response
    is sent (scope="function"), and rolls back if it raises."""
    with w.transaction() as session:
        yield session


SessionDep = Annotated[Session, Depends(db_session, scope="function")]


# -- CSRF --------------------------------------------------------------------
def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use."""
    token = request.session.get(SESSION_CSRF)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        request.session[SESSION_CSRF] = token
    return token


def csrf_matches(request: Request, supplied: object) -> bool:
    expected = request.session.get(SESSION_CSRF)
    return (isinstance(expected, str) and bool(expected) and isinstance(supplied, str)
            and hmac.compare_digest(supplied.encode(), expected.encode()))


async def check_csrf(request: Request) -> None:
    """Refuse (403) a state-changing, cookie-authenticated request without the CSRF token."""
    if request.method in SAFE_METHODS or "authorization" in request.headers:
        return
    if SESSION_USER not in request.session:
        return  # not logged in: current_user refuses it anyway
    supplied: object = request.headers.get(CSRF_HEADER)
    if supplied is None:
        ctype = request.headers.get("content-type", "")
        if ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()  # cached: the endpoint reads the same form
            supplied = form.get(CSRF_FIELD)
    if not csrf_matches(request, supplied):
        raise PermissionDenied("missing or invalid CSRF token: reload the page and try again")


# -- authentication ----------------------------------------------------------
def auth_fingerprint(user: User) -> str:
    """Ties a session to the password it was opened with: changing it ends old sessions."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:24]


def start_session(request: Request, user: User) -> None:
    """A fresh session (and CSRF token) at login, so a planted session cannot be reused."""
    request.session.clear()
    request.session[SESSION_USER] = user.id
    request.session[SESSION_AUTH] = auth_fingerprint(user)
    request.session[SESSION_CSRF] = secrets.token_urlsafe(32)


def _user_from_bearer(request: Request, session: Session, header: str) -> User:
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise NotAuthenticated("use 'Authorization: Bearer <api key>'")
    owner = api_key_owner(session, key.strip())
    if owner is None:
        raise NotAuthenticated("invalid or revoked API key")
    user, scopes = owner
    request.state.scopes = scopes  # a scoped key may do less than its user's role
    return user


def _user_from_cookie(request: Request, session: Session) -> User:
    user_id = request.session.get(SESSION_USER)
    if not isinstance(user_id, int):
        raise NotAuthenticated("log in first")
    user = session.get(User, user_id)
    if (user is None or not user.active
            or request.session.get(SESSION_AUTH) != auth_fingerprint(user)):
        request.session.clear()
        raise NotAuthenticated("your session has ended; log in again")
    return user


# Declares the API key scheme in the OpenAPI document; the header itself is read below.
bearer_scheme = HTTPBearer(auto_error=False, scheme_name="api_key",
                           description="An API key from `warding user api-key`.")


def current_user(
    request: Request,
    session: SessionDep,
    _csrf: Annotated[None, Depends(check_csrf)],
    _bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> User:
    header = request.headers.get("authorization")
    request.state.scopes = None
    user = (_user_from_bearer(request, session, header) if header
            else _user_from_cookie(request, session))
    # A plain snapshot for templates: still readable after the session closed or rolled back.
    request.state.user = view(user)
    return user


CurrentUser = Annotated[User, Depends(current_user)]


def require(permission: str) -> Callable[..., User]:
    """A dependency giving the current user, or 403 when their role lacks ``permission``."""

    def dependency(request: Request, user: CurrentUser) -> User:
        if not allowed(user.role, permission):
            raise PermissionDenied(
                f"the {user.role} role may not do this (needs {permission.replace('_', ' ')})"
            )
        scopes = getattr(request.state, "scopes", None)
        if scopes is not None and permission not in scopes:
            raise PermissionDenied(
                f"this API key may not do this (needs scope {permission}; the key has "
                f"{', '.join(sorted(scopes))})"
            )
        return user

    dependency.__name__ = f"require_{permission}"
    return dependency


# -- actions after a decision ------------------------------------------------------
class ActionRunner:
    """How a request's new actions get carried out: by the server's worker when one runs
    (woken at once, so the reviewer never waits on a slow platform), otherwise inline."""

    def __init__(self, worker: Any) -> None:
        self.worker = worker

    @property
    def inline(self) -> bool:
        return self.worker is None

    def queued(self) -> None:
        """Call after the decision committed."""
        if self.worker is not None:
            self.worker.wake()


def action_runner(request: Request) -> ActionRunner:
    return ActionRunner(getattr(request.app.state, "action_worker", None))


ActionsDep = Annotated[ActionRunner, Depends(action_runner)]
