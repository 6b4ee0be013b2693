"""Row dicts of the bulk pipeline's writes, and the classifier's reason added to a case a
bank match opened first."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from warding.cases.routing import severity_for
from warding.classify.base import ClassifierResult
from warding.db.models import Case


def add_reasons(session: Session, extra: list[tuple[int, list[dict[str, Any]]]]) -> None:
    """The classifier's reason added to cases a bank match opened before the model loaded,
    so that the case ends as it would have been opened with the model there."""
    for item_id, reasons in extra:
        case = session.execute(select(Case).where(Case.item_id == item_id)).scalar_one_or_none()
        if case is not None and case.status == "open":
            merged = list(case.reasons) + reasons
            case.reasons = merged
            case.severity = severity_for(merged)


def item_row(p: Any, now: Any) -> dict[str, Any]:
    raw = p.raw
    return {"source": raw.source, "external_id": raw.external_id, "kind": raw.kind,
            "url": raw.url, "account": raw.account, "posted_at": raw.posted_at,
            "title": raw.title, "lang": p.lang,
            # a file without a text of its own (a PDF) keeps the text found in it
            "text": raw.text if raw.text or not p.text.strip() else p.text,
            "outlinks": list(raw.outlinks), "metadata": dict(raw.metadata),
            "input_ref": raw.input_ref, "ingested_at": now}


def classification_row(item_id: int, result: ClassifierResult, now: Any) -> dict[str, Any]:
    explanation = dict(result.explanation)
    if not result.assessed:  # batch results carry no explanation: keep the fact
        explanation.setdefault("not_assessed", "too little text to judge")
    return {"item_id": item_id, "model": result.model, "label": result.label,
            "score": result.score, "violating": result.violating,
            "explanation": explanation, "created_at": now}
