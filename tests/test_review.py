"""The review services behind the console and the API: the queue, claims, next case,
bulk decisions for copies, second opinions, appeals, highlights, context and wellness."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests import review_scenario as rs
from warding.app import Warding
from warding.cases.claims import claim
from warding.cases.queries import QueueFilter, list_cases, next_case
from warding.db.models import AuditEvent, BankEntry, Case, Decision, User, utcnow
from warding.errors import Conflict, InvalidInput
from warding.review import wellness
from warding.review.context import copies_of, similar_decided
from warding.review.decisions import DecisionInput
from warding.review.highlight import highlight_text
from warding.review.service import record_bulk_decision, record_decision
from warding.web.factory import create_app


@pytest.fixture(autouse=True)
def fast_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cheaper argon2 parameters for tests that create many users (the stored hash
    names its parameters, so verifying works the same)."""
    monkeypatch.setattr("warding.accounts.service._hasher",
                        lambda: PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1))


@pytest.fixture
def world(app_factory: Callable[..., Warding], tmp_path: Path) -> tuple[Warding, rs.Scenario]:
    w = app_factory(action_sinks=["log", "add_to_bank", "notify_uploader"])
    rs.users(w)
    return w, rs.build(w, tmp_path / "inputs")


def user(w: Warding, name: str) -> User:
    with w.transaction() as session:
        return session.execute(select(User).where(User.username == name)).scalar_one()


def ids(cases: list[dict[str, object]]) -> list[object]:
    return [c["id"] for c in cases]


VIOLATING = DecisionInput(violating=True, category="incitement_glorification",
                          reason="Copy of known material.")


# -- the queue -----------------------------------------------------------------------
def test_queue_filters_and_orders(world: tuple[Warding, rs.Scenario]) -> None:
    w, sc = world
    c = sc.cases
    with w.transaction() as session:
        assert len(list_cases(session, QueueFilter())) == 7
        assert ids(list_cases(session, QueueFilter(lang="fr"))) == [c["link-fr"]]
        assert set(ids(list_cases(session, QueueFilter(category="instruction")))) == \
            {c["text-copy"], c["link-fr"]}
        assert ids(list_cases(session, QueueFilter(reason="classifier"))) == [c["classified"]]
        assert list_cases(session, QueueFilter(min_age_hours=1)) == []
        assert len(list_cases(session, QueueFilter(max_age_hours=1))) == 7
        later = utcnow() + timedelta(hours=30)
        overdue = list_cases(session, QueueFilter(), now=later)
        assert all(x["overdue"] for x in overdue)
        by_severity = list_cases(session, QueueFilter(order="severity"))
        assert [x["severity"] for x in by_severity] == sorted(
            (x["severity"] for x in by_severity), reverse=True)
        oldest = list_cases(session, QueueFilter(order="oldest"))
        assert oldest[0]["id"] == min(ids(oldest))  # type: ignore[type-var]
        # Deadline order: a case due sooner comes first, whatever its severity.
        low = session.get(Case, c["classified"])
        assert low is not None
        low.deadline = utcnow()
        session.flush()
        assert ids(list_cases(session, QueueFilter()))[0] == c["classified"]
        with pytest.raises(InvalidInput):
            list_cases(session, QueueFilter(order="random"))
    rev1 = user(w, "rev1")
    with w.transaction() as session:
        claim(session, c["altered"], rev1)
    with w.transaction() as session:
        assert ids(list_cases(session, QueueFilter(assignee="me"), viewer=rev1)) == [c["altered"]]
        assert ids(list_cases(session, QueueFilter(assignee="rev1"))) == [c["altered"]]
        assert c["altered"] not in ids(list_cases(session, QueueFilter(assignee="unassigned")))
        rev2 = user(w, "rev2")
        assert ids(list_cases(session, QueueFilter(assignee="others"), viewer=rev2)) == \
            [c["altered"]]


