"""HMA's curator, exchanges: ``/c/exchanges…`` and ``/c/exchange/<name>…``.

Shapes as HMA's ``OpenMediaMatch/blueprints/curation.py``. An exchange fills the bank of
its name; the fetch itself runs with ``warding exchange fetch`` (cron, or by hand), never on
its own: configuring an exchange is what allows that outbound call. Credentials are write-only
here: the answers say whether they are set, never what they are.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from warding.accounts.service import UserView
from warding.app import Warding
from warding.errors import Conflict, InvalidInput, NotFound
from warding.exchanges import service
from warding.exchanges.apis import get_api, installed, schema
from warding.web.deps import SessionDep, WardingDep
from warding.web.hma import bad_request, hma_user, parse_bool
from warding.web.routers.hma_curation import json_object

router = APIRouter(prefix="/c", tags=["HMA exchanges"])

Viewer = Annotated[UserView, Depends(hma_user("view_banks", "curator"))]
Manager = Annotated[UserView, Depends(hma_user("manage_banks", "curator"))]
ERRORS: dict[int | str, dict[str, Any]] = {400: {"description": "Bad input (the message says which)"},
          403: {"description": "Not allowed, or the name is taken"},
          404: {"description": "No such exchange"}}


def _api(w: Any, api_name: str) -> Any:
    try:
        return get_api(w.settings.exchange_apis, api_name)
    except InvalidInput as exc:
        raise bad_request(f"no such Exchange API '{api_name}'") from exc


def _exchange(session: Any, name: str) -> Any:
    try:
        return service.get_exchange(session, name)
    except NotFound as exc:
        raise HTTPException(404, str(exc)) from exc


@router.get("/exchanges/apis")
def exchange_apis(w: WardingDep, user: Viewer) -> list[str]:
    """The exchange API types this server can use (WARDING_EXCHANGE_APIS)."""
    return list(installed(w.settings.exchange_apis))


@router.get("/exchanges/api/{api_name}", responses=ERRORS)
def exchange_api(api_name: str, w: WardingDep, session: SessionDep,
                 user: Viewer) -> dict[str, bool]:
    """``{"supports_authentification", "has_set_authentification"}`` (HMA's spelling)."""
    _api(w, api_name)
    return service.api_status(session, w.settings, api_name)


@router.post("/exchanges/api/{api_name}", responses=ERRORS)
async def exchange_api_credentials(api_name: str, request: Request, w: WardingDep,
                                   user: Manager) -> dict[str, bool]:
    """``{"credential_json": {…}}`` sets the API type's credentials; ``{}`` removes them."""
    _api(w, api_name)
    body = await json_object(request)
    return await run_in_threadpool(_set_credentials, w, api_name, body, user)


def _set_credentials(w: Warding, api_name: str, body: dict[str, Any],
                     user: UserView) -> dict[str, bool]:
    creds = body.get("credential_json")
    with w.transaction() as session:
        if creds is None:
            return service.api_status(session, w.settings, api_name)
        if not isinstance(creds, dict):
            raise bad_request("credential_json must be an object")
        try:
            return service.set_credentials(session, w.settings, api_name, creds,
                                           actor=user.username)
        except InvalidInput as exc:
            raise bad_request(str(exc)) from exc


@router.get("/exchanges/api/{api_name}/schema", responses=ERRORS)
def exchange_api_schema(api_name: str, w: WardingDep, user: Viewer) -> dict[str, Any]:
    """The settings an exchange of this type takes (``config_schema``) and its credentials
    (``credentials_schema``, null when it takes none): ``{"fields": [{"name", "type",
    "required"}]}``."""
    return schema(_api(w, api_name))


@router.post("/exchanges", status_code=201, responses=ERRORS)
async def exchange_create(request: Request, w: WardingDep, user: Manager) -> dict[str, str]:
    """``{"bank": "NAME", "api": "fb_threatexchange", "api_json": {…}}`` → 201; creates the
    bank too."""
    body = await json_object(request)
    return await run_in_threadpool(_create, w, body, user)


def _create(w: Warding, body: dict[str, Any], user: UserView) -> dict[str, str]:
    name, api_name = body.get("bank"), body.get("api")
    if not isinstance(name, str) or not name:
        raise bad_request("Field `bank` is required")
    if not isinstance(api_name, str) or not api_name:
        raise bad_request("Field `api` is required")
    _api(w, api_name)
    with w.transaction() as session:
        try:
            service.create_exchange(session, w.settings, name, api_name,
                                    body.get("api_json") or {}, actor=user.username)
        except InvalidInput as exc:
            raise bad_request(str(exc)) from exc
        except Conflict as exc:
            raise HTTPException(403, str(exc)) from exc
    return {"message": "Created successfully"}


@router.get("/exchanges")
def exchanges(session: SessionDep, user: Viewer) -> list[str]:
    return [e.name for e in service.list_exchanges(session)]


@router.get("/exchange/{exchange_name}", responses=ERRORS)
def exchange_show(exchange_name: str, session: SessionDep, user: Viewer) -> dict[str, Any]:
    """``{"name", "api", "enabled", …the API type's settings}``."""
    return service.config_json(_exchange(session, exchange_name))


@router.get("/exchange/{exchange_name}/status", responses=ERRORS)
def exchange_status(exchange_name: str, session: SessionDep, user: Viewer) -> dict[str, Any]:
    """``{"checkpoint_ts", "running_fetch_start_ts", "last_fetch_complete_ts",
    "last_fetch_succeeded", "up_to_date", "fetched_items", "last_error"}``."""
    return service.fetch_status(_exchange(session, exchange_name))


@router.put("/exchange/{exchange_name}", responses=ERRORS)
async def exchange_update(exchange_name: str, request: Request, w: WardingDep,
                          user: Manager) -> JSONResponse:
    """``{"enabled": bool}`` → the exchange."""
    body = await json_object(request)
    return await run_in_threadpool(_update, w, exchange_name, body, user)


def _update(w: Warding, exchange_name: str, body: dict[str, Any],
            user: UserView) -> JSONResponse:
    with w.transaction() as session:
        exchange = _exchange(session, exchange_name)
        if body.get("enabled") is not None:
            if not isinstance(body["enabled"], bool):
                raise bad_request("enabled must be true or false")
            exchange = service.set_enabled(session, exchange_name, body["enabled"],
                                           actor=user.username)
        return JSONResponse(service.config_json(exchange))


@router.delete("/exchange/{exchange_name}", responses=ERRORS)
def exchange_delete(exchange_name: str, session: SessionDep, user: Manager,
                    delete_bank: str | None = None) -> dict[str, str]:
    """Forget the exchange and delete its bank (``delete_bank=false`` keeps the bank); a
    missing exchange is no error, as in HMA."""
    service.delete_exchange(session, exchange_name, actor=user.username,
                            with_bank=parse_bool(delete_bank, "delete_bank", True))
    return {"message": "Exchange deleted"}
