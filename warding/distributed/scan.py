"""A scan on a Dask cluster (``warding scan --dask``): the same items, matches,
classifications and cases as :func:`warding.pipeline.scan.scan_paths`.

The inputs are cut into partitions (:mod:`warding.distributed.partitions`); workers read,
hash, match and classify them (:mod:`warding.distributed.worker`). Who writes depends on the
database:

- **SQLite** (one writer, a file on this machine): the client writes each partition's
  prepared batches in bulk, in partition order, one transaction per batch, with the bulk
  pipeline's own write step, so items get the ids a single-process scan gives them.
- **PostgreSQL**: the workers write their partitions themselves, preparing as many at once
  as there are workers and committing in partition order (a Dask event per partition), so
  that an id repeated across partitions keeps its first copy; the client collects counts.

Guarantees are those of a local scan: each batch commits in one transaction, items go in with
``ON CONFLICT (source, external_id) DO NOTHING``, partitions are the same on every run. A
worker killed mid-task has its partition run again by Dask (on SQLite it wrote nothing; on
PostgreSQL the batches it committed are found stored and skipped); a killed client leaves
committed batches, and the rerun skips them.
"""

from __future__ import annotations

import uuid
from collections import deque
from collections.abc import Sequence
from itertools import islice
from pathlib import Path
from typing import Any

from warding.audit.log import record
from warding.distributed.cluster import worker_count
from warding.distributed.partitions import PARTITION_BYTES, Partition, plan
from warding.distributed.worker import (
    PartitionCounts,
    prepare_partition,
    process_partition,
    settings_data,
    turn_event,
)
from warding.events import ScanCompleted
from warding.pipeline.bulk import Batch, BulkPipeline
from warding.pipeline.loader import ClassifierLoader
from warding.pipeline.scan import Progress, ScanSummary, count_outcomes


class OnDemandLoader(ClassifierLoader):
    """The client's classifier, loaded only if a stored item turns out to need it (one a
    crashed local scan left unclassified): the workers classify everything else."""

    def start(self) -> None:
        """Nothing: loading starts in :meth:`wait`."""

    def wait(self) -> Any:
        ClassifierLoader.start(self)
        return super().wait()


class DistributedScanner:
    """Runs one scan on a Dask ``client``."""

    def __init__(self, app: Any, client: Any, source: str, actor: str = "cli", *,
                 partition_bytes: int = PARTITION_BYTES, writer: str = "auto") -> None:
        if writer not in ("auto", "client", "workers"):
            raise ValueError(f"writer must be auto, client or workers, not {writer!r}")
        self.app = app
        self.client = client
        self.source = source
        self.actor = actor
        self.partition_bytes = partition_bytes
        sqlite = app.engine.dialect.name == "sqlite"
        self.writer = ("client" if sqlite else "workers") if writer == "auto" else writer
        if self.writer == "workers" and sqlite:
            raise ValueError("on SQLite only the client writes (one writer at a time)")
        self.summary = ScanSummary()
        self.partitions: list[Partition] = []
        self.run_id = uuid.uuid4().hex[:12]

    @property
    def window(self) -> int:
        """Partitions in flight: enough to keep every worker busy, few enough to bound the
        memory their results take on the cluster."""
        return 2 * worker_count(self.client) + 1

    def run(self, paths: Sequence[Path], progress: Progress | None = None) -> ScanSummary:
        s = self.summary
        s.inputs = [str(p) for p in paths]
        self.partitions = plan(paths, self.app.connectors, self.partition_bytes)
        settings = settings_data(self.app.settings)
        if self.writer == "client":
            self._client_writes(settings, progress)
        else:
            self._workers_write(settings, progress)
        s.notes.append(f"{len(self.partitions)} partitions on {worker_count(self.client)} "
                       f"Dask workers; written by the {self.writer}")
        with self.app.transaction() as session:
            record(session, ScanCompleted(self.source, s.inputs, s.items, s.duplicates,
                                          len(s.errors), s.cases_opened), self.actor)
        return s

    def _submit(self, task: Any, settings: dict[str, Any], part: Partition,
                *extra: Any) -> Any:
        return self.client.submit(task, settings, part, self.source, self.actor, *extra,
                                  pure=False,
                                  key=f"warding-{task.__name__}-{part.number}-{self.run_id}")

    # -- SQLite: workers prepare, the client writes in partition order --------------------
    def _client_writes(self, settings: dict[str, Any], progress: Progress | None) -> None:
        pipeline = BulkPipeline(self.app, self.actor, wait=True, run_actions=True,
                                loader=OnDemandLoader(self.app))
        inflight: deque[Any] = deque()
        window = self.window
        for part in self.partitions:
            inflight.append(self._submit(prepare_partition, settings, part))
            if len(inflight) > window:
                self._write(pipeline, inflight.popleft(), progress)
        while inflight:
            self._write(pipeline, inflight.popleft(), progress)
        pipeline.finish()
        counts = pipeline.counts
        s = self.summary
        s.matches, s.classified = counts.matches, counts.classified
        s.cases_opened, s.case_ids = counts.cases_opened, list(counts.case_ids)
        s.notes += pipeline.notes

    def _write(self, pipeline: BulkPipeline, future: Any, progress: Progress | None) -> None:
        reads, batches = future.result()
        future.release()
        for batch in batches:
            self._write_batch(pipeline, batch)
        if progress:
            progress(reads)

    def _write_batch(self, pipeline: BulkPipeline, batch: Batch) -> None:
        pipeline.write(batch)
        count_outcomes(self.summary, pipeline.settle(batch))

    # -- PostgreSQL: workers write -------------------------------------------------------
    def _workers_write(self, settings: dict[str, Any], progress: Progress | None) -> None:
        from distributed import as_completed

        parts = iter(self.partitions)
        run = self.run_id
        running = as_completed([self._submit(process_partition, settings, part, run)
                                for part in islice(parts, self.window)])
        done: list[PartitionCounts] = []
        for future in running:
            counts: PartitionCounts = future.result()
            future.release()
            done.append(counts)
            if counts.number > 0:  # partition n has committed: nobody waits for n - 1 now
                turn_event(run, counts.number - 1, self.client).clear()
            if progress:
                progress(counts.reads)
            nxt = next(parts, None)
            if nxt is not None:
                running.add(self._submit(process_partition, settings, nxt, run))
        if self.partitions:
            turn_event(run, self.partitions[-1].number, self.client).clear()
        s = self.summary
        for c in sorted(done, key=lambda c: c.number):
            s.items += c.items
            s.duplicates += c.duplicates
            s.errors += c.errors
            s.matches += c.matches
            s.classified += c.classified
            s.case_ids += c.case_ids
            s.notes += [n for n in c.notes if n not in s.notes]
        s.cases_opened = len(s.case_ids)


def scan_on_dask(app: Any, client: Any, paths: Sequence[Path], source: str, *,
                 actor: str = "cli", progress: Progress | None = None,
                 partition_bytes: int = PARTITION_BYTES) -> ScanSummary:
    """Scan ``paths`` on the cluster of ``client`` (see the module docstring)."""
    return DistributedScanner(app, client, source, actor,
                              partition_bytes=partition_bytes).run(paths, progress)