def test_claims_lock_cases_and_next_case_hands_out_different_ones(
        world: tuple[Warding, rs.Scenario]) -> None:
    w, _ = world
    rev1, rev2 = user(w, "rev1"), user(w, "rev2")
    with w.transaction() as session:
        first = next_case(session, QueueFilter(), rev1)
    with w.transaction() as session:
        second = next_case(session, QueueFilter(), rev2)
        assert first is not None and second is not None and first != second
        assert next_case(session, QueueFilter(), rev1) == first  # own claim first
    with pytest.raises(Conflict, match="claimed by rev1"), w.transaction() as session:
        claim(session, first, rev2)
    with pytest.raises(Conflict, match="claimed by rev1"):
        record_decision(w, first, VIOLATING, actor="rev2", reviewer_id=rev2.id)
    # A claim lasts 15 minutes.
    with w.transaction() as session:
        claim(session, first, rev2, now=utcnow() + timedelta(minutes=16))
    out = record_decision(w, first, VIOLATING, actor="rev2", reviewer_id=rev2.id)
    assert out["decision_id"]
    with w.transaction() as session:
        case = session.get(Case, first)
        assert case is not None and case.status == "decided" and case.assigned_to is None


def test_bulk_decision_for_copies(world: tuple[Warding, rs.Scenario]) -> None:
    w, sc = world
    c = sc.cases
    rev1, rev2 = user(w, "rev1"), user(w, "rev2")
    with w.transaction() as session:
        copies = copies_of(session, c["img-1"])
        assert [x["case_id"] for x in copies] == [c["img-2"], c["img-3"]]
        assert copies[0]["shared"] == ["md5", "pdq", "sha256"]
        assert copies_of(session, c["altered"]) == []  # a near copy is not an exact copy
        claim(session, c["img-3"], rev2)
    with pytest.raises(InvalidInput, match="not waiting copies"):
        record_bulk_decision(w, c["img-1"], [c["link-fr"]], VIOLATING, actor="rev1",
                             reviewer_id=rev1.id)
    out = record_bulk_decision(w, c["img-1"], [c["img-2"], c["img-3"]], VIOLATING,
                               actor="rev1", reviewer_id=rev1.id)
    assert [d["case_id"] for d in out["decided"]] == [c["img-1"], c["img-2"]]
    assert out["skipped"][0]["case_id"] == c["img-3"]
    assert "claimed by rev2" in out["skipped"][0]["reason"]
    with w.transaction() as session:
        decisions = list(session.execute(select(Decision).order_by(Decision.id)).scalars())
        assert [d.case_id for d in decisions] == [c["img-1"], c["img-2"]]
        assert decisions[1].reason.endswith(f"[bulk: copy of case #{c['img-1']}]")
        bulk = session.execute(select(AuditEvent).where(
            AuditEvent.event_type == "case.bulk_decided")).scalar_one()
        assert bulk.data["case_ids"] == [c["img-1"], c["img-2"]] and bulk.actor == "rev1"
        assert session.get(Case, c["img-3"]).status == "open"  # type: ignore[union-attr]
        similar = similar_decided(session, session.get(Case, c["img-3"]).item_id)  # type: ignore[union-attr]
        assert {s["case_id"] for s in similar} == {c["img-1"], c["img-2"]}
        assert all("same sha256" in s["why"] for s in similar)


def test_second_opinion_comes_from_someone_else(world: tuple[Warding, rs.Scenario]) -> None:
    w, sc = world
    case_id = sc.cases["altered"]
    rev1, rev2 = user(w, "rev1"), user(w, "rev2")
    escalation = DecisionInput(violating=False, reason="Please check the match.",
                               kind="escalation")
    record_decision(w, case_id, escalation, actor="rev1", reviewer_id=rev1.id)
    with w.transaction() as session:
        assert session.get(Case, case_id).status == "escalated"  # type: ignore[union-attr]
        assert next_case(session, QueueFilter(status="escalated"), rev1) is None
    with pytest.raises(Conflict, match="another reviewer"):
        record_decision(w, case_id, VIOLATING, actor="rev1", reviewer_id=rev1.id)
    record_decision(w, case_id, VIOLATING, actor="rev2", reviewer_id=rev2.id)
    with pytest.raises(Conflict, match="already decided"):
        record_decision(w, case_id, escalation, actor="rev2", reviewer_id=rev2.id)


