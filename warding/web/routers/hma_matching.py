"""HMA's matcher: ``/m/lookup``, ``/m/raw_lookup``, ``/m/compare``, ``/m/index/status``.

Shapes as HMA's ``OpenMediaMatch/blueprints/matching.py``:

- ``GET /m/raw_lookup?signal_type=&signal=[&include_distance=true][&banks=A,B]`` →
  ``{"matches": [content ids]}`` or ``{"matches": [{"bank_content_id", "distance"}]}``;
  as in HMA, disabled banks and entries' banks of any ratio are searched.
- ``GET /m/lookup?signal_type=&signal=[&banks=A,B][&seed=][&bypass_coinflip=true]`` →
  ``{bank: [{"bank_content_id", "distance"}]}``; ``GET /m/lookup?url=…`` hashes the URL
  first (URL fetching on) → ``{signal_type: {bank: [...]}}``; ``POST /m/lookup`` does the
  same for an uploaded file. A bank takes part when its ``matching_enabled_ratio`` is at
  least a coin flip (seeded by ``seed``; ``bypass_coinflip`` makes it 0), as in HMA.
- ``POST /m/compare`` ``{signal_type: [hash, hash]}`` → ``{signal_type: [match, {"distance"}]}``.
- ``GET /m/index/status[?signal_type=]`` → ``{signal_type: {"present", "built_to", "size"}}``.

``distance`` is a string, as in HMA. ``include_labels=true`` adds each entry's ``labels``
and ``provenance`` (Warding's) to every match.
"""

from __future__ import annotations

import json
import random
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from warding.accounts.service import UserView
from warding.matching.service import MatchEngine, MatchResult, get_core, get_engine
from warding.web.deps import WardingDep, get_warding
from warding.web.hma import (
    authenticate,
    bad_request,
    hma_user,
    parse_bool,
    query_list,
    require_role,
)
from warding.web.hma_media import as_warding, hash_upload, hash_url, hma_name, warding_name

router = APIRouter(prefix="/m", tags=["HMA matcher"])

Matcher = Annotated[UserView, Depends(hma_user("match", "matcher"))]
ERRORS: dict[int | str, dict[str, Any]] = {400: {"description": "Bad input (the message says which)"},
          403: {"description": "Not allowed, or a role or URL fetching is off"}}


def _match_json(r: MatchResult, labels: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"bank_content_id": r.entry_id, "distance": str(r.distance)}
    if labels:
        out["labels"], out["provenance"] = r.labels, r.provenance
    return out


def _query(engine: MatchEngine, signal_type: str | None, signal: str | None) -> tuple[str, str]:
    if not signal_type:
        raise bad_request("signal_type is required")
    if signal is None:
        raise bad_request("signal is required")
    try:
        name = warding_name(signal_type)
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
    names = query_list(param)
    return set(names) if names is not None else None


def _coinflip(engine: MatchEngine, seed: str | None, bypass: bool) -> set[str]:
    """Names of the banks taking part in this lookup: HMA's matching_enabled_ratio against a
    coin flip (seeded by ``seed``), or every bank with ``bypass_coinflip``."""
    flip = 0.0 if bypass else random.Random(seed).random()
    return {b.name for b in engine.core.banks.values()
            if (b.match_ratio if b.enabled else 0.0) >= flip}


def _by_bank(results: list[MatchResult], labels: bool,
             taking_part: set[str] | None) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for r in results:
        if taking_part is None or r.bank in taking_part:
            out.setdefault(r.bank, []).append(_match_json(r, labels))
    return out


def _lookup_hashes(engine: MatchEngine, hashes: dict[str, str], banks: set[str] | None,
                   seed: str | None, bypass: bool, labels: bool) -> dict[str, Any]:
    """``{HMA signal type: {bank: [...]}}`` for hashes from /h (HMA names)."""
    triples = [(n, k, v) for n, k, v in as_warding(hashes) if k in engine.types]
    found = engine.lookup_many([(k, v) for _, k, v in triples], banks=banks,
                               include_disabled=True)
    taking_part = _coinflip(engine, seed, bypass)
    return {n: _by_bank(rs, labels, taking_part)
            for (n, _, _), rs in zip(triples, found, strict=True)}


# The two GET lookups are the hot path (thousands of requests a second): plain Starlette
# endpoints, without FastAPI's dependency resolution and response encoding, which cost
# more than the lookup itself. Their OpenAPI entries are added by hma_meta.
def _json_response(body: Any) -> Response:
    return Response(json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode(),
                    media_type="application/json")


async def raw_lookup(request: Request) -> Response:
    """Content ids within the threshold of a hash, in every bank (enabled or not)."""
    w = get_warding(request)
    require_role(w, "matcher")
    await authenticate(request, "match")
    q = request.query_params
    engine = get_engine(w)
    query = _query(engine, q.get("signal_type"), q.get("signal"))
    (results,) = engine.lookup_many([query], banks=_banks(q.get("banks")),
                                    include_disabled=True)
    labels = parse_bool(q.get("include_labels"), "include_labels")
    if parse_bool(q.get("include_distance"), "include_distance"):
        return _json_response({"matches": [_match_json(r, labels) for r in results]})
    return _json_response({"matches": [r.entry_id for r in results]})


