"""Live intake: a batch of posts from a platform, through the same bulk pipeline as a scan.

:func:`ingest` checks each post on its own (:mod:`warding.intake.items`), hands the
batch to :class:`warding.pipeline.bulk.BulkPipeline` (one transaction: an answer is
sent only for committed items) and answers for every post in order. A duplicate
(same source and id as a stored item: a platform's retry) is answered with the
stored item's matches, classification and case, so a retry after a lost answer
learns what the first request did. :func:`item_view` is the item as a platform
polls it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from warding.db.models import (
    Action,
    Bank,
    BankEntry,
    Case,
    Classification,
    ContentItem,
    Decision,
    ItemMedia,
    Match,
    MediaObject,
    Signal,
)
from warding.errors import InvalidInput, NotFound
from warding.ingest._common import scrub, stable_id
from warding.ingest.base import MediaBlob, Read
from warding.intake.items import external_id_of, item_ref, scrub_deep, to_item
from warding.intake.outbox import events_of_case
from warding.pipeline.bulk import BulkPipeline, ItemOutcome
from warding.pipeline.loader import shared_loader

MAX_SOURCE = 200


@dataclass
class IntakeResult:
    """The answer to one request, plus what the web layer must wake."""

    body: dict[str, Any]
    decided: bool  # automatic decisions queued actions
    events: bool  # webhook events were queued


def check_source(source: Any) -> str:
    if not isinstance(source, str) or not source.strip():
        raise InvalidInput("field 'source' is required: the platform or upload channel the "
                           "posts come from, e.g. \"uploads\"")
    if len(source.strip()) > MAX_SOURCE:
        raise InvalidInput(f"field 'source' is over {MAX_SOURCE} characters")
    return source.strip()


def check_items(items: Any, max_items: int) -> list[Any]:
    if not isinstance(items, list):
        raise InvalidInput("field 'items' must be a list of posts")
    if not items:
        raise InvalidInput("field 'items' is empty: send 1 to "
                           f"{max_items:,} posts per request")
    if len(items) > max_items:
        raise InvalidInput(f"field 'items' has {len(items):,} posts, over the limit of "
                           f"{max_items:,} per request (intake_max_items): split the batch")
    return items


def ingest(app: Any, source: Any, records: Any, *, actor: str,
           input_ref: str = "POST /api/items",
           media: list[MediaBlob] | None = None) -> IntakeResult:
    """Store a batch of posts; the answer lists every post in order. ``media``: the files
    of a single multipart upload (the one post then carries no inline media). ``records``
    is the request's ``items`` as sent: anything but a list (missing, a number, an object, a
    string) is refused with :class:`InvalidInput` before any post is read."""
    source = check_source(source)
    records = check_items(records, app.settings.intake_max_items)
    reads: list[Read] = [to_item(r, i, source, app.limits, input_ref, media)
                         for i, r in enumerate(records)]
    pipeline = BulkPipeline(app, actor, wait=True, run_actions=False, loader=shared_loader(app))
    outcomes = pipeline.process(source, reads)
    with app.transaction() as session:
        stored = _stored_details(session, [o.item_id for o in outcomes
                                           if o.status == "duplicate" and o.item_id])
    items = [_item_answer(o, external_id_of(r), item_ref(i, external_id_of(r)), stored)
             for i, (o, r) in enumerate(zip(outcomes, records, strict=True))]
    counts = {s: sum(1 for i in items if i["status"] == s)
              for s in ("accepted", "duplicate", "rejected")}
    body = {"accepted": counts["accepted"], "duplicates": counts["duplicate"],
            "rejected": counts["rejected"], "items": items}
    events = bool(app.settings.event_webhook_url) and pipeline.counts.cases_opened > 0
    return IntakeResult(body, bool(pipeline.auto_decided), events)


def _classification(result: Any) -> dict[str, Any] | None:
    """A ClassifierResult or a stored Classification row (whose explanation says when the
    text was too short to judge) as the API shows it."""
    if result is None:
        return None
    assessed = getattr(result, "assessed", None)
    if assessed is None:
        assessed = "not_assessed" not in (result.explanation or {})
    return {"label": result.label, "score": round(float(result.score), 6),
            "violating": bool(result.violating), "assessed": bool(assessed),
            "model": result.model}


def _item_answer(o: ItemOutcome, external_id: str | None, ref: str,
                 stored: dict[int, dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"external_id": external_id, "item_id": o.item_id, "status": o.status,
                           "matches": [], "classification": None, "case_id": None}
    if o.status == "rejected":
        out["error"] = f"{ref}: {o.error}"
    elif o.status == "accepted":
        out["matches"] = [m.as_json() for m in o.matches]
        out["classification"] = _classification(o.classification)
        out["case_id"] = o.case_id
    elif o.item_id in stored:
        out.update(stored[o.item_id])
    return out


def _stored_details(session: Session, item_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Matches, classification and case of stored items (the answer to a duplicate)."""
    if not item_ids:
        return {}
    out: dict[int, dict[str, Any]] = {i: {"matches": [], "classification": None,
                                          "case_id": None} for i in item_ids}
    rows = session.execute(select(Match, Bank.name, BankEntry.labels, BankEntry.provenance)
                           .join(Bank, Bank.id == Match.bank_id)
                           .join(BankEntry, BankEntry.id == Match.entry_id)
                           .where(Match.item_id.in_(item_ids)).order_by(Match.id))
    for m, bank, labels, provenance in rows:
        semantic = m.signal_type == "text_semantic"
        distance = m.distance or 0
        out[m.item_id]["matches"].append(
            {"bank": bank, "signal_type": m.signal_type,
             "distance": distance if semantic else int(distance),
             "entry_id": str(m.entry_id), "labels": dict(labels or {}),
             "provenance": provenance or "",
             "similarity": round(1.0 - distance, 4) if semantic else None})
    for c in session.execute(select(Classification).where(Classification.item_id.in_(item_ids))
                             .order_by(Classification.id)).scalars():
        out[c.item_id]["classification"] = _classification(c)
    for case_id, item_id in session.execute(select(Case.id, Case.item_id)
                                            .where(Case.item_id.in_(item_ids))):
        out[item_id]["case_id"] = case_id
    return out


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def item_view(session: Session, source: str, external_id: str) -> dict[str, Any]:
    """The stored item with its signals, matches, classification, case, decisions,
    actions and webhook events; NotFound when there is none."""
    stored_id = stable_id(scrub(external_id))  # as the post's id was stored
    item = session.execute(select(ContentItem).where(
        ContentItem.source == source, ContentItem.external_id == stored_id)).scalar_one_or_none()
    if item is None:
        raise NotFound(f"no item {external_id!r} from source {source!r}")
    media = session.execute(select(ItemMedia, MediaObject)
                            .join(MediaObject, MediaObject.sha256 == ItemMedia.sha256)
                            .where(ItemMedia.item_id == item.id).order_by(ItemMedia.position))
    signals = session.execute(select(Signal).where(Signal.item_id == item.id)
                              .order_by(Signal.id)).scalars()
    matches = session.execute(select(Match, Bank.name).join(Bank, Bank.id == Match.bank_id)
                              .where(Match.item_id == item.id).order_by(Match.id))
    classification = session.execute(select(Classification).where(
        Classification.item_id == item.id).order_by(Classification.id.desc())).scalars().first()
    case = session.execute(select(Case).where(Case.item_id == item.id)).scalar_one_or_none()
    out: dict[str, Any] = {
        "item_id": item.id, "source": item.source, "external_id": item.external_id,
        "kind": item.kind, "url": item.url, "account": item.account,
        "posted_at": _iso(item.posted_at), "title": item.title, "text": item.text,
        "lang": item.lang, "outlinks": list(item.outlinks or []),
        "metadata": scrub_deep(dict(item.meta or {})), "ingested_at": _iso(item.ingested_at),
        "media": [{"sha256": im.sha256, "name": im.name, "mime": mo.mime, "size": mo.size}
                  for im, mo in media],
        "signals": [{"type": s.signal_type, "value": s.value, "origin": s.origin}
                    for s in signals],
        "matches": [{"bank": bank, "entry_id": str(m.entry_id), "signal_type": m.signal_type,
                     "value": m.value, "distance": m.distance} for m, bank in matches],
        "classification": None, "case": None, "decisions": [], "actions": [], "events": [],
    }
    if classification is not None:
        out["classification"] = dict(_classification(classification) or {},
                                     explanation=dict(classification.explanation or {}))
    if case is not None:
        out["case"] = {"id": case.id, "status": case.status, "severity": case.severity,
                       "reasons": list(case.reasons or []), "opened_at": _iso(case.opened_at)}
        out["decisions"] = [
            {"id": d.id, "kind": d.kind, "violating": d.violating, "category": d.category,
             "reason": d.reason, "automated": d.automated, "created_at": _iso(d.created_at)}
            for d in session.execute(select(Decision).where(Decision.case_id == case.id)
                                     .order_by(Decision.id)).scalars()]
        out["actions"] = [
            {"id": a.id, "decision_id": a.decision_id, "sink": a.sink, "status": a.status,
             "attempts": a.attempts, "detail": a.detail}
            for a in session.execute(select(Action).where(Action.case_id == case.id)
                                     .order_by(Action.id)).scalars()]
        out["events"] = events_of_case(session, case.id)
    return out