def test_reversal_on_appeal_keeps_history_and_takes_the_item_out_of_the_bank(
        world: tuple[Warding, rs.Scenario]) -> None:
    w, sc = world
    case_id = sc.cases["img-1"]
    rev1 = user(w, "rev1")
    record_decision(w, case_id, VIOLATING, actor="rev1", reviewer_id=rev1.id)
    with w.transaction() as session:
        entries = list(session.execute(select(BankEntry).where(
            BankEntry.provenance.startswith(f"warding:case:{case_id}:"))).scalars())
        assert entries and all(e.enabled for e in entries)
    appeal = DecisionInput(violating=False, exemption="journalism", kind="appeal",
                           reason="On appeal: reporting.")
    out = record_decision(w, case_id, appeal, actor="admin", reviewer_id=user(w, "admin").id)
    statuses = {a["sink"]: (a["status"], a["detail"]) for a in out["actions"]}
    assert statuses["add_to_bank"][0] == "done" and "disabled" in statuses["add_to_bank"][1]
    with w.transaction() as session:
        history = list(session.execute(select(Decision).where(
            Decision.case_id == case_id).order_by(Decision.id)).scalars())
        assert [(d.kind, d.violating) for d in history] == [("decision", True),
                                                           ("appeal", False)]
        assert history[1].supersedes_id == history[0].id
        entries = list(session.execute(select(BankEntry).where(
            BankEntry.provenance.startswith(f"warding:case:{case_id}:"))).scalars())
        assert entries and not any(e.enabled for e in entries)
        disabled = session.execute(select(AuditEvent).where(
            AuditEvent.event_type == "bank.entries_disabled")).scalar_one()
        assert disabled.data["entry_ids"] == [e.id for e in entries]


# -- highlights and context ---------------------------------------------------------------
def test_highlights_mark_known_links_and_classifier_features() -> None:
    text = "Meet at the Library annex. See https://Files.example.net/share/abc?utm_source=x, ok"
    reasons = [{"kind": "bank_match", "bank": "known", "signal_type": "url", "distance": 0},
               {"kind": "classifier", "score": 0.9,
                "explanation": {"top_features": [[" annex", 0.3], ["libr | ibra", 0.2],
                                                 ["ee", 0.9], ["?", 0.1]]}}]
    out = highlight_text(text, reasons, [], ["https://files.example.net/share/abc"])
    marked = [(s["text"], s["mark"]) for s in out["segments"] if s["mark"]]
    assert ("Library", "classifier") in marked and ("annex", "classifier") in marked
    assert ("https://Files.example.net/share/abc?utm_source=x", "bank") in marked
    assert [t["term"] for t in out["terms"]] == ["annex", "libr", "ibra"]  # "ee" is too short
    assert "".join(s["text"] for s in out["segments"]) == text
    near = highlight_text("some text", [{"kind": "bank_match", "bank": "b",
                                         "signal_type": "text_near", "distance": 3}])
    assert near["whole_text_match"] and "near copy (distance 3)" in near["notes"][0]


def test_case_detail_has_context_highlights_and_copies_over_the_api(
        world: tuple[Warding, rs.Scenario]) -> None:
    w, sc = world
    from tests.test_web import api_key

    client = TestClient(create_app(w))
    headers = api_key(w, "rev1")
    detail = client.get(f"/api/cases/{sc.cases['link-fr']}", headers=headers).json()
    assert detail["context"]["account"] == "carrier-6" and detail["item"]["lang"] == "fr"
    assert detail["context"]["outlink_domains"] == [["files.example.net", 1]]
    assert any(s["mark"] == "bank" for s in detail["highlights"]["segments"])
    assert detail["categories"] == ["instruction"] and detail["due_at"]
    copies = client.get(f"/api/cases/{sc.cases['img-1']}/copies", headers=headers).json()
    assert [x["case_id"] for x in copies["copies"]] == [sc.cases["img-2"], sc.cases["img-3"]]
    listed = client.get("/api/cases?lang=fr&category=instruction", headers=headers).json()
    assert [x["id"] for x in listed["cases"]] == [sc.cases["link-fr"]]
    r = client.post(f"/api/cases/{sc.cases['img-1']}/bulk-decision", headers=headers, json={
        "violating": True, "category": "incitement_glorification", "reason": "Known image.",
        "copies": [sc.cases["img-2"], sc.cases["img-3"]]})
    assert r.status_code == 201 and len(r.json()["decided"]) == 3
    nxt = client.post("/api/cases/next", headers=headers).json()["case_id"]
    assert nxt not in sc.image_copies
    assert client.post(f"/api/cases/{nxt}/release", headers=headers).json()["released"]
    client.close()


