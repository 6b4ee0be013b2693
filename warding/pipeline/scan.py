"""Scan inputs: read them with a connector and hand them, in batches, to the bulk
pipeline (:mod:`warding.pipeline.bulk`, shared with ``POST /api/items``), which
stores each accepted item with its signals, matches it against the banks,
classifies its text and opens a case when there is a reason to.

Durability: each batch is one transaction, and an item is "accepted" only once
committed. Scanning the same input again skips items already stored (unique on
source + external id), so a crash or ``kill -9`` mid-scan loses nothing accepted
and duplicates nothing when the scan is run again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from warding.audit.log import record
from warding.events import ScanCompleted
from warding.ingest.base import Connector, RawItem, Rejection
from warding.pipeline.bulk import Batch, BulkPipeline, ItemOutcome

#: Reads per batch (one transaction each): the first batches are small, then
#: :data:`BATCH` each.
BATCH = 500
BATCH_SIZES = (20, 100, BATCH)
Progress = Callable[[int], None]


@dataclass
class ScanSummary:
    inputs: list[str] = field(default_factory=list)
    items: int = 0
    duplicates: int = 0
    errors: list[dict[str, str]] = field(default_factory=list)
    matches: int = 0
    classified: int = 0
    cases_opened: int = 0
    case_ids: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "inputs": self.inputs,
            "items": self.items,
            "duplicates": self.duplicates,
            "rejected": len(self.errors),
            "errors": self.errors,
            "matches": self.matches,
            "classified": self.classified,
            "cases_opened": self.cases_opened,
            "notes": self.notes,
        }


def pick_connector(connectors: Sequence[Connector], path: Path) -> Connector | None:
    for connector in connectors:
        if connector.can_read(path):
            return connector
    return None


def read_inputs(app: Any, paths: Sequence[Path], source: str) -> Iterator[RawItem | Rejection]:
    for path in paths:
        if not path.exists():
            yield Rejection(str(path), "no such file or directory")
            continue
        connector = pick_connector(app.connectors, path)
        if connector is None:
            yield Rejection(str(path), "no connector can read this input")
            continue
        try:
            yield from connector.read(path, source, app.limits)
        except Exception as exc:  # noqa: BLE001 - a connector bug must not lose the batch
            yield Rejection(str(path), f"{connector.name} connector failed: {exc}")


def _batches(reads: Iterator[RawItem | Rejection]) -> Iterator[list[RawItem | Rejection]]:
    """Batches of :data:`BATCH_SIZES` (then the last size): small ones first, so that the
    first items are stored within moments of the start."""
    sizes = iter(BATCH_SIZES)
    size = next(sizes)
    batch: list[RawItem | Rejection] = []
    for read in reads:
        batch.append(read)
        if len(batch) >= size:
            yield batch
            batch = []
            size = next(sizes, size)
    if batch:
        yield batch


class Scanner:
    """Runs one scan: reads the inputs in batches and hands them to the bulk pipeline."""

    def __init__(self, app: Any, source: str, actor: str = "cli", *,
                 defer_classifier: bool = False) -> None:
        self.app = app
        self.source = source
        self.actor = actor
        self.summary = ScanSummary()
        self.pipeline = BulkPipeline(app, actor, wait=not defer_classifier, run_actions=True)

    def run(self, paths: Sequence[Path], progress: Progress | None = None) -> ScanSummary:
        self.summary.inputs = [str(p) for p in paths]
        # Each batch is written on a second thread while the next one is prepared (the
        # database works with the GIL released); only one write is in flight at a time.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="warding-scan-write") as pool:
            writing: tuple[Batch, Future[None]] | None = None
            for reads in _batches(read_inputs(self.app, paths, self.source)):
                batch = self.pipeline.prepare(self.source, reads)
                if writing is not None:
                    self._settle(*writing, progress)
                writing = (batch, pool.submit(self.pipeline.write, batch))
            if writing is not None:
                self._settle(*writing, progress)
        self.pipeline.finish()
        s, counts = self.summary, self.pipeline.counts
        s.matches, s.classified = counts.matches, counts.classified
        s.cases_opened, s.case_ids = counts.cases_opened, list(counts.case_ids)
        s.notes += self.pipeline.notes
        with self.app.transaction() as session:
            record(session, ScanCompleted(self.source, s.inputs, s.items, s.duplicates,
                                          len(s.errors), s.cases_opened), self.actor)
        return self.summary

    def _settle(self, batch: Batch, written: Future[None], progress: Progress | None) -> None:
        written.result()  # a failed write raises here
        outcomes = self.pipeline.settle(batch)
        self._count(outcomes)
        if progress:
            progress(len(outcomes))

    def _count(self, outcomes: list[ItemOutcome]) -> None:
        count_outcomes(self.summary, outcomes)


def count_outcomes(summary: Any, outcomes: list[ItemOutcome]) -> None:
    """Add a batch's outcomes to ``summary`` (anything with items, duplicates, errors)."""
    for o in outcomes:
        if o.status == "accepted":
            summary.items += 1
        elif o.status == "duplicate":
            summary.duplicates += 1
        else:
            summary.errors.append({"input": o.input_ref, "reason": o.error or ""})


def scan_paths(app: Any, paths: Sequence[Path], source: str, *, actor: str = "cli",
               progress: Progress | None = None, defer_classifier: bool = False) -> ScanSummary:
    """Scan ``paths``. With ``defer_classifier`` (the CLI), items are stored from the first
    moment while the classifier loads, and classified as soon as it is loaded."""
    return Scanner(app, source, actor, defer_classifier=defer_classifier).run(paths, progress)
