"""Liveness and readiness: no authentication, no database.

``/status`` answers 200 when the server is up and its match index is ready, and 503 while
the index is loading or when it has not been refreshed for a minute (HMA's ``/status``:
load balancers route by the status code). JSON by default; a client that asks for
``text/plain`` gets HMA's bodies, ``I-AM-ALIVE``, ``INDEX-NOT-LOADED`` or ``INDEX-STALE``.
In HMA-compatible mode (WARDING_HMA_COMPATIBLE) the plain bodies are the default, as in
HMA, and JSON is sent to clients that ask for ``application/json``.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from warding import __version__
from warding.web.schemas import StatusOut

router = APIRouter(tags=["status"])


@router.get("/status", response_model=StatusOut,
            responses={503: {"model": StatusOut, "description": "Match index loading or stale"}})
def status(request: Request) -> Response:
    keeper = getattr(request.app.state, "index_keeper", None)
    index = keeper.status() if keeper is not None else None
    healthy = index is None or index["state"] == "ready"
    accept = request.headers.get("accept", "")
    hma_mode = request.app.state.warding.settings.hma_compatible
    if "json" not in accept and ("text/plain" in accept or hma_mode):
        text = ("I-AM-ALIVE" if healthy else
                "INDEX-NOT-LOADED" if index and index["state"] == "loading" else "INDEX-STALE")
        return PlainTextResponse(text, status_code=200 if healthy else 503)
    body = StatusOut(status="ok" if healthy else f"index-{index['state'] if index else ''}",
                     version=__version__, index=index)
    return JSONResponse(body.model_dump(exclude_none=True), status_code=200 if healthy else 503)
