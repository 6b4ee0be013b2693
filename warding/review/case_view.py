"""The case view, shared by the console and the API: the case's summary (from the queue's
read model), its item in full, classifications, decisions and actions, and what the review
helpers add around it (similar decided items, context, highlights, text in images)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from warding.cases.queries import case_summary, user_names
from warding.db.models import Action, Case, Classification, ContentItem, Match
from warding.db.models_review import ActionSchedule
from warding.errors import NotFound
from warding.ocr.view import image_texts
from warding.review.context import item_context, similar_decided
from warding.review.highlight import highlight_text, known_links


def case_detail(session: Session, case_id: int) -> dict[str, Any]:
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(f"no case {case_id}")
    item = session.get(ContentItem, case.item_id)
    assert item is not None
    users = user_names(session)
    detail = case_summary(case, item, usernames=users)
    detail["reasons_detail"] = case.reasons
    detail["item"].update(
        {
            "url": item.url,
            "text": item.text,
            "posted_at": item.posted_at.isoformat() if item.posted_at else None,
            "ingested_at": item.ingested_at.isoformat(),
            "outlinks": item.outlinks,
            "lang": item.lang,
            "metadata": item.meta,
            "media": [{"sha256": m.sha256, "name": m.name, "mime": m.media.mime,
                       "size": m.media.size, "position": m.position} for m in item.media],
        }
    )
    classifications = [
        {"model": c.model, "label": c.label, "score": c.score, "violating": c.violating,
         "explanation": c.explanation}
        for c in session.execute(select(Classification).where(Classification.item_id == item.id)).scalars()
    ]
    detail["classifications"] = classifications
    superseded = {d.supersedes_id for d in case.decisions if d.supersedes_id}
    detail["decisions"] = [
        {"id": d.id, "kind": d.kind, "violating": d.violating, "category": d.category,
         "reason": d.reason, "exemption": d.exemption, "automated": d.automated,
         "reviewer": users.get(d.reviewer_id) if d.reviewer_id else None,
         "supersedes": d.supersedes_id, "superseded": d.id in superseded,
         "at": d.created_at.isoformat()}
        for d in case.decisions
    ]
    detail["actions"] = _actions(session, case.id)
    detail["similar_decided"] = similar_decided(session, item.id, exclude_case=case.id)
    detail["context"] = item_context(session, item, exclude_case=case.id)
    url_values = [v for (v,) in session.execute(
        select(Match.value).where(Match.item_id == item.id, Match.signal_type == "url"))]
    own = [r for r in case.reasons if r.get("origin") != "ocr"]  # image text: shown apart
    detail["highlights"] = highlight_text(item.text or "", own, classifications, url_values)
    detail["highlights"]["known_links"] = known_links(item.outlinks or [], url_values)
    detail["image_texts"] = image_texts(session, item.id, case.reasons)
    return detail


def _actions(session: Session, case_id: int) -> list[dict[str, Any]]:
    rows = session.execute(
        select(Action, ActionSchedule)
        .outerjoin(ActionSchedule, ActionSchedule.action_id == Action.id)
        .where(Action.case_id == case_id).order_by(Action.id))
    return [
        {"id": a.id, "decision_id": a.decision_id, "sink": a.sink, "status": a.status,
         "attempts": a.attempts, "detail": a.detail,
         "next_attempt_at": s.next_attempt_at.isoformat() if s and s.next_attempt_at else None,
         "idempotency_key": a.idempotency_key}
        for a, s in rows
    ]
