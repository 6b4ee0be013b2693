"""The bulk pipeline: one code path for ``warding scan`` and ``POST /api/items``.

A batch of reads (items and refusals, in order) goes through four steps:

1. **Known items**: one query finds which (source, external id) are already stored;
   they are ``duplicate`` and cost nothing more.
2. **Prepare**, outside any transaction: signals of each new item (its text, media
   and links; media go to the content-addressed store), its language when not
   given, one batched classification (scores without explanations), one batched
   bank lookup (and semantic matching when banks hold texts), then routing; only
   the items that open a case are classified again with explanations.
3. **Write**, one transaction per batch (:mod:`warding.pipeline.store`): items
   with ``ON CONFLICT DO NOTHING``, then their media, signals, matches,
   classifications, cases, the cases' audit events, the platform's webhook events
   and the refusals. An item is ``accepted`` once this commits.
4. **After commit**: banks configured to act automatically decide their cases.

Durability: a crash (``kill -9``) loses at most the batch being written, none of
which was acknowledged; running the same input again finds every committed item
known and duplicates nothing.

Start-up: the classifier is loaded on a background thread (:class:`ClassifierLoader`).
With ``wait=False`` (the scan) batches that arrive before it is ready are stored
with their signals, matches and bank-match cases at once, and classified (and
routed on the score) as soon as it is; a crash in between is repaired by the next
run, which classifies stored items that have text and no classification.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from warding.audit.log import record_many
from warding.cases.routing import RoutingPolicy, reasons_for, severity_for
from warding.classify.base import Classifier, ClassifierResult
from warding.db.models import (
    Bank,
    Classification,
    ContentItem,
    ItemMedia,
    Match,
    Signal,
    utcnow,
)
from warding.db.models_ocr import ImageTextRow
from warding.events import CaseOpened
from warding.incidents.retro_semantic import keep_scan_vectors
from warding.ingest.base import RawItem, Rejection
from warding.matching.semantic import ScanSemantic
from warding.matching.service import MatchResult, get_engine
from warding.ocr import items as ocr_items
from warding.pipeline import store
from warding.pipeline.loader import ClassifierLoader
from warding.pipeline.rows import add_reasons, classification_row, item_row
from warding.signals import compute, langid
from warding.signals.base import SignalError

Read = RawItem | Rejection


@dataclass
class ItemOutcome:
    """What became of one read, in input order."""

    input_ref: str
    external_id: str | None
    status: str  # accepted | duplicate | rejected
    item_id: int | None = None
    error: str | None = None
    matches: list[MatchResult] = field(default_factory=list)
    classification: ClassifierResult | None = None
    case_id: int | None = None


@dataclass
class Counts:
    """Totals over every batch of one pipeline, deferred classification included."""

    matches: int = 0
    classified: int = 0
    cases_opened: int = 0
    case_ids: list[int] = field(default_factory=list)


@dataclass
class _Prepared:
    index: int
    raw: RawItem
    text: str
    signals: list[compute.SignalValue]
    media: list[tuple[str, str, int, int, str]]  # sha256, name, position, size, mime
    lang: str | None = None
    matches: list[MatchResult] = field(default_factory=list)
    result: ClassifierResult | None = None
    reasons: list[dict[str, Any]] = field(default_factory=list)
    item_id: int | None = None
    images: list[ocr_items.ImageRead] = field(default_factory=list)
    ocr_matches: list[MatchResult] = field(default_factory=list)
    vector: Any = None  # the text's sentence vector, when semantic matching computed one

    @property
    def words(self) -> int:
        return len(self.text.split())

    @property
    def key(self) -> tuple[str, str]:
        return (self.raw.source, self.raw.external_id)


@dataclass
class _Pending:
    """A stored item whose classification was deferred (or lost in a crash)."""

    item_id: int
    text: str
    has_case: bool
    source: str = ""
    external_id: str = ""


@dataclass
class Batch:
    """One batch between :meth:`BulkPipeline.prepare`, ``write`` and ``settle``."""

    source: str
    outcomes: list[ItemOutcome | None]
    rejections: list[tuple[str, str]] = field(default_factory=list)
    firsts: dict[str, int] = field(default_factory=dict)
    fresh: list[_Prepared] = field(default_factory=list)
    deferred: bool = False
    classified: bool = False
    auto: list[tuple[int, MatchResult]] = field(default_factory=list)


def item_text(raw: RawItem) -> str:
    return "\n".join(p for p in (raw.title, raw.text) if p)


class BulkPipeline:
    """Stores batches of reads; holds what outlives one batch (the classifier loader,
    the semantic helper, deferred items, totals). One per scan or per API request."""

    def __init__(self, app: Any, actor: str, *, wait: bool = True,
                 run_actions: bool = True, loader: ClassifierLoader | None = None) -> None:
        self.app = app
        self.actor = actor
        self.wait = wait
        self.run_actions = run_actions
        self.loader = loader or ClassifierLoader(app)
        if wait:
            self.loader.start()
        # else: started once the first batch is stored, so that loading (mostly imports,
        # which hold the GIL) does not delay the first items
        self.semantic = ScanSemantic(app)
        self.pending: list[_Pending] = []
        self.counts = Counts()
        self.auto_decided: list[int] = []

    @property
    def notes(self) -> list[str]:
        return [self.loader.note] if self.loader.note else []

    # -- one batch --------------------------------------------------------------
    def process(self, source: str, reads: Sequence[Read]) -> list[ItemOutcome]:
        """Store one batch; what became of each read, in order."""
        batch = self.prepare(source, reads)
        self.write(batch)
        return self.settle(batch)

    def prepare(self, source: str, reads: Sequence[Read]) -> Batch:
        """Steps 1-2 (no writes): may run while the previous batch is being written."""
        batch = Batch(source, [None] * len(reads))
        candidates: list[tuple[int, RawItem]] = []
        for i, read in enumerate(reads):
            if isinstance(read, Rejection):
                batch.outcomes[i] = ItemOutcome(read.input, None, "rejected", error=read.reason)
                batch.rejections.append((read.input, read.reason))
            elif read.external_id in batch.firsts:
                batch.outcomes[i] = ItemOutcome(read.input_ref, read.external_id, "duplicate")
            else:
                batch.firsts[read.external_id] = i
                candidates.append((i, read))
        with self.app.transaction() as session:
            known = store.existing_ids(session, source, [r.external_id for _, r in candidates])
        for i, raw in candidates:
            if raw.external_id in known:
                batch.outcomes[i] = ItemOutcome(raw.input_ref, raw.external_id, "duplicate",
                                                item_id=known[raw.external_id])
                continue
            prepared = self._prepare(i, raw)
            if isinstance(prepared, str):
                batch.outcomes[i] = ItemOutcome(raw.input_ref, raw.external_id, "rejected",
                                                error=prepared)
                batch.rejections.append((raw.input_ref, prepared))
            else:
                batch.fresh.append(prepared)
        fresh = batch.fresh
        classifier, batch.deferred = self._classifier_now(
            wait=any(r.text for p in fresh for r in p.images))
        batch.classified = classifier is not None
        self._languages(fresh)
        if classifier is not None:
            self._score(classifier, fresh)
        self._match(fresh)
        if classifier is not None:
            self._explain(classifier, fresh)
        for p in fresh:
            p.reasons = ocr_items.mark_origins(
                reasons_for(p.matches, p.result, self.loader.policy(), words=p.words)
                + ocr_items.reasons(p.images, self.loader.policy()), p.ocr_matches)
        return batch

    def write(self, batch: Batch) -> None:
        """Step 3, the batch's one transaction (database work only: it may run on another
        thread while the next batch is prepared)."""
        batch.auto = self._write(batch.source, batch.fresh, batch.rejections, batch.outcomes)

    def settle(self, batch: Batch) -> list[ItemOutcome]:
        """Step 4, after the commit: deferred classification, automatic decisions."""
        outcomes = batch.outcomes
        self.loader.start()
        if batch.deferred:
            self.pending += [_Pending(p.item_id, p.text, bool(p.reasons), batch.source,
                                      p.raw.external_id)
                             for p in batch.fresh if p.item_id is not None and p.text.strip()]
        elif batch.classified:
            self._repair([o for o in outcomes if o is not None and o.status == "duplicate"
                          and o.item_id is not None])
        for o in outcomes:  # a repeat within the batch: the item its first occurrence made
            if o is not None and o.status == "duplicate" and o.item_id is None:
                first = outcomes[batch.firsts[o.external_id or ""]]
                o.item_id = first.item_id if first is not None else None
        if self.pending and self.loader.ready():
            self.classify_pending()
        self._auto_actions(batch.auto)
        return [o for o in outcomes if o is not None]

    def finish(self) -> None:
        """Wait for the classifier and classify what was stored before it was ready."""
        if self.pending:
            self.loader.wait()
            self.classify_pending()

    # -- prepare ----------------------------------------------------------------
    def _classifier_now(self, wait: bool = False) -> tuple[Classifier | None, bool]:
        """(the classifier or None, whether this batch's classification is deferred); a
        batch holding text read from images waits for it (that text is scored only here)."""
        if self.wait or wait or self.loader.ready():
            return self.loader.wait(), False
        return None, True

    def _prepare(self, index: int, raw: RawItem) -> _Prepared | str:
        """Signals of one item (its media stored), or why it is refused."""
        types = self.app.signal_types
        signals: list[compute.SignalValue] = []
        try:  # what each file holds: its signals, and the texts and images found inside it
            found = [compute.for_media(types, blob.data, blob.mime, f"media:{blob.name}",
                                       self.app.derive_limits) for blob in raw.media]
        except SignalError as exc:
            return str(exc)
        signals += [s for f in found for s in f.signals]
        derived = [t for f in found for _, t in f.texts]  # a PDF's pages, for the classifier
        media = [(self.app.media.put(blob.data), blob.name, position, len(blob.data), blob.mime)
                 for position, blob in enumerate(raw.media)]
        images = ocr_items.read_media(self.app, [(pos, blob.name, m[0], blob.data, blob.mime)
                                                 for (pos, blob), m in zip(enumerate(raw.media),
                                                                           media, strict=True)],
                                      found, "media:")
        signals += ocr_items.signals(types, images)
        text = "\n\n".join(t for t in [item_text(raw), *derived] if t.strip())
        if text.strip():
            signals += compute.for_text(types, text)
        urls = ([raw.url] if raw.url else []) + list(raw.outlinks)
        signals += compute.for_urls(types, urls)
        lang = raw.metadata.get("lang")
        return _Prepared(index, raw, text, signals, media,
                         lang=lang if isinstance(lang, str) else None, images=images)

    @staticmethod
    def _languages(fresh: list[_Prepared]) -> None:
        todo = [p for p in fresh if p.lang is None and p.text.strip()]
        for p, lang in zip(todo, langid.detect_many([p.text for p in todo]), strict=True):
            p.lang = lang

    @staticmethod
    def _score(classifier: Classifier, fresh: list[_Prepared]) -> None:
        texted = [p for p in fresh if p.text.strip()]
        if texted:
            results = classifier.classify_batch([p.text for p in texted])
            for p, result in zip(texted, results, strict=True):
                p.result = result
        ocr_items.score(classifier, [r for p in fresh for r in p.images])

    def _match(self, fresh: list[_Prepared]) -> None:
        if not fresh:
            return
        groups = get_engine(self.app).lookup_groups([p.signals for p in fresh])
        image_keys = ocr_items.semantic_keys(fresh)
        self.semantic.prepare([(p.index, p.text) for p in fresh if p.text.strip()]
                              + [(k, t) for k, (_, t) in image_keys.items()])
        for p, matches in zip(fresh, groups, strict=True):
            from_images = [m for k, (i, _) in image_keys.items() if i == p.index
                           for m in self.semantic.matches(k)]
            p.matches = matches + self.semantic.matches(p.index) + from_images
            p.vector = self.semantic.vectors.get(p.index)  # kept with the batch (it may be
            # written on another thread while the next batch is prepared)
            p.ocr_matches = ocr_items.from_ocr(matches, p.signals) + from_images

    def _explain(self, classifier: Classifier, fresh: list[_Prepared]) -> None:
        """Explanations (top features) for the items that will open a case."""
        policy = self.loader.policy()
        routed = [p for p in fresh if p.result is not None
                  and (p.matches or _flagged(p.result, policy, p.words))]
        if routed:
            for p, result in zip(routed, classifier.classify([p.text for p in routed]),
                                 strict=True):
                p.result = result
        for p in fresh:
            p.result = self.semantic.explain(p.index, p.result)

    # -- write ------------------------------------------------------------------
    def _write(self, source: str, fresh: list[_Prepared], rejections: list[tuple[str, str]],
               outcomes: list[ItemOutcome | None]) -> list[tuple[int, MatchResult]]:
        now = utcnow()
        auto: list[tuple[int, MatchResult]] = []
        if not fresh and not rejections:
            return auto
        with self.app.transaction() as session:
            inserted = store.insert_items(session, [item_row(p, now) for p in fresh])
            stored: list[tuple[int, _Prepared]] = []
            lost: list[_Prepared] = []
            for p in fresh:
                item_id = inserted.get(p.key)
                if item_id is None:
                    lost.append(p)  # another writer stored it first
                else:
                    p.item_id = item_id
                    stored.append((item_id, p))
            taken = store.ids_of(session, [p.key for p in lost])
            self._write_details(session, [p for _, p in stored], now)
            keep_scan_vectors(session, self.app, [(i, p.vector) for i, p in stored])
            cases = store.insert_cases(session, [
                store.case_row(i, p.reasons, severity_for(p.reasons), now)
                for i, p in stored if p.reasons])
            opened = [(cases[i], i, p) for i, p in stored if i in cases]
            self._opened(session, source, [(c, i, p.raw.external_id, p.reasons, p.matches)
                                           for c, i, p in opened])
            auto_banks = _auto_banks(session) if opened else set()
            store.reject_rows(session, source, rejections)
        for p in lost:
            outcomes[p.index] = ItemOutcome(p.raw.input_ref, p.raw.external_id, "duplicate",
                                            item_id=taken.get(p.key))
        for i, p in stored:
            outcomes[p.index] = ItemOutcome(p.raw.input_ref, p.raw.external_id, "accepted",
                                            item_id=i, matches=p.matches,
                                            classification=p.result, case_id=cases.get(i))
            self.counts.matches += len(p.matches)
            self.counts.classified += p.result is not None
        for case_id, _, p in opened:
            hit = [m for m in p.matches if m.bank_id in auto_banks]
            if hit:
                auto.append((case_id, hit[0]))
        return auto

    @staticmethod
    def _write_details(session: Session, stored: list[_Prepared], now: Any) -> None:
        store.insert_media_objects(session, {d: (size, mime) for p in stored
                                             for d, _, _, size, mime in p.media})
        store.insert_rows(session, ItemMedia, [
            {"item_id": p.item_id, "sha256": d, "name": n, "position": pos}
            for p in stored for d, n, pos, _, _ in p.media])
        store.insert_rows(session, Signal, [
            {"item_id": p.item_id, "signal_type": s.signal_type, "value": s.value,
             "origin": s.origin} for p in stored for s in p.signals])
        store.insert_rows(session, Match, [
            {"item_id": p.item_id, "bank_id": m.bank_id, "entry_id": m.entry_id,
             "signal_type": m.signal_type, "value": m.value, "distance": m.distance,
             "created_at": now} for p in stored for m in p.matches])
        store.insert_rows(session, ImageTextRow, [
            r.row(p.item_id, now) for p in stored if p.item_id is not None for r in p.images])
        store.insert_rows(session, Classification, [
            classification_row(p.item_id, p.result, now)
            for p in stored if p.result is not None and p.item_id is not None])

    def _opened(self, session: Session, source: str,
                opened: list[tuple[int, int, str, list[dict[str, Any]], list[MatchResult]]]
                ) -> None:
        """Audit events (and the platform's webhook events) of newly opened cases."""
        if not opened:
            return
        record_many(session, [CaseOpened(case_id, item_id, sorted({str(r["kind"]) for r in rs}))
                              for case_id, item_id, _, rs, _ in opened], self.actor)
        if self.app.settings.event_webhook_url:
            from warding.intake.outbox import queue_case_opened

            auto_banks = _auto_banks(session)
            for case_id, item_id, external_id, reasons, matches in opened:
                queue_case_opened(session, case_id=case_id, item_id=item_id, source=source,
                                  external_id=external_id, reasons=reasons,
                                  auto_action=any(m.bank_id in auto_banks for m in matches))
        self.counts.cases_opened += len(opened)
        self.counts.case_ids += [c for c, *_ in opened]

    # -- deferred classification ---------------------------------------------------
    def _repair(self, duplicates: list[ItemOutcome]) -> None:
        """Stored items with text and no classification (a crash before their deferred
        classification) are classified now."""
        waiting = {p.item_id for p in self.pending}
        ids = list(dict.fromkeys(o.item_id for o in duplicates
                                 if o.item_id is not None and o.item_id not in waiting))
        if not ids:
            return
        with self.app.transaction() as session:
            done = set(session.execute(select(Classification.item_id)
                                       .where(Classification.item_id.in_(ids))).scalars())
            todo = [i for i in ids if i not in done]
            if not todo:
                return
            rows = session.execute(select(ContentItem.id, ContentItem.title, ContentItem.text,
                                          ContentItem.source, ContentItem.external_id)
                                   .where(ContentItem.id.in_(todo))).all()
            with_case = set(session.execute(select(store.CASES.c.item_id)
                                            .where(store.CASES.c.item_id.in_(todo))).scalars())
        for item_id, title, text, source, external_id in rows:
            joined = "\n".join(p for p in (title, text) if p)
            if joined.strip():
                self.pending.append(_Pending(item_id, joined, item_id in with_case, source,
                                             external_id))

    def classify_pending(self) -> None:
        """Classify the deferred items and open the cases their scores call for."""
        classifier = self.loader.wait()
        pending = list({p.item_id: p for p in self.pending}.values())
        self.pending = []
        if classifier is None or not pending:
            return
        policy = self.loader.policy()
        results = classifier.classify_batch([p.text for p in pending])
        flagged = [k for k, (p, r) in enumerate(zip(pending, results, strict=True))
                   if _flagged(r, policy, len(p.text.split()))]
        # explained as at prepare time: the flagged ones and those a bank match routed
        explain = sorted(set(flagged) | {k for k, p in enumerate(pending) if p.has_case})
        if explain:
            explained = classifier.classify([pending[k].text for k in explain])
            for k, result in zip(explain, explained, strict=True):
                results[k] = result
        now = utcnow()
        with self.app.transaction() as session:
            store.insert_rows(session, Classification, [
                classification_row(p.item_id, r, now) for p, r in zip(pending, results,
                                                                        strict=True)])
            routed = [(pending[k], reasons_for([], results[k], policy,
                                               words=len(pending[k].text.split())))
                      for k in flagged]
            add_reasons(session, [(p.item_id, rs) for p, rs in routed if p.has_case])
            new = [(p, rs) for p, rs in routed if not p.has_case]
            cases = store.insert_cases(session, [
                store.case_row(p.item_id, rs, severity_for(rs), now) for p, rs in new])
            by_source: dict[str, list[Any]] = {}
            for p, rs in new:
                by_source.setdefault(p.source, []).append(
                    (cases[p.item_id], p.item_id, p.external_id, rs, []))
            for source, opened in by_source.items():
                self._opened(session, source, opened)
        self.counts.classified += len(pending)

    # -- after commit ----------------------------------------------------------------
    def _auto_actions(self, auto: list[tuple[int, MatchResult]]) -> None:
        """Banks explicitly configured to act automatically: decide and act without review."""
        if not auto:
            return
        from warding.review.decisions import DecisionInput, policy_category
        from warding.review.service import record_decision

        for case_id, match in auto:
            record_decision(
                self.app, case_id,
                DecisionInput(
                    violating=True, category=policy_category(match.labels.get("category")),
                    reason=f"automatic: matched entry {match.entry_id} of bank {match.bank!r}, "
                           "which is configured to act automatically"),
                actor="system", reviewer_id=None, automated=True, run_actions=self.run_actions)
            self.auto_decided.append(case_id)


def _flagged(result: ClassifierResult, policy: RoutingPolicy, words: int) -> bool:
    return (result.assessed and result.score >= policy.classifier_threshold
            and words >= policy.classifier_min_words)


def _auto_banks(session: Session) -> set[int]:
    return set(session.execute(select(Bank.id).where(Bank.auto_action.is_(True),
                                                     Bank.enabled.is_(True))).scalars())