# -- wellness ---------------------------------------------------------------------------
def test_wellness_settings_counter_and_break_reminder(world: tuple[Warding, rs.Scenario]) -> None:
    w, sc = world
    rev1 = user(w, "rev1")
    now = utcnow()
    # The test's 80 minutes must stay inside one UTC day, or "seen today" restarts at midnight.
    t0 = min(now, now.replace(hour=22, minute=0, second=0, microsecond=0))
    with w.transaction() as session:
        assert wellness.get_settings(session, rev1.id) == wellness.WellnessSettings()
        wellness.update_settings(session, rev1, {"break_after_items": 3, "blur": False},
                                 actor="rev1")
        with pytest.raises(InvalidInput):
            wellness.update_settings(session, rev1, {"break_after_items": -1}, actor="rev1")
        with pytest.raises(InvalidInput):
            wellness.update_settings(session, rev1, {"colour": True}, actor="rev1")
    with w.transaction() as session:
        event = session.execute(select(AuditEvent).where(
            AuditEvent.event_type == "user.settings_changed")).scalar_one()
        assert event.data["changes"] == {"break_after_items": [50, 3], "blur": [True, False]}
        cases = list(sc.cases.values())
        for i, case_id in enumerate(cases[:3]):
            wellness.record_view(session, rev1.id, case_id, now=t0 + timedelta(minutes=i))
        wellness.record_view(session, rev1.id, cases[0], now=t0 + timedelta(minutes=3))
        state = wellness.status(session, rev1.id, now=t0 + timedelta(minutes=4))
        assert state["seen_since_break"] == 3 and state["break_due"]
        assert "3 items" in state["break_reason"]
        # A pause of 30 minutes counts as a break.
        idle = wellness.status(session, rev1.id, now=t0 + timedelta(minutes=40))
        assert idle["seen_since_break"] == 0 and not idle["break_due"]
        wellness.take_break(session, rev1.id, now=t0 + timedelta(minutes=5))
        after = wellness.status(session, rev1.id, now=t0 + timedelta(minutes=6))
        assert after["seen_since_break"] == 0 and after["seen_today"] >= 3
        # Time limit: 60 minutes of steady reviewing.
        for minute in range(0, 70, 10):
            wellness.record_view(session, rev1.id, cases[minute // 10 % len(cases)],
                                 now=t0 + timedelta(minutes=10 + minute))
        wellness.update_settings(session, rev1, {"break_after_items": 0}, actor="rev1")
        timed = wellness.status(session, rev1.id, now=t0 + timedelta(minutes=80))
        assert timed["break_due"] and "minutes" in timed["break_reason"]


def test_console_case_page_follows_the_reviewers_settings(
        world: tuple[Warding, rs.Scenario]) -> None:
    w, sc = world
    from tests.test_web import csrf_of, login

    with TestClient(create_app(w)) as client:
        token = login(client, "rev1")
        page = client.get(f"/cases/{sc.cases['img-1']}").text
        assert 'class="media blurred grey"' in page
        r = client.post("/settings", data={"csrf_token": token, "greyscale": "on",
                                           "break_after_items": "2", "break_after_minutes": "0"},
                        follow_redirects=False)
        assert r.status_code == 303
        page = client.get(f"/cases/{sc.cases['img-2']}").text
        assert 'class="media grey"' in page and "blurred" not in page.split("<main")[1]
        assert 'id="break-reminder"' in page  # two cases seen, limit two
        r = client.post("/next", data={"csrf_token": token}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/break"
        assert "Time for a break" in client.get("/break").text
        r = client.post("/next", data={"csrf_token": token, "continue": "1"},
                        follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/cases/")
        assert client.get("/next").status_code == 405  # claiming is never a GET
        r = client.post("/wellness/break", data={"csrf_token": csrf_of(page)},
                        follow_redirects=False)
        assert r.status_code == 303
        assert 'id="break-reminder"' not in client.get("/").text


def test_known_links_are_marked_in_the_link_list() -> None:
    from warding.review.highlight import known_links

    links = ["https://files.example.net/share/abc?utm_source=x", "https://other.example/",
             "not a url at all", 42]
    assert known_links(links, ["https://files.example.net/share/abc"]) == [links[0]]
