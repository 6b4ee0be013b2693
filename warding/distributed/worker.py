"""What runs on a Dask worker: the tasks of a distributed scan.

Workers never receive app objects. A task carries the settings as plain JSON data and a
:class:`~warding.distributed.partitions.Partition` (a path and a byte range); each worker
process builds its :class:`~warding.app.Warding` once per settings (the database engine, the
match index, the classifier are then reused by every task it runs) and reads its partition
itself.

Two kinds of task:

- :func:`prepare_partition` (SQLite, and any database when the client writes): reads, hashes,
  matches and classifies, writes nothing, and returns the prepared batches with media bytes
  left out (media already went to the content-addressed store). A task that dies is simply
  run again.
- :func:`process_partition` (PostgreSQL): the whole bulk pipeline, one transaction per batch,
  and returns counts; partitions are prepared in parallel and committed in input order. A
  task run again after its worker died finds the batches already committed and skips them
  (``ON CONFLICT DO NOTHING`` on source + external id).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from warding.ingest.base import Read
from warding.ingest.posts import JSONLPostsConnector
from warding.pipeline.bulk import Batch, BulkPipeline
from warding.pipeline.scan import BATCH, count_outcomes, read_inputs

#: How often a partition waiting for its turn checks that its scan still wants it.
TURN_CHECK_SECONDS = 2.0
#: Apps kept per worker process (one per database a scan or the shards use).
MAX_APPS = 4
_apps: dict[str, Any] = {}
_lock = threading.Lock()


def settings_data(settings: Any) -> dict[str, Any]:
    """The settings as JSON data, with paths made absolute (workers have their own cwd)."""
    from sqlalchemy.engine import make_url

    data: dict[str, Any] = settings.model_dump(mode="json")
    data["dask_scheduler"] = None  # a worker's own lookups use its process's index
    for key, value in settings.model_dump().items():
        if isinstance(value, Path):
            data[key] = str(value.resolve())
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        data["database_url"] = url.set(database=str(Path(url.database).resolve())) \
            .render_as_string(hide_password=False)
    return data


def worker_app(settings: dict[str, Any]) -> Any:
    """This process's app for these settings, built on first use."""
    from warding.app import Warding
    from warding.config import Settings

    key = json.dumps(settings, sort_keys=True)
    with _lock:
        app = _apps.pop(key, None)
        if app is None:
            app = Warding(Settings(**settings))
            while len(_apps) >= MAX_APPS:  # the least recently used one goes
                _apps.pop(next(iter(_apps))).close()
        _apps[key] = app
        return app


@dataclass
class PartitionCounts:
    """What :func:`process_partition` did, for the client's summary."""

    number: int
    reads: int = 0
    items: int = 0
    duplicates: int = 0
    errors: list[dict[str, str]] = field(default_factory=list)
    matches: int = 0
    classified: int = 0
    case_ids: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _reads(app: Any, part: Any, source: str) -> Iterator[Read]:
    path = Path(part.path)
    if part.ranged:
        connector = next(c for c in app.connectors if isinstance(c, JSONLPostsConnector))
        yield from connector.read_range(path, source, app.limits, part.start, part.end,
                                        part.first_line)
        return
    yield from read_inputs(app, [path], source)


def _batches(app: Any, part: Any, source: str) -> Iterator[list[Read]]:
    batch: list[Read] = []
    for read in _reads(app, part, source):
        batch.append(read)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _strip(batch: Batch) -> Batch:
    """The batch without media bytes (stored already) for the trip back to the client."""
    for p in batch.fresh:
        if p.raw.media:
            p.raw = replace(p.raw, media=[])
    return batch


def prepare_partition(settings: dict[str, Any], part: Any, source: str,
                      actor: str) -> tuple[int, list[Batch]]:
    """Read, hash, match and classify one partition; write nothing."""
    app = worker_app(settings)
    pipeline = BulkPipeline(app, actor, wait=True, run_actions=False,
                            loader=_shared_loader(app))
    batches = [_strip(pipeline.prepare(source, reads)) for reads in _batches(app, part, source)]
    return sum(len(b.outcomes) for b in batches), batches


def process_partition(settings: dict[str, Any], part: Any, source: str, actor: str,
                      run: str | None = None) -> PartitionCounts:
    """Store one partition with the bulk pipeline (the worker writes: PostgreSQL). With
    ``run``, the partition is prepared at once but written only after the partitions before
    it (:func:`turn_event`): commits follow input order, so an id repeated in two partitions
    keeps its first copy, as in a single-process scan."""
    app = worker_app(settings)
    pipeline = BulkPipeline(app, actor, wait=True, run_actions=True,
                            loader=_shared_loader(app))
    counts = PartitionCounts(part.number)
    batches = [pipeline.prepare(source, reads) for reads in _batches(app, part, source)]
    if run is not None and part.number > 0:
        _wait_for(turn_event(run, part.number - 1))
    for batch in batches:
        pipeline.write(batch)
        outcomes = pipeline.settle(batch)
        counts.reads += len(outcomes)
        count_outcomes(counts, outcomes)
    pipeline.finish()
    if run is not None:
        turn_event(run, part.number).set()
    counts.matches, counts.classified = pipeline.counts.matches, pipeline.counts.classified
    counts.case_ids = list(pipeline.counts.case_ids)
    counts.notes = pipeline.notes
    return counts


def turn_event(run: str, number: int, client: Any = None) -> Any:
    """The Dask event set once partition ``number`` of scan ``run`` has committed."""
    from distributed import Event

    return Event(f"warding-{run}-written-{number}", client=client)


class TurnAbandoned(RuntimeError):
    """The scan this partition belongs to is gone (its client died): nothing was written."""


def _wait_for(event: Any) -> None:
    """Leave the worker's thread pool, then wait: the worker starts another partition
    meanwhile (the one waited for may be queued behind this one), and this task's writes,
    mostly database time, then run beside that partition's preparation instead of waiting
    for a free thread again. A task cancelled meanwhile (its client died) stops waiting
    before it writes anything."""
    from distributed import get_worker, secede

    worker = get_worker()
    key = worker.get_current_task()
    secede()
    while not event.wait(timeout=TURN_CHECK_SECONDS):
        task = worker.state.tasks.get(key)
        if task is None or task.state in ("cancelled", "released", "forgotten"):
            raise TurnAbandoned(f"partition task {key} was cancelled while waiting its turn")


def _shared_loader(app: Any) -> Any:
    from warding.pipeline.loader import shared_loader

    return shared_loader(app)

