"""The installed exchange API types (threatexchange's SignalExchangeAPI classes) and a
description of their settings and credentials, for forms and for HMA's ``/schema``."""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Sequence
from typing import Any

from threatexchange.exchanges.auth import SignalExchangeWithAuth
from threatexchange.exchanges.impl.fb_threatexchange_api import (
    FBThreatExchangeSignalExchangeAPI,
)
from threatexchange.exchanges.impl.ncmec_api import NCMECSignalExchangeAPI
from threatexchange.exchanges.impl.static_sample import StaticSampleSignalExchangeAPI
from threatexchange.exchanges.impl.stop_ncii_api import StopNCIISignalExchangeAPI
from threatexchange.exchanges.impl.techagainstterrorism_api import TATSignalExchangeAPI

from warding.errors import InvalidInput

KNOWN: tuple[Any, ...] = (StaticSampleSignalExchangeAPI, FBThreatExchangeSignalExchangeAPI,
                          NCMECSignalExchangeAPI, StopNCIISignalExchangeAPI,
                          TATSignalExchangeAPI)
BASE_FIELDS = frozenset({"name", "api", "enabled"})  # set by Warding, not by the operator


def installed(names: Sequence[str]) -> dict[str, Any]:
    """The API classes named in the ``exchange_apis`` setting, by name."""
    known = {cls.get_name(): cls for cls in KNOWN}
    return {name: known[name] for name in names if name in known}


def get_api(names: Sequence[str], name: str) -> Any:
    apis = installed(names)
    if name not in apis:
        raise InvalidInput(f"no such exchange API {name!r} (installed: "
                           f"{', '.join(sorted(apis)) or 'none'}; see WARDING_EXCHANGE_APIS)")
    return apis[name]


def supports_auth(api_cls: Any) -> bool:
    return isinstance(api_cls, type) and issubclass(api_cls, SignalExchangeWithAuth)


def _kind(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _kind(args[0]) if len(args) == 1 else "string"
    if annotation is bool:
        return "boolean"
    if annotation in (int, float):
        return "number"
    if annotation is str or (isinstance(annotation, type) and issubclass(annotation, enum.Enum)):
        return "string"
    if origin in (list, set, frozenset, tuple) or annotation in (list, set, frozenset, tuple):
        return "array"
    return "object"


def describe(cls: Any, skip: frozenset[str] = frozenset()) -> dict[str, Any]:
    """``{"fields": [{"name", "type", "required", "default"?}]}`` of a dataclass."""
    hints = typing.get_type_hints(cls)
    fields = []
    for f in dataclasses.fields(cls):
        if f.name in skip or not f.init:
            continue
        required = (f.default is dataclasses.MISSING
                    and f.default_factory is dataclasses.MISSING)
        out: dict[str, Any] = {"name": f.name, "type": _kind(hints.get(f.name, str)),
                               "required": required}
        annotation = hints.get(f.name)
        if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
            out["choices"] = [m.name for m in annotation]
        if f.default is not dataclasses.MISSING and isinstance(f.default, str | int | float
                                                                | bool | None):
            out["default"] = f.default
        fields.append(out)
    return {"fields": fields}


def schema(api_cls: Any) -> dict[str, Any]:
    """The settings an exchange of this API takes, and its credentials (None if none)."""
    creds = describe(api_cls.get_credential_cls()) if supports_auth(api_cls) else None
    return {"config_schema": describe(api_cls.get_config_cls(), BASE_FIELDS),
            "credentials_schema": creds}
