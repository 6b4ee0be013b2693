"""Record retroactive matches exactly as a live match would have been recorded.

For each item found: a ``matches`` row per (item, entry) not matched before (nothing is
matched twice: an (item, entry, signal type) already in ``matches``, live or retroactive, is skipped), and a
``retro_matches`` row saying when it was found. The item's case is opened with the
reasons :func:`warding.cases.routing.reasons_for` builds for a live match, each with
``"retroactive": true`` and ``"found_at"``; an open case gets the new reasons added; a
decided case stays decided (the match is recorded, the case is not reopened). Opened
cases get their ``case.opened`` audit event and webhook event, and banks configured to
act automatically decide them, as at upload. One transaction per page of items.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from warding.audit.log import record_many
from warding.cases.routing import RoutingPolicy, reasons_for, severity_for
from warding.db.models import Case, ContentItem, Match
from warding.db.models_incidents import RetroMatch
from warding.events import CaseOpened
from warding.incidents.events import RetroReasonsAdded
from warding.incidents.retro import SEMANTIC, Entries, Hit
from warding.matching.semantic import SemanticMatch
from warding.matching.service import MatchResult
from warding.ocr.items import ORIGIN as OCR
from warding.ocr.items import mark_origins

ITEMS_PER_TRANSACTION = 500
_POLICY = RoutingPolicy(classifier_threshold=1.0)


@dataclass
class Written:
    matches: int = 0
    cases_opened: int = 0
    cases_updated: int = 0
    opened: list[tuple[int, MatchResult]] = field(default_factory=list)  # (case, first match)


def as_match(entries: Entries, h: Hit) -> MatchResult:
    labels, provenance = entries.meta.get(h.entry_id, ({}, ""))
    if h.signal_type == SEMANTIC:
        return SemanticMatch(bank=entries.bank_name, bank_id=entries.bank_id,
                             entry_id=h.entry_id, signal_type=SEMANTIC, value=h.value,
                             query=h.query, distance=h.distance,  # type: ignore[arg-type]
                             labels=labels, provenance=provenance,
                             similarity=h.similarity or 0.0)
    return MatchResult(bank=entries.bank_name, bank_id=entries.bank_id, entry_id=h.entry_id,
                       signal_type=h.signal_type, value=h.value, query=h.query,
                       distance=int(h.distance), labels=labels, provenance=provenance)


def retro_reasons(matches: Sequence[MatchResult], found_at: datetime) -> list[dict[str, Any]]:
    reasons = reasons_for(matches, None, _POLICY)
    for r in reasons:
        r["retroactive"] = True
        r["found_at"] = found_at.isoformat()
    return reasons


def record_hits(app: Any, run_id: int, entries: Entries, hits: Sequence[Hit], *, actor: str,
                clock: Callable[[], datetime]) -> Written:
    """Write ``hits`` (one per item and entry) in pages; what was written."""
    out = Written()
    by_item: dict[int, list[Hit]] = {}
    for h in hits:
        by_item.setdefault(h.item_id, []).append(h)
    items = sorted(by_item)
    for start in range(0, len(items), ITEMS_PER_TRANSACTION):
        page = items[start:start + ITEMS_PER_TRANSACTION]
        with app.transaction() as session:
            _write_page(app, session, run_id, entries, {i: by_item[i] for i in page},
                        actor, clock(), out)
    return out


def _write_page(app: Any, session: Session, run_id: int, entries: Entries,
                by_item: dict[int, list[Hit]], actor: str, now: datetime, out: Written) -> None:
    ids = list(by_item)
    entry_ids = sorted({h.entry_id for hs in by_item.values() for h in hs})
    seen = {(int(r[0]), int(r[1]), r[2]) for r in session.execute(
        select(Match.item_id, Match.entry_id, Match.signal_type).where(
            Match.item_id.in_(ids), Match.entry_id.in_(entry_ids)))}
    cases = {c.item_id: c for c in session.execute(
        select(Case).where(Case.item_id.in_(ids))).scalars()}
    items = {r[0]: (r[1], r[2]) for r in session.execute(
        select(ContentItem.id, ContentItem.source, ContentItem.external_id)
        .where(ContentItem.id.in_(ids)))}
    opened_events: list[CaseOpened] = []
    for item_id, item_hits in by_item.items():
        if item_id not in items:
            continue  # deleted since it was read
        fresh = [h for h in item_hits if (item_id, h.entry_id, h.signal_type) not in seen]
        if not fresh:
            continue
        matches = [as_match(entries, h) for h in fresh]
        for m in matches:
            row = Match(item_id=item_id, bank_id=m.bank_id, entry_id=m.entry_id,
                        signal_type=m.signal_type, value=m.value, distance=m.distance,
                        created_at=now)
            session.add(row)
            session.flush()
            session.add(RetroMatch(run_id=run_id, match_id=row.id, item_id=item_id,
                                   entry_id=m.entry_id, found_at=now))
        out.matches += len(matches)
        reasons = mark_origins(retro_reasons(matches, now),
                               [m for m, h in zip(matches, fresh, strict=True) if h.origin == OCR])
        case = cases.get(item_id)
        if case is None:
            case = Case(item_id=item_id, status="open", reasons=reasons,
                        severity=severity_for(reasons), opened_at=now, updated_at=now)
            session.add(case)
            session.flush()
            out.cases_opened += 1
            out.opened.append((case.id, matches[0]))
            opened_events.append(CaseOpened(case.id, item_id, ["bank_match"]))
            _webhook(app, session, case.id, item_id, items[item_id], reasons, entries)
        elif case.status == "open":
            merged = list(case.reasons) + reasons
            case.reasons = merged
            case.severity = severity_for(merged)
            case.updated_at = now
            out.cases_updated += 1
            record_many(session, [RetroReasonsAdded(case.id, item_id,
                                                    [str(m.entry_id) for m in matches])], actor)
        # else: decided items stay decided; the match is recorded
    record_many(session, opened_events, actor)


def _webhook(app: Any, session: Session, case_id: int, item_id: int, item: tuple[str, str],
             reasons: list[dict[str, Any]], entries: Entries) -> None:
    if not app.settings.event_webhook_url:
        return
    from warding.intake.outbox import queue_case_opened

    queue_case_opened(session, case_id=case_id, item_id=item_id, source=item[0],
                      external_id=item[1], reasons=reasons, auto_action=entries.auto_action)


def auto_decide(app: Any, entries: Entries, opened: Sequence[tuple[int, MatchResult]]) -> list[int]:
    """Banks configured to act automatically decide the cases they opened (as at upload)."""
    if not entries.auto_action or not opened:
        return []
    from warding.review.decisions import DecisionInput, policy_category
    from warding.review.service import record_decision

    done = []
    for case_id, match in opened:
        record_decision(
            app, case_id,
            DecisionInput(
                violating=True, category=policy_category(match.labels.get("category")),
                reason=f"automatic: matched entry {match.entry_id} of bank {match.bank!r} "
                       "retroactively, which is configured to act automatically"),
            actor="system", reviewer_id=None, automated=True)
        done.append(case_id)
    return done
