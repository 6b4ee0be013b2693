"""Routing: which hits open a case, and how urgent it is."""

from __future__ import annotations

from warding.cases.routing import RoutingPolicy, reasons_for, severity_for
from warding.classify.base import ClassifierResult
from warding.matching.service import MatchResult

POLICY = RoutingPolicy(classifier_threshold=0.8, classifier_min_words=4)
HIGH = ClassifierResult("terrorist_content", 0.95, True, "m")
LOW = ClassifierResult("other", 0.2, False, "m")


def _match(distance: int) -> MatchResult:
    return MatchResult("b", 1, 2, "pdq", "v", "q", distance, {"group": "g"}, "p")


def test_classifier_score_needs_threshold_and_enough_words() -> None:
    assert [r["kind"] for r in reasons_for([], HIGH, POLICY, words=10)] == ["classifier"]
    assert reasons_for([], LOW, POLICY, words=10) == []
    assert reasons_for([], HIGH, POLICY, words=2) == []


def test_bank_match_always_routes_with_labels() -> None:
    reasons = reasons_for([_match(5)], None, POLICY, words=1)
    assert reasons[0]["kind"] == "bank_match" and reasons[0]["labels"] == {"group": "g"}
    assert reasons[0]["entry_id"] == "2" and reasons[0]["distance"] == 5


def test_severity_orders_exact_then_near_then_classifier() -> None:
    exact = severity_for(reasons_for([_match(0)], None, POLICY))
    near = severity_for(reasons_for([_match(20)], None, POLICY))
    clf = severity_for(reasons_for([], HIGH, POLICY, words=10))
    assert exact > near > clf > 0


def test_a_result_not_assessed_opens_no_case() -> None:
    unjudged = ClassifierResult("other", 0.97, False, "m", assessed=False)
    assert reasons_for([], unjudged, POLICY, words=10) == []
