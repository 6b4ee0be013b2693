"""Run retroactive matching in the background while the server runs (docs/incidents.md).

Every ``retro_poll_seconds`` the worker reads the change feed from its own cursor and
matches the stored items of the window against what the banks gained; 0 turns it off.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from warding.app import Warding


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    from warding.incidents.worker import RetroWorker

    w: Warding = app.state.warding
    worker = None
    if w.settings.retro_poll_seconds > 0 and w.settings.retro_window_days > 0:
        worker = RetroWorker(w, w.settings.retro_poll_seconds)
        worker.start()
    app.state.retro_worker = worker
    try:
        yield
    finally:
        app.state.retro_worker = None
        if worker is not None:
            worker.stop()
