"""HMA's service endpoints: ``/status/live``, ``/site-map``, and HMA's OpenAPI document at
``/openapi/openapi.json`` (the HMA-compatible part of Warding's, titled as HMA's).

``/status`` itself is in ``status``. The two hot-path lookups of ``hma_matching`` are
plain Starlette routes; :func:`install_openapi` adds their entries to both documents.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse

router = APIRouter(tags=["HMA service"])

HMA_TITLE = "Open Media Match API"
HMA_PATHS = ("/h/", "/m/", "/c/", "/status", "/site-map")


@router.get("/status/live", response_class=PlainTextResponse,
            responses={200: {"content": {"text/plain": {"example": "I-AM-ALIVE"}}}})
def live() -> PlainTextResponse:
    """Liveness: 200 ``I-AM-ALIVE`` whenever the process serves HTTP, whatever the index
    state (for restart probes; ``/status`` is the readiness check)."""
    return PlainTextResponse("I-AM-ALIVE")


@router.get("/site-map")
def site_map(request: Request) -> list[str]:
    """Every path of the API, sorted (HMA's site map; the console's pages are in
    docs/console.md)."""
    return sorted(request.app.openapi().get("paths", {}))


@router.get("/openapi/openapi.json", include_in_schema=False)
def hma_openapi(request: Request) -> JSONResponse:
    """HMA's OpenAPI document: the HMA-compatible paths of Warding's, titled as HMA's."""
    full: dict[str, Any] = request.app.openapi()
    doc = dict(full)
    doc["info"] = {**full.get("info", {}), "title": HMA_TITLE,
                   "description": "The HMA-compatible API of Warding (see docs/api.md)."}
    doc["paths"] = {p: v for p, v in full.get("paths", {}).items() if p.startswith(HMA_PATHS)}
    return JSONResponse(doc)


def _param(name: str, description: str, required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "description": description,
            "schema": {"type": "string"}}


def _raw_route_docs() -> dict[str, dict[str, Any]]:
    common = [_param("signal_type", "pdq, video_md5 (md5), sha256, …"),
              _param("signal", "the hash"),
              _param("banks", "comma-separated bank names to search"),
              _param("include_labels", "true: add labels and provenance to each match")]
    errors = {"400": {"description": "Bad input (the message says which)"},
              "401": {"description": "No key (outside HMA-compatible mode's networks)"},
              "403": {"description": "Not allowed, or a role or URL fetching is off"}}
    ok = {"description": "Matches", "content": {"application/json": {"schema": {
        "type": "object"}}}}
    return {
        "/m/raw_lookup": {"get": {
            "tags": ["HMA matcher"], "summary": "Raw lookup", "security": [{"api_key": []}],
            "description": "Content ids within the threshold of a hash, in every bank: "
                           "`{\"matches\": [ids]}`, or with `include_distance=true` "
                           "`{\"matches\": [{\"bank_content_id\", \"distance\"}]}`.",
            "parameters": [*common, _param("include_distance", "true: ids with distances")],
            "responses": {"200": ok, **errors}}},
        "/m/lookup": {"get": {
            "tags": ["HMA matcher"], "summary": "Lookup", "security": [{"api_key": []}],
            "description": "Matching banks of a hash (`{bank: [{bank_content_id, "
                           "distance}]}`), or of the content at `url` (`{signal_type: {bank: "
                           "[...]}}`; needs WARDING_URL_FETCH). Banks take part by their "
                           "matching_enabled_ratio against a coin flip.",
            "parameters": [*common, _param("url", "content to download and hash"),
                           _param("content_type", "photo or video (for url)"),
                           _param("types", "signal types to compute (for url)"),
                           _param("seed", "seeds the coin flip"),
                           _param("bypass_coinflip", "true: every bank takes part")],
            "responses": {"200": ok, **errors}}},
    }


def install_openapi(app: FastAPI) -> None:
    """Add the plain Starlette HMA routes to the app's OpenAPI document."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        schema = build()  # built once, then cached by FastAPI: adding again changes nothing
        for path, item in _raw_route_docs().items():
            schema.setdefault("paths", {}).setdefault(path, {}).update(item)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
