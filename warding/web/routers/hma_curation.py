"""HMA's curator, banks and configuration: ``/c/banks``, ``/c/bank/<name>``,
``/c/signal_type[/index]``, ``/c/content_type``. Bank content is in ``hma_content``.

Shapes as HMA's ``OpenMediaMatch/blueprints/curation.py``. A bank is
``{"name", "matching_enabled_ratio"}``: the share of HMA lookups that search it (a gradual
roll-out; 0 disables it; Warding's own scans search every bank above 0). New names follow
HMA's rule, ``UPPER_CASE_WITH_DIGITS`` not starting with a digit; banks made elsewhere in
Warding keep their names. Every change is audited and reaches the match engines through
the change feed within a poll interval.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from warding.accounts.service import UserView
from warding.app import Warding
from warding.banks.curation import delete_bank
from warding.banks.service import create_bank, get_bank, update_bank
from warding.db.models import Bank, BankEntry, BankSignal
from warding.errors import Conflict, InvalidInput, NotFound
from warding.matching.service import get_core
from warding.web.deps import SessionDep, WardingDep
from warding.web.hma import bad_request, hma_user
from warding.web.hma_media import CONTENT_TYPES, hma_name, warding_name
from warding.web.request_guard import is_json_type, media_type

router = APIRouter(prefix="/c", tags=["HMA curator"])

Viewer = Annotated[UserView, Depends(hma_user("view_banks", "curator"))]
Manager = Annotated[UserView, Depends(hma_user("manage_banks", "curator"))]
HMA_BANK_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")
ERRORS: dict[int | str, dict[str, Any]] = {400: {"description": "Bad input (the message says which)"},
          403: {"description": "Not allowed, or the name is taken"},
          404: {"description": "No such bank"}}


def bank_json(bank: Bank) -> dict[str, Any]:
    ratio = float(bank.match_ratio) if bank.enabled else 0.0
    return {"name": bank.name, "matching_enabled_ratio": ratio}


async def json_object(request: Request) -> dict[str, Any]:
    """The body as a JSON object: 415 for another declared content type, 400 for a body that
    is not JSON or not an object."""
    ctype = request.headers.get("content-type", "")
    if ctype and not is_json_type(media_type(ctype)):
        raise HTTPException(415, f"this endpoint takes application/json, not {media_type(ctype)!r}")
    try:
        body = await request.json()
    except (ValueError, RecursionError) as exc:
        raise bad_request(f"the body is not JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise bad_request("this endpoint expects a json object payload")
    return body


def find_bank(session: Session, name: str) -> Bank:
    try:
        return get_bank(session, name)
    except NotFound as exc:
        raise HTTPException(404, f"bank '{name}' not found") from exc


def _check_name(name: Any) -> str:
    if not isinstance(name, str) or not name:
        raise bad_request("name is required")
    if not HMA_BANK_NAME.match(name) or len(name) > 120:
        raise bad_request(f"Bank name '{name}' must be UPPER_WITH_UNDERSCORE and not start "
                          "with a digit (at most 120 characters)")
    return name


def _ratio(body: dict[str, Any]) -> float | None:
    """HMA's enabled_ratio (a number from 0 to 1) or enabled (a boolean)."""
    if body.get("enabled_ratio") is not None:
        raw = body["enabled_ratio"]
        try:
            ratio = float(raw)
        except (TypeError, ValueError) as exc:
            raise bad_request(f"Invalid float: '{raw}'") from exc
        if isinstance(raw, bool) or not 0.0 <= ratio <= 1.0:
            raise bad_request(f"enabled_ratio must be a number from 0 to 1, not {raw!r}")
        return ratio
    if body.get("enabled") is not None:
        enabled = body["enabled"]
        if isinstance(enabled, str):
            if enabled.lower() not in ("true", "false", "1", "0"):
                raise bad_request(f"Invalid bool: '{enabled}'")
            enabled = enabled.lower() in ("true", "1")
        return 1.0 if enabled else 0.0
    return None


@router.get("/banks")
def banks(session: SessionDep, user: Viewer) -> list[dict[str, Any]]:
    """Every bank: ``[{"name", "matching_enabled_ratio"}]``."""
    return [bank_json(b) for b in session.execute(select(Bank).order_by(Bank.name)).scalars()]


@router.post("/banks", status_code=201, responses=ERRORS)
async def bank_create(request: Request, w: WardingDep, user: Manager) -> dict[str, Any]:
    """``{"name", "enabled_ratio"?, "enabled"?}`` → 201 and the bank; 403 if it exists."""
    body = await json_object(request)
    return await run_in_threadpool(_create, w, body, user)


