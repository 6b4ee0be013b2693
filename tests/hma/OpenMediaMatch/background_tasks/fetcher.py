"""HMA's exchange fetch, on Warding: each exchange of the test's storage is fetched with its
threatexchange API class and its signals are added to the Warding bank of that name (as
``warding bank import`` does with an exchange's export)."""

from __future__ import annotations

from collections.abc import Mapping

from OpenMediaMatch.persistence import WardingStorage
from threatexchange.storage.interfaces import SignalTypeConfig


def fetch_all(storage: WardingStorage, signal_type_configs: Mapping[str, SignalTypeConfig]
              ) -> None:
    types = {name: cfg.signal_type for name, cfg in signal_type_configs.items()}
    for name, collab in storage.exchanges.items():
        api_cfg = storage.api_configs.get(collab.api)
        if api_cfg is None or not collab.enabled:
            continue
        api = api_cfg.api_cls.for_collab(collab)
        items = []
        for delta in api.fetch_iter(list(types.values()), None):
            for (type_name, value), meta in delta.updates.items():
                if meta is not None and type_name in types:
                    items.append({types[type_name]: value})
        if items:
            storage.add_entries(name, items, provenance=f"exchange:{name}")
