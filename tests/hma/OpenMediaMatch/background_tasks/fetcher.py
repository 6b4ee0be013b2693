"""HMA's exchange fetch, on Warding: ``warding exchange fetch`` for every enabled exchange
(``warding.exchanges.fetch``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from OpenMediaMatch.persistence import WardingStorage

from warding.exchanges.fetch import fetch_exchange
from warding.exchanges.service import list_exchanges


def fetch_all(storage: WardingStorage, signal_type_configs: Mapping[str, Any]) -> None:
    w = storage.w
    with w.transaction() as session:
        names = [e.name for e in list_exchanges(session) if e.enabled]
    for name in names:
        result = fetch_exchange(w, name, actor="hma-test")
        assert result.succeeded, result.error
