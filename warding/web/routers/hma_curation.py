"""HMA's curator: ``/c/banks``, ``/c/bank/<name>``, ``/c/bank/<name>/content``,
``/c/bank/<name>/signal``.

Shapes as HMA's ``OpenMediaMatch/blueprints/curation.py``. A bank is
``{"name", "matching_enabled_ratio"}``; Warding banks are enabled (1.0) or disabled (0.0),
so any other ratio is refused. Content is a Warding bank entry:
``{"id", "disable_until_ts", "collab_metadata", "original_media_uri", "bank", "signals"?}``
plus ``labels`` and ``provenance``. ``disable_until_ts`` is HMA's 1 (enabled) or 0
(disabled); a future time disables the entry until it is enabled again (Warding does not
re-enable by itself). Every change is audited and reaches the match engines through the
change feed within a poll interval.
"""

from __future__ import annotations

import json
import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from warding.banks.curation import delete_bank, remove_entries, set_entry_enabled
from warding.banks.formats import EntryRecord
from warding.banks.service import add_records, create_bank, get_bank, update_bank
from warding.banks.sources import signal_type_for
from warding.db.models import Bank, BankEntry, BankSignal, User
from warding.errors import Conflict, InvalidInput, NotFound
from warding.web.deps import SessionDep, WardingDep, require
from warding.web.hma import bad_request, hash_form, no_url_fetching

router = APIRouter(prefix="/c", tags=["HMA curator"])

Viewer = Annotated[User, Depends(require("view_banks"))]
Manager = Annotated[User, Depends(require("manage_banks"))]
ENABLED, DISABLED = 1, 0


def _bank_json(bank: Bank) -> dict[str, Any]:
    return {"name": bank.name, "matching_enabled_ratio": 1.0 if bank.enabled else 0.0}


def _ratio(enabled_ratio: Any, enabled: Any) -> bool | None:
    if enabled_ratio is not None:
        if not isinstance(enabled_ratio, int | float) or enabled_ratio not in (0, 1):
            raise bad_request("Warding banks are enabled (enabled_ratio 1.0) or disabled (0.0)")
        return bool(enabled_ratio)
    if enabled is not None:
        return bool(enabled)
    return None


