"""The bank index sharded across Dask workers.

Shard ``k`` of ``n`` is a :class:`~warding.matching.engine.MatchCore` over the bank entries
whose id is ``k`` modulo ``n`` (sharding by entry: every shard holds every signal type and
about 1/n of each). Shards live on the workers (one per worker by default, placed round
robin), each opened once per worker process (from its own snapshot in
``<index_dir>/shard-K-of-N/``, else from the database) and kept current from the change feed
like any other index: a lookup first applies the feed rows committed since (at most every
``index_poll_seconds``).

A lookup is sent to every shard (one task per shard for a whole batch of queries) and the
answers are merged exactly: shards hold disjoint entries, so the merge is the union of their
matches, ordered as the single index orders them (distance, bank, entry). Entry details
(labels, provenance) are read by the shards themselves, so answers are the same objects the
single-process :class:`~warding.matching.service.MatchEngine` returns.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from warding.distributed.worker import settings_data, worker_app
from warding.matching.engine import MatchCore
from warding.matching.service import MatchEngine, MatchResult
from warding.signals.base import SignalType

_ENGINE_KEY = "sharded_engine"
#: How long a lookup waits before it checks that its shards' workers are still there.
WORKER_CHECK_SECONDS = 2.0
_cores: dict[tuple[str, int, int], MatchCore] = {}
_lock = threading.Lock()


class ShardCore(MatchCore):
    """A match core that keeps only the entries of its shard (set on a subclass made by
    :func:`shard_class`: :meth:`MatchCore.open` builds ``cls`` with the base arguments)."""

    shard: int = 0
    shards: int = 1

    def _parse_rows(self, rows: Sequence[Any]) -> Any:
        n, k = self.shards, self.shard
        return super()._parse_rows([r for r in rows if int(r[0]) % n == k])


def shard_class(shard: int, shards: int) -> type[ShardCore]:
    if not 0 <= shard < shards:
        raise ValueError(f"shard {shard} is not one of 0..{shards - 1}")
    return type(f"ShardCore{shard}of{shards}", (ShardCore,), {"shard": shard, "shards": shards})


def open_shard(app: Any, shard: int, shards: int) -> MatchCore:
    """This process's core for shard ``shard`` of ``shards`` (opened once, then refreshed)."""
    from warding.matching import kernel

    key = (app.settings.database_url, shard, shards)
    with _lock:
        core = _cores.get(key)
        if core is None:
            s = app.settings
            kernel.use(s.match_kernel)
            snapshots: Path = s.index_dir / f"shard-{shard}-of-{shards}"
            core = shard_class(shard, shards).open(
                app.engine, app.signal_types, snapshot_dir=snapshots,
                snapshot_min=s.index_snapshot_min, poll_seconds=s.index_poll_seconds)
            _cores[key] = core
            return core
    core.refresh(app.engine)
    return core


def shard_lookup(settings: dict[str, Any], shard: int, shards: int,
                 queries: Sequence[tuple[str, str]], banks: set[str] | None,
                 include_disabled: bool) -> list[list[MatchResult]]:
    """The worker's task: one shard's matches of each query."""
    app = worker_app(settings)
    core = open_shard(app, shard, shards)
    return MatchEngine(core, sa_engine=app.engine).lookup_many(
        queries, banks=banks, include_disabled=include_disabled)


def merge(parts: Sequence[Sequence[Sequence[MatchResult]]]) -> list[list[MatchResult]]:
    """The shards' answers to the same queries as one index's answers: the single index's
    order (closest first; a video, the largest share of its frames matched first)."""
    if not parts:
        return []
    out: list[list[MatchResult]] = []
    for answers in zip(*parts, strict=True):
        found = [r for answer in answers for r in answer]
        out.append(sorted(found, key=_order))
    return out


def _order(r: MatchResult) -> tuple[float, int, str, int]:
    return (-float(r.frames.get("query_match_percent", 0.0)), r.distance, r.bank, r.entry_id)


