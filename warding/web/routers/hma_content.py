"""HMA's curator, bank content: ``/c/bank/<name>/content[/<id>]`` and
``/c/bank/<name>/signal``.

Content is a Warding bank entry, shown as HMA's ``{"id", "disable_until_ts",
"collab_metadata", "original_media_uri", "bank"}``, plus ``"signals"`` with
``include_signals=true``, ``"metadata"`` when some was given (unless
``include_metadata=false``), ``"note"`` when there is one, and Warding's ``"labels"`` and
``"provenance"`` with ``include_labels=true``. ``disable_until_ts`` is HMA's: 0 disabled,
1 enabled, or a Unix time until which the entry is disabled (the server enables it again
after that time). Adding the same content twice makes two entries, as in HMA.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from warding.accounts.service import UserView
from warding.app import Warding
from warding.banks.curation import remove_entries, set_entry_enabled, set_entry_note
from warding.banks.records import EntryRecord
from warding.banks.service import add_records, joined
from warding.db.models import Bank, BankEntry, BankSignal
from warding.signals.base import SignalType
from warding.web.deps import SessionDep, WardingDep
from warding.web.hma import bad_request, hma_user, parse_bool, query_list, require_role
from warding.web.hma_media import as_warding, hash_upload, hash_url, hma_name
from warding.web.routers.hma_curation import bank_json, find_bank, json_object

router = APIRouter(prefix="/c", tags=["HMA curator"])

Viewer = Annotated[UserView, Depends(hma_user("view_banks", "curator"))]
Manager = Annotated[UserView, Depends(hma_user("manage_banks", "curator"))]
ENABLED, DISABLED = 1, 0
NOTE_MAX = 255
METADATA_KEYS = frozenset({"content_id", "content_uri", "json"})
FIVE_YEARS = 5 * 365 * 24 * 3600
ERRORS: dict[int | str, dict[str, Any]] = {400: {"description": "Bad input (the message says which)"},
          403: {"description": "Not allowed, or a role or URL fetching is off"},
          404: {"description": "No such bank or content"}}


def _disable_until_ts(entry: BankEntry) -> int:
    if entry.disabled_until is not None:
        return int(entry.disabled_until)
    return ENABLED if entry.enabled else DISABLED


def content_json(session: Session, bank: Bank, entry: BankEntry, *, signals: bool = False,
                 metadata: bool = True, labels: bool = False,
                 types: Mapping[str, SignalType] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": entry.id,
        "disable_until_ts": _disable_until_ts(entry),
        "collab_metadata": {},
        "original_media_uri": None,
        "bank": bank_json(bank),
    }
    if signals:
        rows = session.execute(select(BankSignal.signal_type, BankSignal.value)
                               .where(BankSignal.entry_id == entry.id)
                               .order_by(BankSignal.id)).all()
        if rows:
            # a video's frames as one vPDQ value (threatexchange's JSON)
            out["signals"] = {hma_name(t): v for t, v in joined([(t, v) for t, v in rows],
                                                                   types or {})}
    if metadata and entry.hma_metadata:
        out["metadata"] = entry.hma_metadata
    if entry.note:
        out["note"] = entry.note
    if labels:
        out["labels"], out["provenance"] = dict(entry.labels or {}), entry.provenance
    return out


def _entry(session: Session, bank: Bank, content_id: int) -> BankEntry:
    entry = session.get(BankEntry, content_id)
    if entry is None or entry.bank_id != bank.id:
        raise HTTPException(404, f"content '{content_id}' not found")
    return entry


def _note(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise bad_request("note must be a string")
    if len(value) > NOTE_MAX:
        raise bad_request(f"note is {len(value)} characters, over the {NOTE_MAX} allowed")
    return value


def _metadata(value: Any) -> dict[str, Any] | None:
    """HMA's content metadata: an object with only content_id, content_uri and json."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value) if value else None
        except ValueError as exc:
            raise bad_request(f"metadata should be a json object: {exc}") from exc
        if value is None:
            return None
    if not isinstance(value, dict):
        raise bad_request("metadata should be a json object")
    unexpected = sorted(set(value) - METADATA_KEYS)
    if unexpected:
        raise bad_request(f"metadata contains unexpected keys: {', '.join(unexpected)} "
                          f"(allowed: {', '.join(sorted(METADATA_KEYS))})")
    for key in ("content_id", "content_uri"):
        if value.get(key) is not None and not isinstance(value[key], str):
            raise bad_request(f"metadata {key} must be a string")
    if value.get("json") is not None and not isinstance(value["json"], dict):
        raise bad_request("metadata json must be a json object")
    return {k: v for k, v in value.items() if v is not None}


@router.get("/bank/{bank_name}/content/{content_id}", responses=ERRORS)
def content_show(bank_name: str, content_id: int, session: SessionDep, user: Viewer,
                 w: WardingDep, include_signals: str | None = None,
                 include_metadata: str | None = None,
                 include_labels: str | None = None) -> dict[str, Any]:
    bank = find_bank(session, bank_name)
    entry = _entry(session, bank, content_id)
    return content_json(session, bank, entry, types=w.signal_types,
                        signals=parse_bool(include_signals, "include_signals"),
                        metadata=parse_bool(include_metadata, "include_metadata", True),
                        labels=parse_bool(include_labels, "include_labels"))


@router.put("/bank/{bank_name}/content/{content_id}", responses=ERRORS)
async def content_update(bank_name: str, content_id: int, request: Request, w: WardingDep,
                         user: Manager) -> dict[str, Any]:
    """``{"disable_until_ts"?, "note"?}``: 0 disables, 1 enables, a Unix time (at most five
    years ahead) disables until then; a note of "" removes it."""
    body = await json_object(request)
    return await run_in_threadpool(_update, w, bank_name, content_id, body, user)


