"""Routing: which items become cases, and how urgent they are.

A case is opened when an item matches an enabled bank, or when the classifier
scores it at or above ``classifier_threshold`` and the text has at least
``classifier_min_words`` words: a two-word caption carries too little evidence
for the baseline classifier's score to mean much, so such texts are scored and
stored but not routed on the score alone. One case per item collects every
reason. Items are never removed automatically unless a matched bank is
explicitly configured with ``auto_action``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from warding.audit.log import record
from warding.classify.base import ClassifierResult
from warding.db.models import Case, ContentItem
from warding.events import CaseOpened
from warding.matching.service import MatchResult


@dataclass(frozen=True)
class RoutingPolicy:
    classifier_threshold: float
    classifier_min_words: int = 0


def reasons_for(matches: Sequence[MatchResult], result: ClassifierResult | None,
                policy: RoutingPolicy, words: int | None = None) -> list[dict[str, Any]]:
    reasons: list[dict[str, Any]] = [
        {
            "kind": "bank_match",
            "bank": m.bank,
            "entry_id": str(m.entry_id),
            "signal_type": m.signal_type,
            "distance": m.distance,
            "labels": m.labels,
            "provenance": m.provenance,
            **({"similarity": m.similarity} if hasattr(m, "similarity") else {}),
        }
        for m in matches
    ]
    enough_text = words is None or words >= policy.classifier_min_words
    if (result is not None and result.assessed and result.score >= policy.classifier_threshold
            and enough_text):
        reasons.append(
            {
                "kind": "classifier",
                "model": result.model,
                "label": result.label,
                "score": round(result.score, 4),
                "threshold": policy.classifier_threshold,
                "explanation": result.explanation,
            }
        )
    return reasons


def severity_for(reasons: Sequence[dict[str, Any]]) -> int:
    """0–100: exact bank matches first, then near matches, then classifier scores."""
    best = 0
    for r in reasons:
        if r["kind"] == "bank_match" and r.get("signal_type") == "text_semantic":
            best = max(best, 70)  # a translation or paraphrase: below copies, above scores
        elif r["kind"] == "bank_match":
            best = max(best, 100 - min(int(r["distance"] or 0), 40))
        elif r["kind"] == "classifier":
            best = max(best, int(50 * float(r["score"])))
    return best


def open_case(session: Session, item: ContentItem, reasons: list[dict[str, Any]],
              actor: str) -> Case | None:
    if not reasons:
        return None
    case = Case(item_id=item.id, status="open", reasons=reasons, severity=severity_for(reasons))
    session.add(case)
    session.flush()
    record(
        session,
        CaseOpened(case.id, item.id, sorted({str(r["kind"]) for r in reasons})),
        actor,
    )
    return case
