"""The retry worker: a background thread of the web server that runs due actions.

``warding serve`` (and the demo) start one when ``action_worker_interval`` is above
zero; without a server, ``warding action run`` does the same once (e.g. from cron).
The web layer wakes it right after a decision commits, so a reviewer never waits on a
slow platform webhook: the request returns at once and the worker delivers within
moments. Several workers may run at once (several servers on one database): the lease
taken by :func:`warding.actions.executor.run_pending` keeps them from sending one
action twice.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from warding.actions.executor import run_pending
from warding.intake.outbox import deliver_due

log = logging.getLogger("warding.actions")


class ActionWorker:
    def __init__(self, app: Any, interval: float) -> None:
        self.app = app
        self.interval = interval
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._loop, name="warding-actions", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Run now rather than at the next interval (new actions were queued)."""
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.interval)
            self._wake.clear()
            if self._stop.is_set():
                break
            try:
                done = run_pending(self.app)
            except Exception:  # keep retrying later; the database may be back then
                log.exception("action worker run failed")
                continue
            if done:
                log.info("action worker ran %d action(s)", len(done))
            try:
                delivered = deliver_due(self.app)  # intake's webhook events (issue 13)
            except Exception:
                log.exception("webhook event delivery failed")
                continue
            if delivered:
                log.info("action worker delivered %d webhook event(s)", delivered)
            self._legal_clock()  # issue 14: removal-order alerts, releases, answers
            self._send_transparency_db()  # issue 14: statements for the DSA database

    def _legal_clock(self) -> None:
        from warding.legal.worker import tick

        try:
            legal = tick(self.app)
        except Exception:  # keep going: the clock runs again on the next pass
            log.exception("legal clock run failed")
            return
        if any(legal.values()):
            log.info("legal clock: %s", legal)

    def _send_transparency_db(self) -> None:
        from warding.legal.tdb_send import send_due

        try:
            sent = send_due(self.app)
        except Exception:  # keep going: the statements stay pending and are sent later
            log.exception("transparency database submission failed")
            return
        if sent["requests"]:
            log.info("action worker sent %d statement(s) to the transparency database",
                     sent["sent"] + sent["already_present"])

    def stop(self, timeout: float = 15.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