def _update(w: Warding, bank_name: str, content_id: int, body: dict[str, Any],
            user: UserView) -> dict[str, Any]:
    with w.transaction() as session:
        bank = find_bank(session, bank_name)
        entry = _entry(session, bank, content_id)
        if "disable_until_ts" in body:
            raw = body["disable_until_ts"]
            try:
                ts = int(raw)
            except (TypeError, ValueError) as exc:
                raise bad_request(f"Invalid int: '{raw}'") from exc
            if isinstance(raw, bool) or ts < 0:
                raise bad_request("disable_until_ts must be a non-negative integer")
            if ts > time.time() + FIVE_YEARS:
                raise bad_request("disable_until_ts must be less than 5 years in the future")
            if ts in (ENABLED, DISABLED):
                entry = set_entry_enabled(session, bank_name, content_id, ts == ENABLED,
                                          actor=user.username, disabled_until=None)
            else:
                entry = set_entry_enabled(session, bank_name, content_id, ts <= time.time(),
                                          actor=user.username, disabled_until=float(ts))
        if "note" in body:
            entry = set_entry_note(session, bank_name, content_id, _note(body["note"]),
                                   actor=user.username)
        return content_json(session, bank, entry)


@router.delete("/bank/{bank_name}/content/{content_id}", responses=ERRORS)
def content_delete(bank_name: str, content_id: int, session: SessionDep,
                   user: Manager) -> dict[str, int]:
    find_bank(session, bank_name)
    return {"deleted": remove_entries(session, bank_name, [content_id], actor=user.username,
                                      how="hma")}


def _add(w: Warding, bank_name: str, hashes: dict[str, Any], *, user: UserView,
         note: str = "", metadata: dict[str, Any] | None = None,
         labels: dict[str, Any] | None = None, provenance: str) -> dict[str, Any]:
    if not hashes:
        raise bad_request("No signals given")
    types = w.signal_types
    checked: list[tuple[str, str, str]] = []
    for name, value in hashes.items():
        if not isinstance(value, str):
            raise bad_request(f"Invalid {name} signal: not a string")
    try:
        triples = as_warding(hashes)
    except ValueError as exc:
        raise bad_request(str(exc)) from exc
    for name, kind, value in triples:
        if kind not in types:
            raise bad_request(f"No such signal type {name}")
        try:
            checked.append((name, kind, types[kind].validate(value)))
        except ValueError as exc:
            raise bad_request(f"Invalid {name} signal: {exc}") from exc
    with w.transaction() as session:
        bank = find_bank(session, bank_name)
        record = EntryRecord(signals=[(k, v) for _, k, v in checked], labels=labels or {},
                             provenance=provenance, note=note, metadata=metadata,
                             ref="request")
        summary = add_records(session, bank, [record], types, actor=user.username, how="hma",
                              keep_repeats=True)
    if not summary.entry_ids:
        reason = summary.errors[0]["reason"] if summary.errors else "nothing to add"
        raise bad_request(f"the content was not added: {reason}")
    return {"id": summary.entry_ids[0], "signals": {n: v for n, _, v in checked}}


@router.post("/bank/{bank_name}/content", responses=ERRORS)
async def content_add(bank_name: str, request: Request, w: WardingDep, user: Manager,
                      url: str | None = None, content_type: str | None = None,
                      types: str | None = None) -> dict[str, Any]:
    """Bank the content at ``url`` (URL fetching on; JSON body ``{"metadata"?, "note"?}``)
    or an uploaded file (multipart field ``photo`` or ``video``, with optional ``metadata``
    (JSON) and ``note`` fields). ``metadata`` is ``{"content_id", "content_uri", "json"}``."""
    require_role(w, "hasher")
    await run_in_threadpool(_check_bank, w, bank_name)
    ctype = request.headers.get("content-type", "")
    if url:
        body: dict[str, Any] = {}
        if ctype.startswith("application/json"):
            body = await json_object(request)
        metadata, note = _metadata(body.get("metadata")), _note(body.get("note"))
        hashes = await hash_url(request, w, url, content_type, types)
        provenance = f"hma:url:{url}"[:1000]
    elif ctype.startswith("multipart/form-data"):
        async with request.form() as form:
            metadata, note = _metadata(form.get("metadata")), _note(form.get("note"))
            hashes = await hash_upload(w, form, query_list(types))
        provenance = "hma:upload"
    else:
        raise bad_request("Neither `url` nor multipart file upload was received")
    return await run_in_threadpool(partial(_add, w, bank_name, hashes, user=user, note=note,
                                           metadata=metadata, provenance=provenance))


def _check_bank(w: Warding, bank_name: str) -> None:
    with w.transaction() as session:
        find_bank(session, bank_name)


@router.post("/bank/{bank_name}/signal", responses=ERRORS)
async def signal_add(bank_name: str, request: Request, w: WardingDep,
                     user: Manager) -> dict[str, Any]:
    """Bank hashes directly: ``{signal_type: value, ..., "note"?}``. Warding also reads
    optional ``labels`` (an object) and ``provenance`` (a string) from the same body."""
    body = await json_object(request)
    await run_in_threadpool(_check_bank, w, bank_name)
    note = _note(body.pop("note", None))
    labels = body.pop("labels", None) or {}
    provenance = body.pop("provenance", None) or "hma:signal"
    if not isinstance(labels, dict) or not isinstance(provenance, str):
        raise bad_request("labels must be an object and provenance a string")
    return await run_in_threadpool(partial(_add, w, bank_name, body, user=user, note=note,
                                           labels=labels, provenance=provenance))
