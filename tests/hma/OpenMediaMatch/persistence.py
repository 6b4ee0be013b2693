"""``get_storage()``: HMA's storage interface, backed by the Warding app of the running
test (its banks, bank entries and match index). Only what HMA's HTTP tests call is here."""

from __future__ import annotations

from typing import Any

from threatexchange.signal_type.md5 import VideoMD5Signal
from threatexchange.signal_type.pdq.signal import PdqSignal
from threatexchange.signal_type.signal_base import SignalType
from threatexchange.storage.interfaces import (
    BankConfig,
    SignalExchangeAPIConfig,
    SignalTypeConfig,
)
from threatexchange.utils import dataclass_json

from warding.app import Warding
from warding.banks.records import EntryRecord
from warding.banks.service import add_records, create_bank, get_bank, update_bank
from warding.banks.sources import signal_type_for
from warding.exchanges.apis import BASE_FIELDS, installed
from warding.exchanges.service import create_exchange, set_credentials, set_enabled
from warding.matching.service import get_core

# HMA's default signal types (the ones its tests know) and Warding's names for them.
HMA_SIGNAL_TYPES: tuple[type[SignalType], ...] = (PdqSignal, VideoMD5Signal)

_current: WardingStorage | None = None


class WardingStorage:
    """HMA's IUnifiedStore calls used by its tests, on one Warding app."""

    def __init__(self, w: Warding) -> None:
        self.w = w
        self.built = False  # set by build_all_indices

    # -- exchange API types: WARDING_EXCHANGE_APIS ----------------------------------------
    @property
    def exchange_types(self) -> dict[str, Any]:
        return installed(self.w.settings.exchange_apis)

    @exchange_types.setter
    def exchange_types(self, types: dict[str, Any]) -> None:
        self.w.settings.exchange_apis = list(types)

    # -- signal types and indexes ------------------------------------------------------
    def get_signal_type_configs(self) -> dict[str, SignalTypeConfig]:
        return {st.get_name(): SignalTypeConfig(1.0, st) for st in HMA_SIGNAL_TYPES
                if signal_type_for(st.get_name()) in self.w.signal_types}

    def get_signal_type_index(self, signal_type: type[SignalType]) -> object | None:
        """Warding's index of that type. Warding has no build step (bank changes reach the
        index through the change feed), but HMA's storage holds an index only once its
        build task ran: so None until ``build_all_indices`` ran, and while it is empty."""
        if not self.built:
            return None
        name = signal_type_for(signal_type.get_name())
        core = get_core(self.w)
        sizes = {s.signal_type: s.size for s in core.status()}
        return core if sizes.get(name, 0) else None

    # -- banks -------------------------------------------------------------------------
    def bank_update(self, bank: BankConfig, *, create: bool = False,
                    rename_from: str | None = None) -> None:
        with self.w.transaction() as session:
            if create:
                create_bank(session, bank.name, actor="hma-test",
                            match_ratio=bank.matching_enabled_ratio)
            else:
                update_bank(session, rename_from or bank.name, actor="hma-test",
                            new_name=bank.name, match_ratio=bank.matching_enabled_ratio)

    def bank_add_content(self, bank_name: str, signals: dict[type[SignalType], str],
                         config: object = None) -> int:
        ids = self.add_entries(bank_name, [signals], provenance="hma-test")
        return ids[0]

    def add_entries(self, bank_name: str, items: list[dict[type[SignalType], str]], *,
                    provenance: str) -> list[int]:
        records = [EntryRecord(signals=[(signal_type_for(st.get_name()), value)
                                        for st, value in item.items()],
                               provenance=provenance, ref=provenance) for item in items]
        with self.w.transaction() as session:
            bank = get_bank(session, bank_name)
            summary = add_records(session, bank, records, self.w.signal_types,
                                  actor="hma-test", how="hma-test", keep_repeats=True)
        assert not summary.errors, summary.errors
        return summary.entry_ids

    # -- exchanges: Warding's (warding/exchanges) -------------------------------------------
    def exchange_api_config_update(self, cfg: SignalExchangeAPIConfig) -> None:
        creds = (dataclass_json.dataclass_dump_dict(cfg.credentials)
                 if cfg.credentials is not None else None)
        with self.w.transaction() as session:
            set_credentials(session, self.w.settings, cfg.api_cls.get_name(), creds,
                            actor="hma-test")

    def exchange_update(self, cfg: Any, *, create: bool = False) -> None:
        with self.w.transaction() as session:
            if create:
                settings = {k: v for k, v in dataclass_json.dataclass_dump_dict(cfg).items()
                            if k not in BASE_FIELDS}
                create_exchange(session, self.w.settings, cfg.name, cfg.api,
                                {**settings, "enabled": cfg.enabled}, actor="hma-test")
            else:
                set_enabled(session, cfg.name, cfg.enabled, actor="hma-test")


def set_current(storage: WardingStorage | None) -> None:
    global _current
    _current = storage


def get_storage() -> WardingStorage:
    assert _current is not None, "no HMA app fixture is running"
    return _current
