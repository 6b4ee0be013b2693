"""Audit events of exchanges (credentials are never written to the log)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from warding.events import Event


@dataclass(frozen=True)
class ExchangeCreated(Event):
    type: ClassVar[str] = "exchange.created"
    exchange: str
    api: str
    config: dict[str, Any]

    def subject(self) -> str:
        return f"exchange:{self.exchange}"


@dataclass(frozen=True)
class ExchangeUpdated(Event):
    type: ClassVar[str] = "exchange.updated"
    exchange: str
    changes: dict[str, Any]

    def subject(self) -> str:
        return f"exchange:{self.exchange}"


@dataclass(frozen=True)
class ExchangeDeleted(Event):
    type: ClassVar[str] = "exchange.deleted"
    exchange: str
    bank_deleted: bool

    def subject(self) -> str:
        return f"exchange:{self.exchange}"


@dataclass(frozen=True)
class ExchangeCredentialsSet(Event):
    type: ClassVar[str] = "exchange.credentials_set"
    api: str
    present: bool  # set (True) or removed (False); the credentials themselves are not logged

    def subject(self) -> str:
        return f"exchange_api:{self.api}"


@dataclass(frozen=True)
class ExchangeFetched(Event):
    type: ClassVar[str] = "exchange.fetched"
    exchange: str
    added: int
    removed: int
    skipped: int
    succeeded: bool
    error: str = ""

    def subject(self) -> str:
        return f"exchange:{self.exchange}"
