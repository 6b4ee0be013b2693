"""Shared pieces of the HMA-compatible API (routers ``hma_hashing``, ``hma_matching`` and
``hma_curation``): authentication for high request rates, HMA's errors, and hashing of
uploads by HMA content type.

Meta's Hasher-Matcher-Actioner (HMA, ``facebook/ThreatExchange``,
``hasher-matcher-actioner/``) serves ``/h`` (hasher), ``/m`` (matcher) and ``/c``
(curator). Warding serves the same paths, parameters and response shapes so that HMA
clients can switch without changes; the differences are listed in docs/api.md.

Authentication: HMA leaves it to a deployment hook; Warding requires an API key
(``Authorization: Bearer``) or a console session, like the rest of its API. For the
matcher, which serves thousands of requests a second, a verified key is cached for
:data:`KEY_TTL` seconds, so a revoked key stops working within that time there.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import HTTPException, Request

from warding.accounts.roles import allowed
from warding.accounts.service import UserView, user_for_api_key, view
from warding.app import Warding
from warding.signals import compute
from warding.signals.base import SignalError
from warding.web.deps import NotAuthenticated, _user_from_cookie, check_csrf, get_warding

KEY_TTL = 10.0
CONTENT_TYPES = ("photo", "video")
VIDEO_ALIAS = "video_md5"  # HMA's name for the MD5 of a video file


class _KeyCache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: dict[str, tuple[UserView, float]] = {}

    def get(self, digest: str) -> UserView | None:
        with self._lock:
            hit = self._keys.get(digest)
            if hit is None or hit[1] < time.monotonic():
                self._keys.pop(digest, None)
                return None
            return hit[0]

    def put(self, digest: str, user: UserView) -> None:
        with self._lock:
            if len(self._keys) > 10_000:
                self._keys.clear()
            self._keys[digest] = (user, time.monotonic() + KEY_TTL)


def _cache(request: Request) -> _KeyCache:
    cache = getattr(request.app.state, "hma_keys", None)
    if cache is None:
        cache = request.app.state.hma_keys = _KeyCache()
    return cache


def hma_user(permission: str) -> Callable[[Request], Coroutine[Any, Any, UserView]]:
    """A dependency: the caller (API key, cached; or console session), with ``permission``."""

    async def dependency(request: Request) -> UserView:
        w = get_warding(request)
        header = request.headers.get("authorization")
        user: UserView | None
        if header:
            scheme, _, key = header.partition(" ")
            if scheme.lower() != "bearer" or not key.strip():
                raise NotAuthenticated("use 'Authorization: Bearer <api key>'")
            digest = hashlib.sha256(key.strip().encode()).hexdigest()
            user = _cache(request).get(digest)
            if user is None:
                with w.transaction() as session:
                    found = user_for_api_key(session, key.strip())
                    if found is None:
                        raise NotAuthenticated("invalid or revoked API key")
                    user = view(found)
                _cache(request).put(digest, user)
        else:
            await check_csrf(request)
            with w.transaction() as session:
                user = view(_user_from_cookie(request, session))
        request.state.user = user
        if not allowed(user.role, permission):
            raise HTTPException(403, f"the {user.role} role may not do this "
                                     f"(needs {permission.replace('_', ' ')})")
        return user

    dependency.__name__ = f"hma_{permission}"
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


def no_url_fetching() -> HTTPException:
    return HTTPException(403, "Warding does not fetch URLs (content stays home): "
                              "upload the file with POST instead")


async def hash_upload(w: Warding, request: Request) -> dict[str, str]:
    """Signals of the one file of a multipart upload whose field name is HMA's content type
    (``photo`` or ``video``): {signal type: value}."""
    async with request.form() as form:
        return await _hash_form(w, form)


async def hash_form(w: Warding, form: Any) -> dict[str, str]:
    return await _hash_form(w, form)


async def _hash_form(w: Warding, form: Any) -> dict[str, str]:
    files = [(name, value) for name, value in form.multi_items()
             if hasattr(value, "read") and name != "metadata"]
    if not files:
        raise bad_request("Missing multipart/form-data file upload")
    if len(files) > 1:
        raise bad_request("Only one file allowed per request")
    field, upload = files[0]
    if field not in CONTENT_TYPES:
        raise bad_request(f"no such content_type: '{field}' (use {' or '.join(CONTENT_TYPES)})")
    limit = w.settings.max_file_bytes
    data = await upload.read(limit + 1)  # type: ignore[union-attr]
    if len(data) > limit:
        raise HTTPException(413, f"the file is over the {limit}-byte limit (max_file_bytes)")
    if not data:
        raise bad_request("empty file")
    mime = "image/unknown" if field == "photo" else "video/unknown"
    try:
        values = compute.for_bytes(w.signal_types, data, mime, "upload")
    except SignalError as exc:
        raise bad_request(f"cannot hash the {field}: {exc}") from exc
    out = {v.signal_type: v.value for v in values}
    if field == "video" and "md5" in out:
        out[VIDEO_ALIAS] = out["md5"]
    return out
