"""Shared pieces of the HMA-compatible API (routers ``hma_hashing``, ``hma_matching``,
``hma_curation`` and ``hma_meta``): authentication, HMA's roles, HMA's errors and
parameters. Hashing of uploads and URLs is in :mod:`warding.web.hma_media`.

Meta's Hasher-Matcher-Actioner (HMA, ``facebook/ThreatExchange``,
``hasher-matcher-actioner/``) serves ``/h`` (hasher), ``/m`` (matcher) and ``/c``
(curator). Warding serves the same paths, parameters and response shapes so that HMA
clients can switch without changes; the differences left are listed in docs/api.md.

Authentication: HMA leaves it to a deployment hook; Warding requires an API key
(``Authorization: Bearer``) or a console session, like the rest of its API. In
HMA-compatible mode (``WARDING_HMA_COMPATIBLE``), a request without credentials from a
client in ``WARDING_HMA_TRUSTED_NETWORKS`` acts as ``hma@<address>`` with the ``api``
role, as HMA's clients expect. A verified key (with its scopes) is cached for
:data:`KEY_TTL` seconds, since the matcher serves thousands of requests a second, so a
revoked key stops working within that time here.
"""

from __future__ import annotations

import hashlib
import ipaddress
import threading
import time
from collections.abc import Callable, Coroutine
from functools import lru_cache
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials
from starlette.concurrency import run_in_threadpool

from warding.accounts.roles import allowed
from warding.accounts.service import UserView, api_key_owner, view
from warding.app import Warding
from warding.web.deps import (
    NotAuthenticated,
    _user_from_cookie,
    bearer_scheme,
    check_csrf,
    get_warding,
)

KEY_TTL = 10.0
KEYLESS_ROLE = "api"  # what a trusted client without a key may do in HMA-compatible mode
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


Scopes = frozenset[str] | None  # a scoped key's permissions (None: its role's)


class _KeyCache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: dict[str, tuple[UserView, Scopes, float]] = {}

    def get(self, digest: str) -> tuple[UserView, Scopes] | None:
        with self._lock:
            hit = self._keys.get(digest)
            if hit is None or hit[2] < time.monotonic():
                self._keys.pop(digest, None)
                return None
            return hit[0], hit[1]

    def put(self, digest: str, user: UserView, scopes: Scopes) -> None:
        with self._lock:
            if len(self._keys) > 10_000:
                self._keys.clear()
            self._keys[digest] = (user, scopes, time.monotonic() + KEY_TTL)


def _cache(request: Request) -> _KeyCache:
    cache = getattr(request.app.state, "hma_keys", None)
    if cache is None:
        cache = request.app.state.hma_keys = _KeyCache()
    return cache


@lru_cache(maxsize=8)
def _networks(cidrs: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(c, strict=False) for c in cidrs)


def trusted_client(w: Warding, request: Request) -> str | None:
    """The client's address when HMA-compatible mode trusts it without a key, else None."""
    s = w.settings
    if not s.hma_compatible or request.client is None:
        return None
    try:
        ip = ipaddress.ip_address(request.client.host)
        networks = _networks(tuple(s.hma_trusted_networks))
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return str(ip) if any(ip in net for net in networks) else None


def _from_browser(request: Request) -> bool:
    """A browser's request (or one with a console session): never trusted without a key,
    so that a web page cannot use a visitor's browser, on a trusted machine, to call the
    API (cross-site requests, DNS rebinding). HMA's clients send none of these headers."""
    headers = request.headers
    return ("origin" in headers or "sec-fetch-site" in headers or "sec-fetch-mode" in headers
            or "warding_session" in request.cookies)


def require_role(w: Warding, role: str) -> None:
    """403 unless this server plays HMA's ``role`` (WARDING_HMA_ROLES)."""
    if role not in w.settings.hma_roles:
        raise HTTPException(403, f"{role.capitalize()} is disabled on this server, missing "
                                 f"role (WARDING_HMA_ROLES)")


async def authenticate(request: Request, permission: str) -> UserView:
    """The caller (API key, cached; console session; or a trusted client without
    credentials in HMA-compatible mode), with ``permission``."""
    w = get_warding(request)
    header = request.headers.get("authorization")
    user: UserView
    scopes: Scopes = None
    if header:
        scheme, _, key = header.partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            raise NotAuthenticated("use 'Authorization: Bearer <api key>'")
        digest = hashlib.sha256(key.strip().encode()).hexdigest()
        cached = _cache(request).get(digest)
        if cached is None:  # the database, in the thread pool (issue 22)
            found = await run_in_threadpool(_key_owner, w, key.strip())
            if found is None:
                raise NotAuthenticated("invalid or revoked API key")
            user, scopes = found
            _cache(request).put(digest, user, scopes)
        else:
            user, scopes = cached
    elif (address := trusted_client(w, request)) is not None and not _from_browser(request):
        user = UserView(0, f"hma@{address}", KEYLESS_ROLE, True)
    else:
        await check_csrf(request)
        user = await run_in_threadpool(_cookie_user, w, request)
    request.state.user = user
    if not allowed(user.role, permission):
        raise HTTPException(403, f"the {user.role} role may not do this "
                                 f"(needs {permission.replace('_', ' ')})")
    if scopes is not None and permission not in scopes:
        raise HTTPException(403, f"this API key may not do this (needs scope {permission}; "
                                 f"the key has {', '.join(sorted(scopes))})")
    return user


def _key_owner(w: Warding, key: str) -> tuple[UserView, Scopes] | None:
    with w.transaction() as session:
        found = api_key_owner(session, key)
        return None if found is None else (view(found[0]), found[1])


def _cookie_user(w: Warding, request: Request) -> UserView:
    with w.transaction() as session:
        return view(_user_from_cookie(request, session))


def hma_user(permission: str, role: str) -> Callable[..., Coroutine[Any, Any, UserView]]:
    """A dependency: HMA's ``role`` must be on, and the caller must have ``permission``."""

    async def dependency(
        request: Request,
        _bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    ) -> UserView:  # _bearer: declares the API key in the OpenAPI document
        require_role(get_warding(request), role)
        return await authenticate(request, permission)

    dependency.__name__ = f"hma_{role}_{permission}"
    return dependency


def bad_request(message: str) -> HTTPException:
    return HTTPException(400, message)


def parse_bool(value: str | None, name: str, default: bool = False) -> bool:
    """HMA's booleans: true/1 or false/0."""
    if value is None:
        return default
    low = value.lower()
    if low in ("true", "1"):
        return True
    if low in ("false", "0"):
        return False
    raise bad_request(f"invalid boolean parameter {name}={value!r} - prefer true/false")


def query_list(value: str | None) -> list[str] | None:
    """A comma-separated parameter (``banks=A,B``, ``types=pdq,md5``) or None."""
    if not value:
        return None
    return [v.strip() for v in value.split(",") if v.strip()]
