"""Errors become JSON ``{"detail": ...}`` for the API and a plain HTML page for the console.
Never a traceback."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, RedirectResponse, Response

from warding.classify.base import ModelMissing
from warding.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    TooLarge,
    WardingError,
)
from warding.web.deps import NotAuthenticated
from warding.web.templating import render

log = logging.getLogger("warding.web")

JSON_PREFIXES = ("/api/", "/media/", "/h/", "/m/", "/c/")
HMA_PREFIXES = ("/h/", "/m/", "/c/")  # HMA's errors say {"message": ...}: both keys are sent
JSON_PATHS = frozenset({"/api", "/status", "/openapi.json"})

TITLES = {400: "Bad request", 401: "Not logged in", 403: "Not allowed", 404: "Not found",
          405: "Method not allowed", 409: "Conflict", 413: "Too large",
          415: "Unsupported content type", 422: "Invalid input", 429: "Too many attempts",
          500: "Server error", 503: "Unavailable"}
#: Validation errors that say the body could not be decoded at all (400, not 422).
UNDECODABLE = frozenset({"json_invalid"})


def wants_json(request: Request) -> bool:
    path = request.url.path
    return path in JSON_PATHS or path.startswith(JSON_PREFIXES)


def status_for(exc: WardingError) -> int:
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, TooLarge):
        return 413
    if isinstance(exc, InvalidInput):
        return 422
    if isinstance(exc, PermissionDenied):
        return 403
    if isinstance(exc, Conflict):
        return 409
    return 400


def _json_error(request: Request, message: str) -> dict[str, str]:
    if request.url.path.startswith(HMA_PREFIXES):
        return {"detail": message, "message": message}
    return {"detail": message}


def error_response(request: Request, status: int, message: str) -> Response:
    if wants_json(request):
        return JSONResponse(_json_error(request, message), status_code=status)
    return render(request, "error.html",
                  {"status": status, "title": TITLES.get(status, "Error"), "message": message},
                  status_code=status)


async def _warding_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, WardingError)
    return error_response(request, status_for(exc), str(exc))


async def _model_missing(request: Request, exc: Exception) -> Response:
    return error_response(request, 503, f"the classifier is not available: {exc}")


async def _not_authenticated(request: Request, exc: Exception) -> Response:
    if wants_json(request):
        return JSONResponse(_json_error(request, f"not authenticated: {exc}"), status_code=401,
                            headers={"WWW-Authenticate": "Bearer"})
    target = request.url.path
    if request.method == "GET" and request.url.query:
        target += "?" + request.url.query
    return RedirectResponse(f"/login?next={quote(target, safe='/')}", status_code=303)


def _body_parse_reason(exc: StarletteHTTPException) -> StarletteHTTPException:
    """FastAPI's "There was an error parsing the body" with the reason (e.g. not UTF-8)."""
    cause = exc.__cause__
    if exc.status_code != 400 or cause is None or not isinstance(exc.detail, str) \
            or not exc.detail.startswith("There was an error parsing the body"):
        return exc
    if isinstance(cause, UnicodeDecodeError):
        reason = f"the body is not valid JSON: it is not UTF-8 ({cause.reason} at byte {cause.start})"
    elif isinstance(cause, RecursionError):
        reason = "the body is not valid JSON: it is nested too deeply"
    else:
        reason = f"the body could not be read: {str(cause)[:200] or type(cause).__name__}"
    return StarletteHTTPException(400, reason, headers=exc.headers)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    exc = _body_parse_reason(exc)
    if wants_json(request):
        if request.url.path.startswith(HMA_PREFIXES) and isinstance(exc.detail, str):
            return JSONResponse(_json_error(request, exc.detail), status_code=exc.status_code,
                                headers=exc.headers)
        return await http_exception_handler(request, exc)
    detail = exc.detail if isinstance(exc.detail, str) else TITLES.get(exc.status_code, "Error")
    response = error_response(request, exc.status_code, detail)
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    return response


def _problem(err: Any) -> str:
    """One validation error as "field: reason" (never the input: it may be bytes or a secret)."""
    if not isinstance(err, dict):
        return "invalid request"
    if err.get("type") in UNDECODABLE:
        reason = (err.get("ctx") or {}).get("error")
        return f"the body is not valid JSON: {reason}" if reason else "the body is not valid JSON"
    where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path"))
    msg = str(err.get("msg") or "invalid")
    return f"{where}: {msg}" if where else msg


def _field_errors(errors: Sequence[Any]) -> list[dict[str, Any]]:
    """FastAPI's error list without ``input`` and ``ctx`` (bytes, secrets), JSON-safe."""
    out = []
    for err in errors:
        if isinstance(err, dict):
            out.append({"loc": [p if isinstance(p, int) else str(p) for p in err.get("loc", ())],
                        "msg": str(err.get("msg") or "invalid"), "type": str(err.get("type"))})
    return out


def _content_type_problem(request: Request) -> str | None:
    from warding.web.request_guard import body_kind, content_type_problem

    route = request.scope.get("route")
    ctype = request.headers.get("content-type", "")
    if route is None or not ctype:
        return None
    return content_type_problem(body_kind(route), ctype)


async def _validation_error(request: Request, exc: Exception) -> Response:
    """400 for a body that cannot be decoded, else 422 naming each field and its problem
    (HMA's routes answer bad input with 400, as HMA does)."""
    assert isinstance(exc, RequestValidationError)
    wrong_type = _content_type_problem(request)
    if wrong_type is not None:  # a form route that never read its JSON body, and so on
        return error_response(request, 415, wrong_type)
    errors = list(exc.errors())
    undecodable = any(isinstance(e, dict) and e.get("type") in UNDECODABLE for e in errors)
    hma = request.url.path.startswith(HMA_PREFIXES)
    status = 400 if (hma or undecodable) else 422
    message = "; ".join(dict.fromkeys(_problem(e) for e in errors)) or "invalid request"
    if wants_json(request):
        body: dict[str, Any] = _json_error(request, message)
        body["errors"] = _field_errors(errors)
        return JSONResponse(body, status_code=status)
    return error_response(request, status, message)


async def _out_of_range(request: Request, exc: Exception) -> Response:
    """A number too large for the database (e.g. an id of 30 digits): invalid input."""
    return error_response(request, 422, f"a number in the request is out of range: {exc}")


async def _data_error(request: Request, exc: Exception) -> Response:
    """A value the database refuses (PostgreSQL: an integer out of range, a NUL character):
    invalid input, named without the SQL."""
    orig = getattr(exc, "orig", None)
    reason = str(orig).splitlines()[0] if orig is not None else "invalid value"
    return error_response(request, 422, f"a value in the request cannot be stored: {reason}")


async def _server_error(request: Request, exc: Exception) -> Response:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(request, 500, "something went wrong; the error has been logged")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(WardingError, _warding_error)
    app.add_exception_handler(ModelMissing, _model_missing)
    app.add_exception_handler(NotAuthenticated, _not_authenticated)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(OverflowError, _out_of_range)
    app.add_exception_handler(DataError, _data_error)
    app.add_exception_handler(Exception, _server_error)
