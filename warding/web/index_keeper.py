"""Keep the match engine warm while the server runs.

When ``warding serve`` starts, a background thread opens the match engine (loading the
index snapshots, seconds even at 10M entries) and then applies the change feed every
``index_poll_seconds``, so that a bank change made anywhere is matchable within about
that time even when no request arrives, and the first lookups do not wait for a load.
``/status`` reports it: 503 while the index loads or when it has not been refreshed for
:data:`STALE_AFTER` seconds (HMA's ``INDEX-STALE``), for load balancers.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from warding.app import Warding

log = logging.getLogger("warding.web")
STALE_AFTER = 65.0
DUE_EVERY = 5.0  # seconds between two looks for entries whose disable-until time has passed


class IndexKeeper:
    def __init__(self, w: Warding) -> None:
        self.w = w
        self.ready = False
        self.last_ok = 0.0
        self.error = ""
        self._due_checked = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="warding-index-keeper",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _run(self) -> None:
        from warding.matching.service import refresh_index

        poll = max(0.05, float(self.w.settings.index_poll_seconds))
        while not self._stop.is_set():
            try:
                self._enable_due()
                refresh_index(self.w)
                self.ready, self.last_ok, self.error = True, time.time(), ""
            except Exception as exc:  # noqa: BLE001 - keep serving; /status reports it
                self.error = str(exc)
                log.warning("the match index could not be refreshed: %s", exc)
            self._stop.wait(poll)

    def _enable_due(self) -> None:
        """HMA's disable_until_ts: entries disabled until a time are enabled again after it."""
        from warding.banks.curation import enable_due_entries

        now = time.time()
        if now - self._due_checked < DUE_EVERY:
            return
        self._due_checked = now
        try:
            with self.w.transaction() as session:
                if n := enable_due_entries(session, now):
                    log.info("enabled %d bank entries whose disable-until time passed", n)
        except Exception as exc:  # noqa: BLE001 - the index refresh must go on; retried later
            log.warning("entries due to be enabled again could not be: %s", exc)

    def status(self) -> dict[str, Any]:
        age = time.time() - self.last_ok if self.last_ok else None
        state = "ready" if self.ready and age is not None and age <= STALE_AFTER else (
            "loading" if not self.ready else "stale")
        out: dict[str, Any] = {"state": state, "refreshed_seconds_ago":
                               round(age, 3) if age is not None else None}
        if self.error:
            out["error"] = self.error
        return out


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    keeper = IndexKeeper(app.state.warding)
    app.state.index_keeper = keeper
    keeper.start()
    try:
        yield
    finally:
        keeper.stop()
