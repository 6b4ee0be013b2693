"""HMA's index build, on Warding: there is nothing to build (the match engine applies
every bank change from the change feed); this brings the engine up to date and waits
until the server's index keeper reports ready."""

from __future__ import annotations

from OpenMediaMatch.persistence import WardingStorage

from warding.matching.service import get_core


def build_all_indices(*stores: WardingStorage) -> None:
    w = stores[0].w
    for store in stores:
        store.built = True
    get_core(w).refresh(w.engine, force=True)
    from OpenMediaMatch.tests.utils import wait_until_ready

    wait_until_ready()
