"""Login throttling (issue 22): failed logins per user name and per client address.

After ``login_max_failures`` failures in a row for one user name (or
``login_max_failures_per_address`` from one address), further attempts are refused for
``login_backoff_seconds``; each failure after that doubles the period, up to
``login_backoff_max_seconds``. A successful login clears the name's and the address's
count. A refused attempt does not check the password at all, so it cannot be used to guess.

The counts live in the server process (one :class:`LoginThrottle` per web app): a restart
forgets them, and several server processes count separately (see docs/operations.md).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from warding.config import Settings

#: Entries idle for this long are forgotten (bounds the memory an attacker can use).
FORGET_AFTER = 24 * 3600.0
MAX_ENTRIES = 100_000


@dataclass
class _Record:
    failures: int = 0
    locked_until: float = 0.0
    last: float = 0.0


@dataclass(frozen=True)
class Refusal:
    """Why an attempt is refused now: which key is locked and for how many seconds."""

    key: str  # "user:<name>" or "address:<ip>"
    retry_after: int

    def message(self) -> str:
        return (f"too many failed logins; try again in {self.retry_after} seconds")


class LoginThrottle:
    def __init__(self, settings: Settings, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_name = settings.login_max_failures
        self.max_address = settings.login_max_failures_per_address
        self.base = settings.login_backoff_seconds
        self.cap = settings.login_backoff_max_seconds
        self.clock = clock
        self._lock = threading.Lock()
        self._records: dict[str, _Record] = {}

    @staticmethod
    def keys(username: str, address: str | None) -> list[str]:
        keys = [f"user:{username[:120]}"]
        if address:
            keys.append(f"address:{address}")
        return keys

    def check(self, username: str, address: str | None) -> Refusal | None:
        """The refusal if the name or the address is locked now, else None."""
        now = self.clock()
        with self._lock:
            for key in self.keys(username, address):
                rec = self._records.get(key)
                if rec is not None and rec.locked_until > now:
                    return Refusal(key, max(1, math.ceil(rec.locked_until - now)))
        return None

    def failed(self, username: str, address: str | None) -> Refusal | None:
        """Count a failure; the refusal that starts now, if one does."""
        now = self.clock()
        started: Refusal | None = None
        with self._lock:
            self._prune(now)
            for key in self.keys(username, address):
                rec = self._records.setdefault(key, _Record())
                rec.failures += 1
                rec.last = now
                limit = self.max_name if key.startswith("user:") else self.max_address
                if rec.failures >= limit:
                    period = min(self.cap, self.base * 2 ** min(rec.failures - limit, 32))
                    rec.locked_until = now + period
                    if started is None or period > started.retry_after:
                        started = Refusal(key, max(1, math.ceil(period)))
        return started

    def succeeded(self, username: str, address: str | None) -> None:
        with self._lock:
            for key in self.keys(username, address):
                self._records.pop(key, None)

    def _prune(self, now: float) -> None:
        if len(self._records) < MAX_ENTRIES:
            return
        stale = [k for k, r in self._records.items()
                 if r.locked_until <= now and now - r.last > FORGET_AFTER]
        for key in stale:
            del self._records[key]
        if len(self._records) >= MAX_ENTRIES:  # still full: drop the unlocked ones
            for key in [k for k, r in self._records.items() if r.locked_until <= now]:
                del self._records[key]
