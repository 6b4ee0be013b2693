"""Checks every request's body before a route reads it (issue 22).

- **413** when the body is over its limit: refused from ``Content-Length`` before any of it
  is read, and, for a streamed body (no or a false ``Content-Length``), as soon as the bytes
  read pass the limit. The limits: ``POST /api/items`` takes ``intake_max_body_bytes``, a
  multipart body (an upload) ``max_file_bytes`` plus 1 MiB for its other fields, every other
  body ``max_request_bytes``.
- **415** when a route that reads JSON gets another declared content type (``text/plain``),
  or a route that reads a form gets neither a urlencoded nor a multipart body: checked when
  the route first reads the body (the router has put the route in the scope by then) and,
  for routes that never read a body of the wrong type (a form route given JSON), by the
  app-wide dependency :func:`check_content_type`, before the fields are validated.
- **400** for a ``Content-Length`` that is not a number.

The answers are the app's usual error answers (:func:`warding.web.errors.error_response`):
JSON ``{"detail": …}`` for the API (HMA's routes add ``"message"``), an HTML page for the
console. Requests without a body (GET, HEAD, …) pass straight through: the lookup hot path
pays nothing.
"""

from __future__ import annotations

from typing import Literal

from fastapi import params as fastapi_params
from fastapi.routing import APIRoute
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from warding.config import Settings
from warding.ingest._common import human_size

BodyKind = Literal["json", "form", "multipart", "any"]
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MULTIPART_OVERHEAD = 1024 * 1024  # the other fields of an upload's form
INTAKE_PATH = "/api/items"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def media_type(header: str) -> str:
    return header.split(";", 1)[0].strip().lower()


def is_json_type(mtype: str) -> bool:
    return mtype == "application/json" or (mtype.startswith("application/")
                                            and mtype.endswith("+json"))


def body_kind(route: BaseRoute) -> BodyKind:
    """What body ``route`` reads: JSON, a form, multipart only, or whatever it checks itself."""
    if not isinstance(route, APIRoute):
        return "any"
    declared = ((route.openapi_extra or {}).get("requestBody") or {}).get("content") or {}
    if declared:
        types = [media_type(t) for t in declared]
        if all(is_json_type(t) for t in types):
            return "json"
        if all(t == "multipart/form-data" for t in types):
            return "multipart"
        return "any"
    if route.body_field is None:
        return "any"
    if isinstance(route.body_field.field_info, fastapi_params.Form):  # File is a Form
        return "form"
    return "json"


def content_type_problem(kind: BodyKind, ctype: str) -> str | None:
    """Why a body of type ``ctype`` does not suit a route reading ``kind`` (None: it does).
    A missing content type is left to the route (FastAPI reads it as JSON)."""
    if not ctype or kind == "any":
        return None
    mtype = media_type(ctype)
    if kind == "json" and not is_json_type(mtype):
        return f"this endpoint takes application/json, not {mtype or ctype!r}"
    if kind == "form" and mtype not in FORM_TYPES:
        return ("this endpoint takes a form (application/x-www-form-urlencoded or "
                f"multipart/form-data), not {mtype or ctype!r}")
    if kind == "multipart" and mtype != "multipart/form-data":
        return f"this endpoint takes multipart/form-data, not {mtype or ctype!r}"
    return None


#: What to send instead, per route path (added to a 415's message).
HINTS = {"/api/items": "send one file as multipart to POST /api/items/upload",
         "/api/items/upload": "posts as JSON go to POST /api/items"}


def route_problem(route: BaseRoute, kind: BodyKind, ctype: str) -> str | None:
    """The 415 message for a body of type ``ctype`` sent to ``route`` (None: it suits)."""
    problem = content_type_problem(kind, ctype)
    hint = HINTS.get(getattr(route, "path", ""))
    return f"{problem}; {hint}" if problem is not None and hint else problem


async def check_content_type(request: Request) -> None:
    """An app-wide dependency: 415 when a body's declared type does not suit the route.
    (The middleware checks it when the body is first read; a form route given JSON never
    reads it, so it is checked here too, before the route's fields are validated.)"""
    headers = request.headers
    if request.method not in BODY_METHODS:
        return
    declared = headers.get("content-length", "0").strip()
    if declared in ("", "0") and "chunked" not in headers.get("transfer-encoding", ""):
        return
    route = request.scope.get("route")
    if isinstance(route, BaseRoute):
        problem = route_problem(route, body_kind(route), headers.get("content-type", ""))
        if problem is not None:
            raise HTTPException(415, problem)


def body_limit(settings: Settings, path: str, ctype: str) -> tuple[int, str]:
    """The largest body accepted for ``path`` with content type ``ctype``, and its setting."""
    if path.rstrip("/") == INTAKE_PATH:
        return settings.intake_max_body_bytes, "intake_max_body_bytes"
    if media_type(ctype) == "multipart/form-data":
        return settings.max_file_bytes + MULTIPART_OVERHEAD, "max_file_bytes"
    return settings.max_request_bytes, "max_request_bytes"


def too_large_message(size: str, limit: int, setting: str) -> str:
    return f"the request body is {size}, over the {human_size(limit)} limit ({setting})"


class RequestGuard:
    """ASGI middleware: size and content-type checks of request bodies (see the module).

    The content type is checked when the route first reads the body: by then the router
    has put the route in the scope, so the check knows what the route reads."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self._kinds: dict[int, BodyKind] = {}

    def kind_of(self, route: object) -> BodyKind:
        if not isinstance(route, BaseRoute):
            return "any"
        kind = self._kinds.get(id(route))
        if kind is None:
            kind = self._kinds[id(route)] = body_kind(route)
        return kind

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        ctype = headers.get("content-type", "")
        limit, setting = body_limit(self.settings, scope["path"], ctype)
        declared = headers.get("content-length")
        if declared is not None:
            if not declared.strip().isdigit():
                await self._refuse(scope, receive, send, 400,
                                   f"the Content-Length header {declared[:40]!r} is not a number")
                return
            if int(declared) > limit:
                await self._refuse(scope, receive, send, 413, too_large_message(
                    human_size(int(declared)), limit, setting))
                return
        checked = False
        total = 0

        async def guarded_receive() -> Message:
            nonlocal checked, total
            if not checked:
                checked = True
                route = scope.get("route")
                problem = (route_problem(route, self.kind_of(route), ctype)
                           if isinstance(route, BaseRoute) else None)
                if problem is not None:
                    raise HTTPException(415, problem)
            message = await receive()
            if message["type"] == "http.request":
                total += len(message.get("body", b""))
                if total > limit:
                    raise HTTPException(413, too_large_message(
                        f"over {human_size(limit)}", limit, setting))
            return message

        await self.app(scope, guarded_receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, status: int,
                      message: str) -> None:
        from warding.web.errors import error_response  # errors imports the templates

        response = error_response(Request(scope, receive), status, message)
        response.headers["Connection"] = "close"  # the unread body is not kept
        await response(scope, receive, send)
