"""Action delivery: exponential backoff, the attempts cap and the dead-letter list, the
delivery log, leases against double sending, statements of reasons, and the audit of
every kind of change (on SQLite, and the concurrent parts on PostgreSQL too)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.browser import WebhookReceiver
from tests.cli_helpers import CLI
from tests.test_web import api_key, login, make_case
from warding.actions.delivery import list_actions, list_attempts, requeue
from warding.actions.executor import RetryPolicy, run_pending
from warding.actions.notice import NotifyUploaderSink, list_statements
from warding.app import Warding
from warding.db.models import Action, AuditEvent, utcnow
from warding.db.models_review import ActionSchedule, StatementOfReasons
from warding.errors import Conflict
from warding.review.decisions import DecisionInput
from warding.review.service import record_decision
from warding.web.factory import create_app

SECRET = "whsec_ZGVsaXZlcnktc2VjcmV0LS0tLS0tLS0tLS0tLS0tLS0="  # whsec_ + base64 of 32 bytes
VIOLATING = DecisionInput(violating=True, category="threat", reason="Placeholder decision.")


@pytest.fixture(autouse=True)
def fast_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("warding.accounts.service._hasher",
                        lambda: PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1))


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    r = WebhookReceiver(SECRET, fail_first=3)
    yield r
    r.close()


def webhook_app(factory: Callable[..., Warding], url: str, **extra: Any) -> Warding:
    settings: dict[str, Any] = {"webhook_url": url, "webhook_secret": SECRET,
                                "action_sinks": ["webhook"], "action_max_attempts": 3,
                                "action_retry_base_seconds": 10.0,
                                "action_retry_max_seconds": 25.0}
    settings.update(extra)
    return factory(**settings)


def test_backoff_doubles_with_jitter_and_a_cap() -> None:
    policy = RetryPolicy(max_attempts=8, base_seconds=30, max_seconds=3600)
    delays = [policy.delay(n, "key").total_seconds() for n in range(1, 9)]
    for n, d in enumerate(delays[:7], start=1):
        assert 30 * 2 ** (n - 1) <= d <= 30 * 2 ** (n - 1) * 1.1
    assert delays[-1] == 3600
    assert policy.delay(1, "key") == policy.delay(1, "key")  # deterministic
    assert policy.delay(1, "a") != policy.delay(1, "b")  # but spread between actions


def test_failures_back_off_then_dead_letter_then_retry_delivers_once(
        app_factory: Callable[..., Warding], receiver: WebhookReceiver) -> None:
    w = webhook_app(app_factory, receiver.url)
    case = make_case(w)
    out = record_decision(w, case.id, VIOLATING, actor="t", reviewer_id=None)
    first = out["actions"][0]
    assert first["status"] == "failed" and first["attempts"] == 1
    t0 = utcnow()
    assert run_pending(w, now=t0 + timedelta(seconds=5)) == []  # not due before 10 s
    second = run_pending(w, now=t0 + timedelta(seconds=12))
    assert [r["attempts"] for r in second] == [2] and second[0]["status"] == "failed"
    assert run_pending(w, now=t0 + timedelta(seconds=25)) == []  # 20 s after the 2nd failure
    third = run_pending(w, now=t0 + timedelta(seconds=35))
    assert third[0]["status"] == "dead" and third[0]["next_attempt_at"] is None
    assert run_pending(w, now=t0 + timedelta(days=1)) == []  # dead letters are not retried
    with w.transaction() as session:
        dead = list_actions(session, status="dead")
        assert [a["id"] for a in dead] == [first["action_id"]]
        log = list_attempts(session, action_id=first["action_id"])
        assert [(t["attempt"], t["status"], t["http_status"]) for t in log] == \
            [(3, "failed", 503), (2, "failed", 503), (1, "failed", 503)]
        assert log[1]["next_attempt_at"] and log[0]["next_attempt_at"] is None
        types = list(session.execute(select(AuditEvent.event_type)).scalars())
        assert types.count("action.executed") == 3 and "action.dead_lettered" in types
    with w.transaction() as session:
        requeue(session, first["action_id"], actor="admin", extra_attempts=3)
    with pytest.raises(Conflict, match="only dead-lettered or failed"), \
            w.transaction() as session:
        requeue(session, first["action_id"], actor="admin", extra_attempts=3)
    delivered = run_pending(w)
    assert delivered[0]["status"] == "done" and delivered[0]["attempts"] == 4
    assert list(receiver.acted) == [f"warding-case{case.id}-decision{out['decision_id']}-webhook"]
    assert len(receiver.requests) == 4 and receiver.duplicates == 0
    with w.transaction() as session:
        assert "action.requeued" in session.execute(select(AuditEvent.event_type)).scalars().all()


def test_a_refusal_for_good_goes_to_the_dead_letter_list_at_once(
        app_factory: Callable[..., Warding]) -> None:
    r = WebhookReceiver("whsec_d3Jvbmctc2VjcmV0LS0tLS0tLS0tLS0tLS0tLS0tLS0=", fail_first=0)  # signatures will not verify: 401
    try:
        w = webhook_app(app_factory, r.url)
        case = make_case(w)
        out = record_decision(w, case.id, VIOLATING, actor="t", reviewer_id=None)
        assert out["actions"][0]["status"] == "dead"
        assert "401" in out["actions"][0]["detail"]
    finally:
        r.close()


def test_concurrent_runners_never_send_one_action_twice(
        app_factory: Callable[..., Warding]) -> None:
    r = WebhookReceiver(SECRET, fail_first=0)
    try:
        w = webhook_app(app_factory, r.url)
        cases = [make_case(w, f"c{i}") for i in range(6)]
        # Queue the decisions without running them, then let four runners race.
        from warding.actions.executor import queue_actions
        from warding.review.decisions import decide

        with w.transaction() as session:
            for c in cases:
                d = decide(session, c.id, VIOLATING, actor="t", reviewer_id=None)
                queue_actions(session, d, ["webhook"])
        results: list[dict[str, Any]] = []
        lock = threading.Lock()

        def runner() -> None:
            ran = run_pending(w)
            with lock:
                results.extend(ran)

        threads = [threading.Thread(target=runner) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(x["action_id"] for x in results) == list(range(1, 7))
        assert len(r.requests) == 6 and len(r.acted) == 6 and r.duplicates == 0
    finally:
        r.close()


def test_statement_of_reasons(app_factory: Callable[..., Warding]) -> None:
    w = app_factory(action_sinks=["notify_uploader"],
                    notice_redress_url="https://platform.example.org/complaints")
    case = make_case(w)
    out = record_decision(w, case.id, DecisionInput(
        violating=True, category="solicitation_recruitment",
        reason="The post matches known recruitment material."), actor="rev", reviewer_id=None)
    assert out["actions"][0]["status"] == "done"
    with w.transaction() as session:
        [statement] = list_statements(session, case_id=case.id)
    body = statement["body"]
    assert statement["restriction"] == "removal" and statement["account"] == "acct-1"
    assert body["restriction"]["type"] == "removal"
    assert "own initiative" in body["facts_and_circumstances"]
    assert "matches known recruitment material" in body["facts_and_circumstances"]
    assert "visually identical" in body["facts_and_circumstances"]  # the pdq bank match
    assert "demo" not in body["facts_and_circumstances"]  # no hash-list names
    assert body["automated_means"] == {
        "detection": True, "decision": False,
        "description": "The content was detected by automated means; the decision was taken "
                       "by a person."}
    assert body["ground"]["type"] == "illegal_content"
    assert body["ground"]["reference"].endswith("Art. 2(7)(b) and (c)")
    assert [r["route"] for r in body["redress"]] == [
        "internal_complaint", "out_of_court_dispute_settlement", "judicial_redress"]
    assert "https://platform.example.org/complaints" in statement["text"]
    for heading in ("What we did:", "Facts and circumstances:", "Automated means:", "Ground:",
                    "Your options for redress:"):
        assert heading in statement["text"]
    # The same request twice writes one statement (idempotency key).
    sink = NotifyUploaderSink.create(w)
    with w.transaction() as session:
        action = session.execute(select(Action)).scalar_one()
        from warding.actions.executor import build_request

        request = build_request(session, action)
    assert sink.execute(request).status == "done"
    with w.transaction() as session:
        assert len(session.execute(select(StatementOfReasons)).all()) == 1
    # A first decision that restricts nothing needs no statement.
    other = make_case(w, "other")
    kept = record_decision(w, other.id, DecisionInput(violating=False, reason="Ordinary."),
                           actor="rev", reviewer_id=None)
    assert kept["actions"][0]["status"] == "skipped"
    # The platform fetches statements with its API key.
    client = TestClient(create_app(w))
    got = client.get(f"/api/statements/{statement['id']}", headers=api_key_for(w, "platform"))
    assert got.status_code == 200 and got.json()["text"] == statement["text"]
    client.close()


def api_key_for(w: Warding, username: str) -> dict[str, str]:
    from warding.accounts.service import create_user

    with w.transaction() as session:
        create_user(session, username, "api", "a long test password", actor="test")
    return api_key(w, username)


def test_webhook_payload_says_what_to_do_on_appeal(
        app_factory: Callable[..., Warding]) -> None:
    r = WebhookReceiver(SECRET, fail_first=0)
    try:
        w = webhook_app(app_factory, r.url)
        case = make_case(w)
        first = record_decision(w, case.id, VIOLATING, actor="t", reviewer_id=None)
        record_decision(w, case.id, DecisionInput(violating=False, kind="appeal",
                                                  reason="Reversed."), actor="t",
                        reviewer_id=None)
        payloads = sorted(r.acted.values(), key=lambda p: p["decision_id"])
        assert [(p["action"], p["kind"]) for p in payloads] == [("remove", "decision"),
                                                               ("restore", "appeal")]
        assert payloads[1]["supersedes_decision_id"] == first["decision_id"]
    finally:
        r.close()


def test_every_kind_of_change_is_audited(app_factory: Callable[..., Warding],
                                         tmp_path: Path) -> None:
    """Logins, decisions, actions, bank changes and setting changes (wellness, roles)."""
    w = app_factory(action_sinks=["log", "add_to_bank"])
    from warding.accounts.service import create_user

    with w.transaction() as session:
        create_user(session, "admin", "admin", "a long test password", actor="test")
        create_user(session, "rev", "reviewer", "a long test password", actor="test")
    case = make_case(w)
    with TestClient(create_app(w)) as client:
        token = login(client, "admin", "a long test password")
        client.post(f"/cases/{case.id}/decide", data={
            "csrf_token": token, "violating": "yes", "category": "threat",
            "reason": "Placeholder.", "exemption": "none", "kind": "decision"})
        client.post("/settings", data={"csrf_token": token, "blur": "on",
                                       "break_after_items": "20", "break_after_minutes": "30"})
        client.post("/admin/users/rev/role", data={"csrf_token": token, "role": "analyst"})
        client.post("/admin/users/rev/active", data={"csrf_token": token, "active": "no"})
        r = client.post("/api/banks", json={"name": "extra"}, headers={"X-CSRF-Token": token})
        assert r.status_code == 201
        r = client.post("/api/banks/extra/entries", headers={"X-CSRF-Token": token},
                        json={"hashes": [{"type": "md5", "value": "0" * 32}]})
        assert r.status_code == 201
    with w.transaction() as session:
        events = {(e.event_type, e.actor) for e in session.execute(select(AuditEvent)).scalars()}
    for expected in [("auth.login", "admin"), ("case.decided", "admin"),
                     ("action.executed", "system"), ("bank.created", "system"),
                     ("bank.created", "admin"), ("bank.entries_added", "admin"),
                     ("user.settings_changed", "admin"), ("user.role_changed", "admin"),
                     ("user.active_changed", "admin")]:
        assert expected in events, expected
    cli = CLI(tmp_path, db=w.settings.database_url)
    cli.data_dir = w.settings.data_dir
    assert cli.json("audit", "verify", "--json")["ok"] is True


def test_cli_actions_and_roles(app_factory: Callable[..., Warding], tmp_path: Path,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    r = WebhookReceiver(SECRET, fail_first=1)
    try:
        w = webhook_app(app_factory, r.url, action_max_attempts=1)
        case = make_case(w)
        record_decision(w, case.id, VIOLATING, actor="t", reviewer_id=None)
        for name, value in (("ACTION_SINKS", '["webhook"]'), ("WEBHOOK_URL", r.url),
                            ("WEBHOOK_SECRET", SECRET)):
            monkeypatch.setenv(f"WARDING_{name}", value)
        cli = CLI(tmp_path, db=w.settings.database_url)
        cli.data_dir = w.settings.data_dir
        dead = cli.json("action", "list", "--status", "dead", "--json")["actions"]
        assert len(dead) == 1
        assert "nothing" not in cli.run("action", "run").stdout
        out = cli.run("action", "retry", str(dead[0]["id"]))
        assert "done" in out.stdout
        assert cli.run("action", "retry", str(dead[0]["id"]), code=1).stderr
        cli.run("user", "create", "someone", "--role", "reviewer", "--password-stdin",
                input="a long test password\n")
        cli.run("user", "set-role", "someone", "--role", "analyst")
        cli.run("user", "disable", "someone")
        users = cli.json("user", "list", "--json")["users"]
        assert {"username": "someone", "role": "analyst", "active": False} in users
        assert "unknown role" in cli.run("user", "set-role", "someone", "--role", "boss",
                                         code=1).stderr
    finally:
        r.close()


@pytest.mark.postgres
def test_postgres_concurrent_decisions_and_deliveries(pg_app: Warding) -> None:
    """On PostgreSQL, two reviewers deciding one case at once: one wins, the other gets a
    conflict; meanwhile audit events from many writers chain without a fork."""
    from warding.audit.log import verify

    cases = [make_case(pg_app, f"pg{i}") for i in range(4)]
    errors: list[str] = []
    wins: list[int] = []
    barrier = threading.Barrier(4)

    def decide(case_id: int) -> None:
        barrier.wait()
        try:
            out = record_decision(pg_app, case_id, VIOLATING, actor="t", reviewer_id=None)
            wins.append(out["decision_id"])
        except Conflict as exc:
            errors.append(str(exc))

    threads = [threading.Thread(target=decide, args=(cases[0].id,)) for _ in range(2)]
    threads += [threading.Thread(target=decide, args=(c.id,)) for c in cases[1:3]]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(wins) == 3 and len(errors) == 1 and "already decided" in errors[0]
    with pg_app.transaction() as session:
        assert verify(session).ok
        schedules = session.execute(select(ActionSchedule)).scalars().all()
        assert len(schedules) == 3 and all(s.next_attempt_at is None for s in schedules)