async def _json(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError as exc:
        raise bad_request(f"the body is not JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise bad_request("this endpoint expects a json object payload")
    return body


def _bank(session: Session, name: str) -> Bank:
    try:
        return get_bank(session, name)
    except NotFound as exc:
        raise HTTPException(404, f"bank '{name}' not found") from exc


@router.get("/banks")
def banks(session: SessionDep, user: Viewer) -> list[dict[str, Any]]:
    return [_bank_json(b) for b in session.execute(select(Bank).order_by(Bank.name)).scalars()]


@router.post("/banks", status_code=201)
async def bank_create(request: Request, w: WardingDep, user: Manager) -> dict[str, Any]:
    body = await _json(request)
    name = body.get("name")
    if not isinstance(name, str) or not name:
        raise bad_request("name is required")
    enabled = _ratio(body.get("enabled_ratio"), body.get("enabled"))
    with w.transaction() as session:
        try:
            bank = create_bank(session, name, actor=user.username)
        except Conflict as exc:
            raise HTTPException(403, "Bank already exists") from exc
        except InvalidInput as exc:
            raise bad_request(str(exc)) from exc
        if enabled is False:
            update_bank(session, name, actor=user.username, enabled=False)
        return _bank_json(bank)


@router.get("/bank/{bank_name}")
def bank_show(bank_name: str, session: SessionDep, user: Viewer) -> dict[str, Any]:
    return _bank_json(_bank(session, bank_name))


@router.put("/bank/{bank_name}")
async def bank_update(bank_name: str, request: Request, w: WardingDep,
                      user: Manager) -> dict[str, Any]:
    body = await _json(request)
    enabled = _ratio(body.get("enabled_ratio"), body.get("enabled"))
    new_name = body.get("name")
    if new_name is not None and not isinstance(new_name, str):
        raise bad_request("name must be a string")
    with w.transaction() as session:
        _bank(session, bank_name)
        try:
            bank = update_bank(session, bank_name, actor=user.username, enabled=enabled,
                               new_name=new_name)
        except Conflict as exc:
            raise HTTPException(403, "Bank name already exists") from exc
        except InvalidInput as exc:
            raise bad_request(str(exc)) from exc
        return _bank_json(bank)


@router.delete("/bank/{bank_name}")
def bank_delete(bank_name: str, session: SessionDep, user: Manager) -> dict[str, str]:
    _bank(session, bank_name)
    delete_bank(session, bank_name, actor=user.username)
    return {"message": "Done"}


def _content_json(session: Session, bank: Bank, entry: BankEntry,
                  include_signals: bool) -> dict[str, Any]:
    labels = dict(entry.labels or {})
    out: dict[str, Any] = {
        "id": entry.id,
        "disable_until_ts": ENABLED if entry.enabled else DISABLED,
        "collab_metadata": {k: [str(v)] if not isinstance(v, list) else [str(x) for x in v]
                            for k, v in labels.items()},
        "original_media_uri": None,
        "bank": _bank_json(bank),
        "labels": labels,
        "provenance": entry.provenance,
    }
    if include_signals:
        rows = session.execute(select(BankSignal.signal_type, BankSignal.value)
                               .where(BankSignal.entry_id == entry.id)
                               .order_by(BankSignal.id)).all()
        out["signals"] = {t: v for t, v in rows}
    return out


def _entry(session: Session, bank: Bank, content_id: int) -> BankEntry:
    entry = session.get(BankEntry, content_id)
    if entry is None or entry.bank_id != bank.id:
        raise HTTPException(404, f"content '{content_id}' not found")
    return entry


@router.get("/bank/{bank_name}/content/{content_id}")
def content_show(bank_name: str, content_id: int, session: SessionDep, user: Viewer,
                 include_signals: str = "false") -> dict[str, Any]:
    bank = _bank(session, bank_name)
    entry = _entry(session, bank, content_id)
    return _content_json(session, bank, entry, include_signals.lower() == "true")


@router.put("/bank/{bank_name}/content/{content_id}")
async def content_update(bank_name: str, content_id: int, request: Request, w: WardingDep,
                         user: Manager) -> dict[str, Any]:
    body = await _json(request)
    with w.transaction() as session:
        bank = _bank(session, bank_name)
        entry = _entry(session, bank, content_id)
        if "disable_until_ts" in body:
            try:
                ts = int(body["disable_until_ts"])
            except (TypeError, ValueError) as exc:
                raise bad_request(f"Invalid int: '{body['disable_until_ts']}'") from exc
            if ts < 0:
                raise bad_request("disable_until_ts must be a non-negative integer")
            enabled = ts == ENABLED or (ts != DISABLED and ts <= time.time())
            entry = set_entry_enabled(session, bank_name, content_id, enabled,
                                      actor=user.username)
        return _content_json(session, bank, entry, False)


@router.delete("/bank/{bank_name}/content/{content_id}")
def content_delete(bank_name: str, content_id: int, session: SessionDep,
                   user: Manager) -> dict[str, int]:
    _bank(session, bank_name)
    return {"deleted": remove_entries(session, bank_name, [content_id], actor=user.username,
                                      how="hma")}


def _add(w: Any, bank_name: str, signals: dict[str, str], labels: dict[str, Any],
         provenance: str, user: User) -> dict[str, Any]:
    if not signals:
        raise bad_request("No signals given")
    types = w.signal_types
    checked: list[tuple[str, str]] = []
    for name, value in signals.items():
        try:
            kind = signal_type_for(name)
        except ValueError as exc:
            raise bad_request(str(exc)) from exc
        if kind not in types:
            raise bad_request(f"No such signal type {name}")
        if not isinstance(value, str):
            raise bad_request(f"Invalid {name} signal: not a string")
        try:
            checked.append((kind, types[kind].validate(value)))
        except ValueError as exc:
            raise bad_request(f"Invalid {name} signal: {exc}") from exc
    checked = list(dict.fromkeys(checked))
    with w.transaction() as session:
        bank = _bank(session, bank_name)
        record = EntryRecord(signals=checked, labels=labels, provenance=provenance, ref="request")
        summary = add_records(session, bank, [record], types, actor=user.username, how="hma")
    if not summary.entry_ids:
        raise HTTPException(409, "these signals are already in the bank")
    return {"id": summary.entry_ids[0], "signals": {t: v for t, v in checked}}


@router.post("/bank/{bank_name}/content")
async def content_add(bank_name: str, request: Request, w: WardingDep, user: Manager,
                      url: str | None = None) -> dict[str, Any]:
    """Bank an uploaded file (multipart field ``photo`` or ``video``), with an optional
    ``metadata`` field: JSON ``{"content_id", "content_uri", "json"}`` (kept as labels)."""
    if url:
        raise no_url_fetching()
    with w.transaction() as session:
        _bank(session, bank_name)
    async with request.form() as form:
        hashes = await hash_form(w, form)
        raw = form.get("metadata")
    hashes.pop("video_md5", None)
    labels: dict[str, Any] = {}
    if isinstance(raw, str) and raw:
        try:
            meta = json.loads(raw)
        except ValueError as exc:
            raise bad_request(f"metadata should be a json object: {exc}") from exc
        if not isinstance(meta, dict) or set(meta) - {"content_id", "content_uri", "json"}:
            raise bad_request("metadata should be a json object with content_id, content_uri "
                              "and json")
        labels = {k: v for k, v in meta.items() if v is not None}
    return _add(w, bank_name, hashes, labels, "hma:upload", user)


@router.post("/bank/{bank_name}/signal")
async def signal_add(bank_name: str, request: Request, w: WardingDep,
                     user: Manager) -> dict[str, Any]:
    """Bank hashes directly: ``{signal_type: value, ...}``. Warding also reads optional
    ``labels`` (an object) and ``provenance`` (a string) from the same body."""
    body = await _json(request)
    labels = body.pop("labels", None) or {}
    provenance = body.pop("provenance", None) or "hma:signal"
    if not isinstance(labels, dict) or not isinstance(provenance, str):
        raise bad_request("labels must be an object and provenance a string")
    return _add(w, bank_name, body, labels, provenance, user)
