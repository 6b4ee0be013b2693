"""Scan inputs: read them with a connector, store each accepted item with its
signals, match it against the banks, classify its text and open a case when
there is a reason to.

Durability: items are committed in small batches, each item inside its own
savepoint, and an item is "accepted" only once committed. Scanning the same
input again skips items already stored (unique on source + external id), so
a crash or ``kill -9`` mid-scan loses nothing accepted and duplicates nothing
when the scan is run again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from warding.audit.log import record
from warding.cases.routing import RoutingPolicy, open_case, reasons_for
from warding.classify.base import DEFAULT_THRESHOLD, ClassifierResult, ModelMissing
from warding.db.models import (
    Bank,
    Classification,
    ContentItem,
    IngestRejection,
    ItemMedia,
    Match,
    MediaObject,
    Signal,
)
from warding.events import ScanCompleted
from warding.ingest.base import Connector, RawItem, Rejection
from warding.matching.semantic import ScanSemantic
from warding.matching.service import MatchEngine, MatchResult, get_engine
from warding.review.decisions import DecisionInput, policy_category
from warding.signals import compute, langid
from warding.signals.base import SignalError

BATCH = 200
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


def _reads(app: Any, paths: Sequence[Path], source: str) -> Iterator[RawItem | Rejection]:
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
        except Exception as exc:  # a connector bug must not lose the rest of the batch
            yield Rejection(str(path), f"{connector.name} connector failed: {exc}")


def _batches(reads: Iterator[RawItem | Rejection], size: int) -> Iterator[list[RawItem | Rejection]]:
    batch: list[RawItem | Rejection] = []
    for read in reads:
        batch.append(read)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _item_text(raw: RawItem) -> str:
    parts = [p for p in (raw.title, raw.text) if p]
    return "\n".join(parts)


class Scanner:
    """Runs one scan; holds the per-scan state (engine, classifier, summary)."""

    def __init__(self, app: Any, source: str, actor: str = "cli") -> None:
        self.app = app
        self.source = source
        self.actor = actor
        self.summary = ScanSummary()
        self.auto_cases: list[tuple[int, MatchResult]] = []
        self._auto_bank_ids: set[int] | None = None
        self.semantic = ScanSemantic(app)
        try:
            self.classifier = app.classifier()
        except ModelMissing as exc:
            self.classifier = None
            self.summary.notes.append(f"classifier skipped: {exc}")
        threshold = app.settings.classifier_threshold
        if threshold is None:
            threshold = float(getattr(self.classifier, "threshold", DEFAULT_THRESHOLD))
        self.policy = RoutingPolicy(threshold, app.settings.classifier_min_words)

    def run(self, paths: Sequence[Path], progress: Progress | None = None) -> ScanSummary:
        self.summary.inputs = [str(p) for p in paths]
        for batch in _batches(_reads(self.app, paths, self.source), BATCH):
            self._process_batch(batch)
            if progress:
                progress(len(batch))
        with self.app.transaction() as session:
            s = self.summary
            record(session, ScanCompleted(self.source, s.inputs, s.items, s.duplicates,
                                          len(s.errors), s.cases_opened), self.actor)
        self._auto_actions()
        return self.summary

    def _reject(self, session: Session, input_ref: str, reason: str) -> None:
        self.summary.errors.append({"input": input_ref, "reason": reason})
        session.add(IngestRejection(source=self.source, input_ref=input_ref, reason=reason))

    def _process_batch(self, batch: list[RawItem | Rejection]) -> None:
        items = [r for r in batch if isinstance(r, RawItem)]
        results = self._classify(items)
        self.semantic.prepare([(id(i), _item_text(i)) for i in items if _item_text(i).strip()])
        with self.app.transaction() as session:
            engine = get_engine(self.app, session)
            existing = self._existing(session, items)
            for read in batch:
                if isinstance(read, Rejection):
                    self._reject(session, read.input, read.reason)
                    continue
                key = (read.source, read.external_id)
                if key in existing:
                    self.summary.duplicates += 1
                    continue
                existing.add(key)
                try:
                    with session.begin_nested():
                        self._store(session, engine, read, results.get(id(read)))
                except SignalError as exc:
                    self._reject(session, read.input_ref, str(exc))
                except IntegrityError:
                    self.summary.duplicates += 1

    def _existing(self, session: Session, items: list[RawItem]) -> set[tuple[str, str]]:
        ids = list({i.external_id for i in items})
        found: set[tuple[str, str]] = set()
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            rows = session.execute(
                select(ContentItem.source, ContentItem.external_id).where(
                    ContentItem.source == self.source, ContentItem.external_id.in_(chunk))
            )
            found.update((s, e) for s, e in rows)
        return found

    def _classify(self, items: list[RawItem]) -> dict[int, ClassifierResult]:
        if self.classifier is None:
            return {}
        texted = [(id(i), _item_text(i)) for i in items if _item_text(i).strip()]
        if not texted:
            return {}
        results = self.classifier.classify([t for _, t in texted])
        return {key: res for (key, _), res in zip(texted, results, strict=True)}

    def _store(self, session: Session, engine: MatchEngine, raw: RawItem,
               result: ClassifierResult | None) -> None:
        types = self.app.signal_types
        signals: list[compute.SignalValue] = []
        media_rows: list[tuple[str, str, int]] = []
        for position, blob in enumerate(raw.media):
            digest = self.app.media.put(blob.data)
            media_rows.append((digest, blob.name, position))
            if session.get(MediaObject, digest) is None:
                session.add(MediaObject(sha256=digest, size=len(blob.data), mime=blob.mime))
            signals += compute.for_bytes(types, blob.data, blob.mime, f"media:{blob.name}")
        text = _item_text(raw)
        if text.strip():
            signals += compute.for_text(types, text)
        urls = ([raw.url] if raw.url else []) + list(raw.outlinks)
        signals += compute.for_urls(types, urls)

        item = ContentItem(
            source=raw.source, external_id=raw.external_id, kind=raw.kind, url=raw.url,
            account=raw.account, posted_at=raw.posted_at, title=raw.title, text=raw.text,
            lang=(raw.metadata.get("lang") if isinstance(raw.metadata.get("lang"), str)
                  else langid.detect(text) if text.strip() else None),
            outlinks=list(raw.outlinks), meta=dict(raw.metadata), input_ref=raw.input_ref,
        )
        session.add(item)
        session.flush()
        if media_rows:
            session.execute(insert(ItemMedia), [
                {"item_id": item.id, "sha256": d, "name": n, "position": p} for d, n, p in media_rows])
        if signals:
            session.execute(insert(Signal), [
                {"item_id": item.id, "signal_type": s.signal_type, "value": s.value,
                 "origin": s.origin} for s in signals])
        matches = engine.lookup_all(signals) + self.semantic.matches(id(raw))
        result = self.semantic.explain(id(raw), result)
        if matches:
            session.execute(insert(Match), [
                {"item_id": item.id, "bank_id": m.bank_id, "entry_id": m.entry_id,
                 "signal_type": m.signal_type, "value": m.value, "distance": m.distance}
                for m in matches])
        if result is not None:
            session.add(Classification(item_id=item.id, model=result.model, label=result.label,
                                       score=result.score, violating=result.violating,
                                       explanation=result.explanation))
            self.summary.classified += 1
        reasons = reasons_for(matches, result, self.policy, words=len(text.split()))
        case = open_case(session, item, reasons, self.actor)
        self.summary.items += 1
        self.summary.matches += len(matches)
        if case is not None:
            self.summary.cases_opened += 1
            self.summary.case_ids.append(case.id)
            auto = [m for m in matches if m.bank_id in self._auto_banks(session)]
            if auto:
                self.auto_cases.append((case.id, auto[0]))

    def _auto_banks(self, session: Session) -> set[int]:
        if self._auto_bank_ids is None:
            self._auto_bank_ids = set(session.execute(
                select(Bank.id).where(Bank.auto_action.is_(True), Bank.enabled.is_(True))).scalars())
        return self._auto_bank_ids

    def _auto_actions(self) -> None:
        """Banks explicitly configured to act automatically: decide and act without review."""
        from warding.review.service import record_decision

        for case_id, match in self.auto_cases:
            category = policy_category(match.labels.get("category"))
            record_decision(
                self.app, case_id,
                DecisionInput(
                    violating=True, category=category,
                    reason=f"automatic: matched entry {match.entry_id} of bank {match.bank!r}, "
                           "which is configured to act automatically"),
                actor="system", reviewer_id=None, automated=True)


def scan_paths(app: Any, paths: Sequence[Path], source: str, *, actor: str = "cli",
               progress: Progress | None = None) -> ScanSummary:
    return Scanner(app, source, actor).run(paths, progress)
