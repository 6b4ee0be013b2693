"""Security plumbing for the web app: the session-signing secret and response headers."""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from pathlib import Path

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from warding.config import Settings

SECRET_FILE = "session_secret"

# No inline scripts or styles, nothing loaded from elsewhere, never framed.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; media-src 'self'; script-src 'self'; "
    "style-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)

SECURITY_HEADERS: dict[str, str] = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
}


def session_secret(settings: Settings) -> str:
    """``settings.session_secret``, or a random secret generated once and kept in
    ``<data_dir>/session_secret`` (mode 0600). Creation is atomic: the file appears
    with its full content or not at all, so two processes starting together agree."""
    if settings.session_secret:
        return settings.session_secret
    data_dir = Path(settings.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    target = data_dir / SECRET_FILE
    if target.exists():
        return _read_secret(target)
    fd, tmp = tempfile.mkstemp(dir=data_dir, prefix=".tmp-secret-")  # created 0600
    try:
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secrets.token_urlsafe(48) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        with contextlib.suppress(FileExistsError):  # another process won the race
            os.link(tmp, target)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return _read_secret(target)


def _read_secret(path: Path) -> str:
    secret = path.read_text(encoding="ascii").strip()
    if len(secret) < 32:
        raise RuntimeError(
            f"{path} holds no usable session secret; delete it to generate a new one"
        )
    return secret


class SecurityHeadersMiddleware:
    """Adds the security headers to every HTTP response (a response's own value wins).

    Responses that set no Cache-Control get ``no-store``, except static assets:
    console pages and API answers can hold sensitive material."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = str(scope.get("path", "")).startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    if name not in headers:
                        headers[name] = value
                if not static and "cache-control" not in headers:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)
