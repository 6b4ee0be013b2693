"""Configured exchanges, API credentials and fetch status, in the database.

An exchange is named after the bank it fills (HMA's rule: ``A-Z``, ``0-9`` and ``_``); its
settings are those of its API type's config class (see :func:`warding.exchanges.apis.schema`).
Credentials are kept per API type, as HMA does, in the ``exchange_credentials`` table: only
the fetch reads them, the API never shows them, and the audit log records only that they
were set or removed. Every change is audited.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from threatexchange.utils import dataclass_json

from warding.audit.log import record
from warding.banks.curation import delete_bank
from warding.banks.service import create_bank
from warding.config import Settings
from warding.db.models import Bank, Exchange, ExchangeCredential
from warding.errors import Conflict, InvalidInput, NotFound
from warding.exchanges.apis import BASE_FIELDS, get_api, supports_auth
from warding.exchanges.events import (
    ExchangeCreated,
    ExchangeCredentialsSet,
    ExchangeDeleted,
    ExchangeUpdated,
)

EXCHANGE_NAME = re.compile(r"^[A-Z0-9_]{1,120}$")


def api_status(session: Session, settings: Settings, api_name: str) -> dict[str, bool]:
    api_cls = get_api(settings.exchange_apis, api_name)
    return {"supports_authentification": supports_auth(api_cls),
            "has_set_authentification": _credential_row(session, api_name) is not None}


def _credential_row(session: Session, api_name: str) -> ExchangeCredential | None:
    return session.execute(select(ExchangeCredential)
                           .where(ExchangeCredential.api == api_name)).scalar_one_or_none()


def set_credentials(session: Session, settings: Settings, api_name: str,
                    credentials: dict[str, Any] | None, *, actor: str) -> dict[str, bool]:
    """Set an API type's credentials, or remove them (None or empty)."""
    api_cls = get_api(settings.exchange_apis, api_name)
    row = _credential_row(session, api_name)
    if not credentials:
        if row is not None:
            session.delete(row)
            record(session, ExchangeCredentialsSet(api_name, False), actor)
        return api_status(session, settings, api_name)
    if not supports_auth(api_cls):
        raise InvalidInput(f"exchange API {api_name!r} takes no credentials")
    try:
        parsed = dataclass_json.dataclass_load_dict(credentials, api_cls.get_credential_cls())
    except Exception as exc:
        raise InvalidInput(f"credentials for {api_name!r} are not valid: {exc}") from exc
    stored = dataclass_json.dataclass_dump_dict(parsed)
    if row is None:
        session.add(ExchangeCredential(api=api_name, credentials=stored))
    else:
        row.credentials = stored
    session.flush()
    record(session, ExchangeCredentialsSet(api_name, True), actor)
    return api_status(session, settings, api_name)


def credentials_for(session: Session, api_cls: Any) -> Any:
    """The stored credentials of an API type, as its credential class (None if none)."""
    if not supports_auth(api_cls):
        return None
    row = _credential_row(session, api_cls.get_name())
    if row is None:
        return None
    return dataclass_json.dataclass_load_dict(dict(row.credentials),
                                              api_cls.get_credential_cls())


def collab_config(settings: Settings, exchange: Exchange) -> Any:
    """The exchange as its API type's config object (threatexchange's collab config)."""
    api_cls = get_api(settings.exchange_apis, exchange.api)
    data = {**dict(exchange.config or {}), "name": exchange.name, "api": exchange.api,
            "enabled": exchange.enabled}
    return dataclass_json.dataclass_load_dict(data, api_cls.get_config_cls())


def create_exchange(session: Session, settings: Settings, name: str, api_name: str,
                    api_json: dict[str, Any], *, actor: str) -> Exchange:
    """Configure an exchange and create the bank it fills."""
    if not isinstance(name, str) or not EXCHANGE_NAME.match(name):
        raise InvalidInput(f"exchange name {name!r} must match /^[A-Z0-9_]+$/ (it names the "
                           "bank the exchange fills)")
    api_cls = get_api(settings.exchange_apis, api_name)
    if not isinstance(api_json, dict):
        raise InvalidInput("api_json must be an object")
    enabled = api_json.get("enabled", True)
    data = {**api_json, "name": name, "api": api_name, "enabled": enabled}
    try:
        parsed = dataclass_json.dataclass_load_dict(data, api_cls.get_config_cls())
    except Exception as exc:
        raise InvalidInput(f"api_json does not fit the {api_name} exchange: {exc} (see "
                           f"/c/exchanges/api/{api_name}/schema)") from exc
    if session.execute(select(Exchange.id).where(Exchange.name == name)).first():
        raise Conflict(f"exchange {name!r} already exists")
    if session.execute(select(Bank.id).where(Bank.name == name)).first():
        raise Conflict(f"a bank named {name!r} exists already: an exchange fills a bank of "
                       "its own")
    config = {k: v for k, v in dataclass_json.dataclass_dump_dict(parsed).items()
              if k not in BASE_FIELDS}
    create_bank(session, name, actor=actor, description=f"filled by the {api_name} exchange")
    exchange = Exchange(name=name, api=api_name, config=config, enabled=bool(parsed.enabled))
    session.add(exchange)
    session.flush()
    record(session, ExchangeCreated(name, api_name, config), actor)
    return exchange


def get_exchange(session: Session, name: str) -> Exchange:
    found = session.execute(select(Exchange).where(Exchange.name == name)).scalar_one_or_none()
    if found is None:
        raise NotFound(f"Exchange '{name}' not found")
    return found


def list_exchanges(session: Session) -> list[Exchange]:
    return list(session.execute(select(Exchange).order_by(Exchange.name)).scalars())


def config_json(exchange: Exchange) -> dict[str, Any]:
    return {"name": exchange.name, "api": exchange.api, "enabled": exchange.enabled,
            **dict(exchange.config or {})}


def set_enabled(session: Session, name: str, enabled: bool, *, actor: str) -> Exchange:
    exchange = get_exchange(session, name)
    if exchange.enabled != enabled:
        exchange.enabled = enabled
        record(session, ExchangeUpdated(name, {"enabled": enabled}), actor)
    return exchange


def delete_exchange(session: Session, name: str, *, with_bank: bool, actor: str) -> bool:
    """Forget an exchange (and, with ``with_bank``, delete its bank); False if none."""
    found = session.execute(select(Exchange).where(Exchange.name == name)).scalar_one_or_none()
    if found is None:
        return False
    session.delete(found)
    bank_gone = False
    if with_bank and session.execute(select(Bank.id).where(Bank.name == name)).first():
        delete_bank(session, name, actor=actor)
        bank_gone = True
    record(session, ExchangeDeleted(name, bank_gone), actor)
    return True


def fetch_status(exchange: Exchange) -> dict[str, Any]:
    """HMA's FetchStatus: times as Unix times (None when not yet)."""
    def ts(value: float | None) -> int | None:
        return int(value) if value is not None else None

    return {
        "checkpoint_ts": ts(exchange.checkpoint_ts),
        "running_fetch_start_ts": ts(exchange.running_fetch_start_ts),
        "last_fetch_complete_ts": ts(exchange.last_fetch_complete_ts),
        "last_fetch_succeeded": exchange.last_fetch_succeeded,
        "up_to_date": bool(exchange.last_fetch_succeeded)
        and exchange.running_fetch_start_ts is None,
        "fetched_items": exchange.fetched_items,
        "last_error": exchange.last_error or None,
    }