class ShardedIndex:
    """Lookups fanned out to the shards on a Dask cluster and merged."""

    def __init__(self, client: Any, settings: Any, shards: int | None = None) -> None:
        self.client = client
        self.settings = settings_data(settings)
        workers = self._workers()
        self.shards = shards or len(workers)
        self.placement: list[str] = []
        self._place(workers)

    def _workers(self) -> list[str]:
        workers = sorted(self.client.scheduler_info().get("workers", {}))
        if not workers:
            raise RuntimeError("the Dask cluster has no workers")
        return workers

    def _place(self, workers: list[str]) -> None:
        """Shard k on worker k modulo the workers (sorted addresses: every client agrees)."""
        self.placement = [workers[k % len(workers)] for k in range(self.shards)]

    def lookup_many(self, queries: Sequence[tuple[str, str]], *, banks: set[str] | None = None,
                    include_disabled: bool = False) -> list[list[MatchResult]]:
        """Each shard's answers, merged. A shard's task runs only on its worker (a shard is
        held once); when that worker has left the cluster, the shards are placed again on
        the workers there are and the lookup is sent again."""
        from distributed import wait

        while True:
            futures = [self.client.submit(shard_lookup, self.settings, k, self.shards,
                                          list(queries), banks, include_disabled,
                                          workers=[addr], allow_other_workers=False,
                                          pure=False)
                       for k, addr in enumerate(self.placement)]
            while True:
                try:
                    wait(futures, timeout=WORKER_CHECK_SECONDS)
                    return merge(self.client.gather(futures))
                except TimeoutError:
                    workers = self._workers()
                    if set(self.placement) <= set(workers):
                        continue  # still working (a shard opening can take a while)
                    self.client.cancel(futures)
                    self._place(workers)
                    break

    def warm(self) -> None:
        """Open every shard now (a first lookup would otherwise wait for it)."""
        self.lookup_many([])


class ShardedEngine(MatchEngine):
    """A :class:`MatchEngine` whose lookups go to a :class:`ShardedIndex`: the same methods,
    the same answers (``lookup``, ``lookup_all``, ``lookup_groups``, ``lookup_many``). Its
    ``core`` holds no index, only the banks' configuration (HMA's coin flip reads it),
    reloaded with each lookup at most every ``poll_seconds``."""

    def __init__(self, index: ShardedIndex, types: Mapping[str, SignalType],
                 sa_engine: Engine | None = None, poll_seconds: float = 0.25) -> None:
        self.index = index
        self._types = dict(types)
        self.session = None
        self.sa_engine = sa_engine
        self.core = MatchCore(types, snapshot_dir=None)
        self._poll = poll_seconds
        self._banks_read = float("-inf")

    @property
    def types(self) -> Mapping[str, SignalType]:
        return self._types

    def lookup(self, signal_type: str, value: str) -> list[MatchResult]:
        st = self._types.get(signal_type)
        try:
            valid = st.validate(value) if st is not None else None
        except ValueError:
            valid = None
        return [] if valid is None else self.lookup_many([(signal_type, valid)])[0]

    def lookup_many(self, queries: Sequence[tuple[str, str]], *, banks: set[str] | None = None,
                    include_disabled: bool = False) -> list[list[MatchResult]]:
        now = time.monotonic()
        if self.sa_engine is not None and now - self._banks_read >= self._poll:
            self.core._load_banks(self.sa_engine)
            self._banks_read = now
        return self.index.lookup_many(queries, banks=banks, include_disabled=include_disabled)


def sharded_engine(app: Any) -> ShardedEngine:
    """The app's engine on the cluster of the ``dask_scheduler`` setting (connected once)."""
    engine = app.index_cache.get(_ENGINE_KEY)
    if isinstance(engine, ShardedEngine):
        return engine
    with _lock:
        engine = app.index_cache.get(_ENGINE_KEY)
        if not isinstance(engine, ShardedEngine):
            from warding.distributed.cluster import CONNECT_TIMEOUT, require_dask

            client = require_dask().Client(app.settings.dask_scheduler, timeout=CONNECT_TIMEOUT)
            index = ShardedIndex(client, app.settings, app.settings.dask_shards)
            engine = ShardedEngine(index, app.signal_types, app.engine,
                                   app.settings.index_poll_seconds)
            app.index_cache[_ENGINE_KEY] = engine
        return engine


def close_sharded(app: Any) -> None:
    """Disconnect the app's sharded engine from its cluster (if it has one)."""
    engine = app.index_cache.pop(_ENGINE_KEY, None)
    if isinstance(engine, ShardedEngine):
        engine.index.client.close()
