"""Errors become JSON ``{"detail": ...}`` for the API and a plain HTML page for the console.
Never a traceback."""

from __future__ import annotations

import logging
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
)
from fastapi.exceptions import RequestValidationError
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
          405: "Method not allowed", 409: "Conflict", 413: "Too large", 422: "Invalid input",
          500: "Server error", 503: "Unavailable"}


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


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
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


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    hma = request.url.path.startswith(HMA_PREFIXES)  # HMA answers bad input with 400
    if wants_json(request) and not hma:
        return await request_validation_exception_handler(request, exc)
    problems = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path"))
        problems.append(f"{where}: {err.get('msg', 'invalid')}" if where else str(err.get("msg")))
    return error_response(request, 400 if hma else 422, "; ".join(problems) or "invalid request")


async def _server_error(request: Request, exc: Exception) -> Response:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(request, 500, "something went wrong; the error has been logged")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(WardingError, _warding_error)
    app.add_exception_handler(ModelMissing, _model_missing)
    app.add_exception_handler(NotAuthenticated, _not_authenticated)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _server_error)
