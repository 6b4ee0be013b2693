"""HMA's matcher: ``/m/lookup``, ``/m/raw_lookup``, ``/m/index/status``.

Shapes as HMA's ``OpenMediaMatch/blueprints/matching.py``:

- ``GET /m/raw_lookup?signal_type=&signal=[&include_distance=true][&banks=A,B]`` →
  ``{"matches": [content ids]}`` or ``{"matches": [{"bank_content_id", "distance"}]}``;
  as in HMA, disabled banks are searched too.
- ``GET /m/lookup?signal_type=&signal=[&banks=A,B]`` → ``{bank: [{"bank_content_id",
  "distance"}]}`` over enabled banks; ``POST /m/lookup`` with a file →
  ``{signal_type: {bank: [...]}}``.
- ``GET /m/index/status[?signal_type=]`` → ``{signal_type: {"present", "built_to", "size"}}``.

``distance`` is a string, as in HMA. Each match also carries the entry's ``labels`` and
``provenance`` (an HMA users' request); HMA clients ignore the extra keys.
"""

from __future__ import annotations

from typing import Annotated, Any

import json

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from warding.accounts.service import UserView
from warding.banks.sources import signal_type_for
from warding.matching.service import MatchEngine, MatchResult, get_core, get_engine
from warding.web.deps import WardingDep, get_warding
from warding.web.hma import bad_request, hash_upload, hma_user, no_url_fetching, parse_bool

router = APIRouter(prefix="/m", tags=["HMA matcher"])

Matcher = Annotated[UserView, Depends(hma_user("match"))]


def _match_json(r: MatchResult) -> dict[str, Any]:
    return {"bank_content_id": r.entry_id, "distance": str(r.distance), "labels": r.labels,
            "provenance": r.provenance}


def _query(engine: MatchEngine, signal_type: str | None, signal: str | None) -> tuple[str, str]:
    if not signal_type:
        raise bad_request("signal_type is required")
    if signal is None:
        raise bad_request("signal is required")
    try:
        name = signal_type_for(signal_type)
    except ValueError as exc:
        raise bad_request(str(exc)) from exc
    st = engine.types.get(name)
    if st is None:
        raise bad_request(f"No such SignalType '{signal_type}'")
    try:
        return name, st.validate(signal)
    except ValueError as exc:
        raise bad_request(f"invalid signal: {exc}") from exc


def _banks(param: str | None) -> set[str] | None:
    return {b.strip() for b in param.split(",") if b.strip()} if param else None


def _by_bank(results: list[MatchResult]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for r in results:
        out.setdefault(r.bank, []).append(_match_json(r))
    return out


# The two GET lookups are the hot path (thousands of requests a second): plain Starlette
# endpoints, without FastAPI's dependency resolution and response encoding, which cost
# more than the lookup itself. They are documented in docs/api.md.
_match_auth = hma_user("match")


def _json_response(body: Any) -> Response:
    return Response(json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode(),
                    media_type="application/json")


async def raw_lookup(request: Request) -> Response:
    """Content ids within the threshold of a hash, in every bank (enabled or not)."""
    await _match_auth(request)
    q = request.query_params
    engine = get_engine(get_warding(request))
    query = _query(engine, q.get("signal_type"), q.get("signal"))
    (results,) = engine.lookup_many([query], banks=_banks(q.get("banks")),
                                    include_disabled=True)
    if parse_bool(q.get("include_distance"), "include_distance"):
        return _json_response({"matches": [_match_json(r) for r in results]})
    return _json_response({"matches": [r.entry_id for r in results]})


async def lookup_get(request: Request) -> Response:
    """Matching banks of a hash: ``{bank: [{bank_content_id, distance, labels, provenance}]}``.
    Warding banks are enabled or disabled (HMA's ratio 1 or 0), so ``seed`` and
    ``bypass_coinflip`` change nothing."""
    await _match_auth(request)
    q = request.query_params
    if q.get("url"):
        raise no_url_fetching()
    signal, signal_type = q.get("signal"), q.get("signal_type")
    if not signal or not signal_type:
        raise bad_request("Either url or both signal and signal_type are required")
    engine = get_engine(get_warding(request))
    query = _query(engine, signal_type, signal)
    (results,) = engine.lookup_many([query], banks=_banks(q.get("banks")))
    return _json_response(_by_bank(results))


router.add_route(router.prefix + "/raw_lookup", raw_lookup, methods=["GET"], include_in_schema=False)
router.add_route(router.prefix + "/lookup", lookup_get, methods=["GET"], include_in_schema=False)


@router.post("/lookup")
async def lookup_post(request: Request, w: WardingDep, user: Matcher,
                      banks: str | None = None) -> dict[str, Any]:
    """Hash an uploaded file (field ``photo`` or ``video``) and look every signal up:
    ``{signal_type: {bank: [...]}}``."""
    hashes = await hash_upload(w, request)
    engine = get_engine(w)
    names = [n for n in hashes if n in engine.types]
    found = engine.lookup_many([(n, hashes[n]) for n in names], banks=_banks(banks))
    out: dict[str, Any] = {n: _by_bank(rs) for n, rs in zip(names, found, strict=True)}
    if "video_md5" in hashes:
        out["video_md5"] = out.get("md5", {})
    return out


@router.get("/index/status")
async def index_status(w: WardingDep, user: Matcher,
                       signal_type: str | None = None) -> dict[str, Any]:
    """Per signal type: whether an index is present, when it was last brought up to date
    (``built_to``, a Unix time) and its size."""
    core = get_core(w)
    statuses = {s.signal_type: s for s in core.status()}
    if signal_type is not None:
        try:
            name = signal_type_for(signal_type)
        except ValueError as exc:
            raise bad_request(str(exc)) from exc
        if name not in statuses:
            raise bad_request(f"No such signal type '{signal_type}'")
        statuses = {name: statuses[name]}
    return {name: {"present": s.present and s.size > 0,
                   "built_to": int(s.built_to) if s.present and s.size > 0 else -1,
                   "size": s.size} for name, s in statuses.items()}