def _create(w: Warding, body: dict[str, Any], user: UserView) -> dict[str, Any]:
    name = _check_name(body.get("name"))
    ratio = _ratio(body)
    with w.transaction() as session:
        try:
            bank = create_bank(session, name, actor=user.username,
                               match_ratio=1.0 if ratio is None else ratio)
        except Conflict as exc:
            raise HTTPException(403, "Bank already exists") from exc
        except InvalidInput as exc:
            raise bad_request(str(exc)) from exc
        return bank_json(bank)


@router.get("/bank/{bank_name}", responses=ERRORS)
def bank_show(bank_name: str, session: SessionDep, user: Viewer) -> dict[str, Any]:
    return bank_json(find_bank(session, bank_name))


@router.put("/bank/{bank_name}", responses=ERRORS)
async def bank_update(bank_name: str, request: Request, w: WardingDep,
                      user: Manager) -> dict[str, Any]:
    """``{"name"?, "enabled"?, "enabled_ratio"?}``: rename, enable, disable or set the ratio."""
    body = await json_object(request)
    return await run_in_threadpool(_update, w, bank_name, body, user)


def _update(w: Warding, bank_name: str, body: dict[str, Any], user: UserView) -> dict[str, Any]:
    ratio = _ratio(body)
    new_name = body.get("name")
    with w.transaction() as session:
        bank = find_bank(session, bank_name)
        if new_name is not None and new_name != bank.name:
            _check_name(new_name)
        try:
            bank = update_bank(session, bank_name, actor=user.username, new_name=new_name,
                               match_ratio=ratio)
        except Conflict as exc:
            raise HTTPException(403, "Bank name already exists") from exc
        except InvalidInput as exc:
            raise bad_request(str(exc)) from exc
        return bank_json(bank)


@router.delete("/bank/{bank_name}")
def bank_delete(bank_name: str, session: SessionDep, user: Manager) -> dict[str, str]:
    """Delete the bank, its entries and their signals; a missing bank is no error (HMA)."""
    if session.execute(select(Bank.id).where(Bank.name == bank_name)).first() is not None:
        delete_bank(session, bank_name, actor=user.username)
    return {"message": "Done"}


# -- configuration ---------------------------------------------------------------------
@router.get("/signal_type")
def signal_types(w: WardingDep, user: Viewer) -> list[dict[str, Any]]:
    """The signal types this server matches (HMA's names): ``[{"name", "enabled_ratio"}]``;
    Warding's are always on (1.0)."""
    return [{"name": hma_name(name), "enabled_ratio": 1.0} for name in w.signal_types]


@router.get("/signal_type/index", responses=ERRORS)
def signal_type_index(w: WardingDep, session: SessionDep, user: Viewer,
                      signal_type: str | None = None) -> dict[str, dict[str, Any]]:
    """Per signal type: ``{"db_size", "index_size", "index_out_of_date", "newest_db_item",
    "index_built_to"}`` (sizes in signals, times as Unix times; -1 when none)."""
    core = get_core(w)
    statuses = {s.signal_type: s for s in core.status()}
    names = list(w.signal_types)
    if signal_type is not None:
        try:
            wanted = warding_name(signal_type)
        except ValueError as exc:
            raise bad_request(str(exc)) from exc
        if wanted not in statuses:
            raise bad_request(f"No such signal type '{signal_type}'")
        names = [wanted]
    counts = dict(session.execute(
        select(BankSignal.signal_type, func.count(BankSignal.id))
        .join(BankEntry, BankEntry.id == BankSignal.entry_id)
        .where(BankEntry.enabled.is_(True), BankSignal.signal_type.in_(names))
        .group_by(BankSignal.signal_type)).all())
    newest = dict(session.execute(
        select(BankSignal.signal_type, func.max(BankEntry.created_at))
        .join(BankEntry, BankEntry.id == BankSignal.entry_id)
        .where(BankSignal.signal_type.in_(names))
        .group_by(BankSignal.signal_type)).all())
    out: dict[str, dict[str, Any]] = {}
    for name in names:
        s = statuses.get(name)
        built = int(s.built_to) if s is not None and s.present and s.size else -1
        newest_at = newest.get(name)
        newest_ts = int(newest_at.timestamp()) if newest_at is not None else -1
        out[hma_name(name)] = {
            "db_size": int(counts.get(name, 0)),
            "index_size": s.size if s is not None else 0,
            "index_out_of_date": s is not None and s.size != int(counts.get(name, 0)),
            "newest_db_item": newest_ts,
            "index_built_to": built,
        }
    return out


@router.get("/content_type")
def content_types(user: Viewer) -> list[dict[str, Any]]:
    """The content types the hasher takes: ``[{"name", "enabled"}]``."""
    return [{"name": name, "enabled": True} for name in CONTENT_TYPES]
