"""The names HMA's tests take from ``OpenMediaMatch.blueprints.matching``.

``_get_index_cache()`` is what HMA's ``/status`` reads; the app fixture points Warding's
``/status`` at it (see ``OpenMediaMatch.tests.utils.CacheKeeper``): empty (the default, as
in HMA's tests) means Warding's own index keeper decides; a test may monkeypatch it with
HMA's cache entries, whose readiness and staleness then decide.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypedDict


class MatchWithDistancePayload(TypedDict):
    bank_content_id: int
    distance: str


TMatchByBank = dict[str, list[MatchWithDistancePayload]]


@dataclass
class _SignalIndexInMemoryCache:
    signal_type: Any
    index: Any
    checkpoint: Any
    last_check_ts: float
    sec_old_before_stale: int

    @property
    def is_ready(self) -> bool:
        return self.last_check_ts > 0

    @property
    def is_stale(self) -> bool:
        limit = self.sec_old_before_stale
        return limit > 0 and time.time() - self.last_check_ts > limit


IndexCache = Mapping[str, _SignalIndexInMemoryCache]


def _get_index_cache() -> IndexCache:
    return {}