async def lookup_get(request: Request) -> Response:
    """Matching banks of a hash (``{bank: [{bank_content_id, distance}]}``), or of the
    content at ``url`` (``{signal_type: {bank: [...]}}``)."""
    w = get_warding(request)
    require_role(w, "matcher")
    q = request.query_params
    url = q.get("url")
    if url:
        require_role(w, "hasher")
    await authenticate(request, "match")
    labels = parse_bool(q.get("include_labels"), "include_labels")
    bypass = parse_bool(q.get("bypass_coinflip"), "bypass_coinflip")
    banks = _banks(q.get("banks"))
    engine = get_engine(w)
    if url:
        hashes = await hash_url(request, w, url, q.get("content_type"), q.get("types"))
        out = _lookup_hashes(engine, hashes, banks, q.get("seed"), bypass, labels)
        selected = q.get("signal_type")
        return _json_response(out.get(selected, {}) if selected else out)
    signal, signal_type = q.get("signal"), q.get("signal_type")
    if not signal or not signal_type:
        raise bad_request("Either url or both signal and signal_type are required")
    query = _query(engine, signal_type, signal)
    (results,) = engine.lookup_many([query], banks=banks, include_disabled=True)
    return _json_response(_by_bank(results, labels, _coinflip(engine, q.get("seed"), bypass)))


router.add_route(router.prefix + "/raw_lookup", raw_lookup, methods=["GET"],
                 include_in_schema=False)
router.add_route(router.prefix + "/lookup", lookup_get, methods=["GET"], include_in_schema=False)


@router.post("/lookup", responses=ERRORS)
async def lookup_post(request: Request, w: WardingDep, user: Matcher,
                      banks: str | None = None, seed: str | None = None,
                      bypass_coinflip: str | None = None, types: str | None = None,
                      include_labels: str | None = None) -> dict[str, Any]:
    """Hash an uploaded file (field ``photo`` or ``video``) and look every hash up:
    ``{signal_type: {bank: [...]}}``."""
    require_role(w, "hasher")
    async with request.form() as form:
        hashes = await hash_upload(w, form, query_list(types))
    return _lookup_hashes(get_engine(w), hashes, _banks(banks), seed,
                          parse_bool(bypass_coinflip, "bypass_coinflip"),
                          parse_bool(include_labels, "include_labels"))


@router.post("/compare", responses=ERRORS)
async def compare(request: Request, w: WardingDep, user: Matcher) -> dict[str, Any]:
    """Compare two hashes of a type: ``{"pdq": [h1, h2]}`` → ``{"pdq": [match, {"distance"}]}``
    (``match``: within the type's default threshold; exact types: equal)."""
    try:
        body = await request.json()
    except (ValueError, RecursionError) as exc:
        raise bad_request(f"the body is not JSON: {exc}") from exc
    if not isinstance(body, dict) or not body:
        raise bad_request("Request input was not a dict of {signal_type: [hash, hash]}")
    out: dict[str, Any] = {}
    for name, pair in body.items():
        if not isinstance(pair, list):
            raise bad_request(f"Comparison hashes for {name} was not a list")
        if len(pair) != 2 or not all(isinstance(h, str) for h in pair):
            raise bad_request("Comparison hash list length must be exactly 2")
        try:
            st = w.signal_types.get(warding_name(name))
        except ValueError as exc:
            raise bad_request(str(exc)) from exc
        if st is None:
            raise bad_request(f"No such SignalType '{name}'")
        try:
            left, right = st.validate(pair[0]), st.validate(pair[1])
        except ValueError as exc:
            raise bad_request(f"Invalid {name} hash: {exc}") from exc
        if st.match == "hamming":
            distance = (int(left, 16) ^ int(right, 16)).bit_count()
            out[name] = [distance <= st.default_threshold, {"distance": distance}]
        else:
            out[name] = [left == right, {"distance": 0 if left == right else 1}]
    return out


@router.get("/index/status", responses=ERRORS)
def index_status(w: WardingDep, user: Matcher,
                       signal_type: str | None = None) -> dict[str, Any]:
    """Per signal type (HMA's names): whether an index is present, when it was last brought
    up to date (``built_to``, a Unix time) and its size."""
    core = get_core(w)
    statuses = {hma_name(s.signal_type): s for s in core.status()}
    if signal_type is not None:
        try:
            name = hma_name(warding_name(signal_type))
        except ValueError as exc:
            raise bad_request(str(exc)) from exc
        if name not in statuses:
            raise bad_request(f"No such signal type '{signal_type}'")
        statuses = {name: statuses[name]}
    return {name: {"present": s.present and s.size > 0,
                   "built_to": int(s.built_to) if s.present and s.size > 0 else -1,
                   "size": s.size} for name, s in statuses.items()}
