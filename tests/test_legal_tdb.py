"""The DSA Transparency Database: statements in its schema, sent in batches to a local stand-in.

Neutral placeholder texts only; the account names, external ids, URLs, reviewer
notes and notifier details of the fixtures are distinctive strings that must never
appear in what goes to the database.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.cli_helpers import CLI
from tests.tdb_standin import TdbStandIn, validate_statement
from tests.test_web import api_key
from warding.accounts.service import create_user
from warding.actions.notice import issue_statement
from warding.app import Warding
from warding.config import Settings
from warding.cases.routing import open_case
from warding.db.models import Case, ContentItem, Decision, utcnow
from warding.db.models_legal_tdb import TdbSubmission
from warding.db.models_review import StatementOfReasons
from warding.legal import tdb_send
from warding.legal.tdb_queue import queue_statement
from warding.legal.tdb_send import retry_after_seconds, send_due
from warding.legal.transparency import EEA_COUNTRIES
from warding.review.decisions import DecisionInput
from warding.review.service import record_decision
from warding.web.factory import create_app

TOKEN = "test-token"
PASSWORD = "a long test password"
REVIEWER_NOTE = "Reviewer note zqxj-private about acct-zqxj"
NOTIFIER = {"notifier_name": "Notifier Qwvb Person", "notifier_email": "qwvb@example.org"}
TEXT = "Placeholder post: the garden club meets on Thursday to plant tulips."


def account(i: int) -> str:
    return f"acct-zqxj{i:04d}"


def external_id(i: int) -> str:
    return f"ext-qvwp{i:04d}"


def secrets() -> list[str]:
    """Every fixture string that would be personal data (or point at it) if it leaked."""
    return ["zqxj", "qvwp", "qwvb", "people.example", "Notifier", REVIEWER_NOTE]


REASONS: list[list[dict[str, Any]]] = [
    [{"kind": "classifier", "score": 0.97}],
    [{"kind": "bank_match", "signal_type": "pdq", "bank": "known"}],
    [{"kind": "notice", "trusted_flagger": False, **NOTIFIER}],
    [{"kind": "notice", "trusted_flagger": True, **NOTIFIER}],
    [{"kind": "removal_order", "order_id": 7}],
]
CATEGORIES = ["incitement_glorification", "solicitation_recruitment", "instruction", "threat",
              "perpetrator_content", None]


def make_statements(w: Warding, n: int, *, start: int = 0, queue: bool = True) -> list[int]:
    """``n`` decided cases with their statements of reasons (queued for the database)."""
    ids = []
    with w.transaction() as session:
        for i in range(start, start + n):
            item = ContentItem(source="forum", external_id=external_id(i), kind="post",
                               url=f"https://people.example/{account(i)}/{external_id(i)}",
                               account=account(i), text=TEXT, lang="en", input_ref="test",
                               posted_at=datetime(2026, 11, 20, 8, 0, tzinfo=UTC))
            session.add(item)
            session.flush()
            case = Case(item_id=item.id, reasons=REASONS[i % len(REASONS)], status="decided")
            session.add(case)
            session.flush()
            decision = Decision(case_id=case.id, violating=True,
                                category=CATEGORIES[i % len(CATEGORIES)],
                                reason=REVIEWER_NOTE, automated=(i % 7 == 0))
            session.add(decision)
            session.flush()
            statement = issue_statement(session, f"test-{i}", case.id, decision.id, None)
            assert statement is not None
            if queue:
                assert queue_statement(session, statement, list(EEA_COUNTRIES)) is not None
            ids.append(statement.id)
    return ids


@pytest.fixture
def standin() -> Iterator[TdbStandIn]:
    s = TdbStandIn(TOKEN)
    yield s
    s.close()


@pytest.fixture
def tdb_app(app_factory: Callable[..., Warding], standin: TdbStandIn) -> Warding:
    return app_factory(tdb_url=standin.url, tdb_token=TOKEN)


def rows(w: Warding) -> list[TdbSubmission]:
    with w.transaction() as session:
        out = list(session.execute(select(TdbSubmission).order_by(TdbSubmission.id)).scalars())
        session.expunge_all()
        return out


def statuses(w: Warding) -> dict[str, int]:
    with w.transaction() as session:
        return {s: int(n) for s, n in session.execute(
            select(TdbSubmission.status, func.count()).group_by(TdbSubmission.status))}


# -- batches -------------------------------------------------------------------
def test_250_statements_go_in_three_batches(tdb_app: Warding, standin: TdbStandIn) -> None:
    make_statements(tdb_app, 250)
    out = send_due(tdb_app)
    assert out["requests"] == 3 and out["sent"] == 250 and out["rejected"] == 0
    assert standin.requests == [100, 100, 50]
    assert len(standin.stored) == 250
    assert statuses(tdb_app) == {"sent": 250}
    assert send_due(tdb_app)["requests"] == 0  # each statement is sent once
    assert standin.requests == [100, 100, 50]
    for s in standin.stored.values():
        assert validate_statement(s) == {}


def test_one_invalid_statement_is_isolated_the_rest_accepted(tdb_app: Warding,
                                                             standin: TdbStandIn) -> None:
    make_statements(tdb_app, 150)
    bad = rows(tdb_app)[37]
    with tdb_app.transaction() as session:
        row = session.get(TdbSubmission, bad.id)
        assert row is not None
        row.payload = {**row.payload, "automated_decision": "maybe"}
    out = send_due(tdb_app)
    assert out["rejected"] == 1 and out["sent"] == 149
    assert standin.requests == [100, 99, 50]  # the 422 named it: the other 99 went again
    assert bad.puid not in standin.stored and len(standin.stored) == 149
    rejected = [r for r in rows(tdb_app) if r.status == "rejected"]
    assert [r.id for r in rejected] == [bad.id]
    assert "automated_decision" in rejected[0].error
    assert "The selected automated decision is invalid." in rejected[0].error
    assert send_due(tdb_app)["requests"] == 0  # a rejected statement is not sent again


def test_a_422_naming_no_statement_is_bisected(app_factory: Callable[..., Warding]) -> None:
    standin = TdbStandIn(TOKEN, indexed=False)
    try:
        w = app_factory(tdb_url=standin.url, tdb_token=TOKEN)
        make_statements(w, 100)
        bad = rows(w)[61]
        with w.transaction() as session:
            row = session.get(TdbSubmission, bad.id)
            assert row is not None
            row.payload = {k: v for k, v in row.payload.items() if k != "content_date"}
        out = send_due(w)
        assert out["rejected"] == 1 and out["sent"] == 99
        assert len(standin.stored) == 99 and bad.puid not in standin.stored
        assert out["requests"] <= 2 * 7 + 1  # log2(100) rounds of halves, at most
        assert {r.id: r.status for r in rows(w)}[bad.id] == "rejected"
    finally:
        standin.close()


# -- 429, network errors, kill -9 ----------------------------------------------
def test_429_backs_off_until_retry_after(tdb_app: Warding, standin: TdbStandIn) -> None:
    make_statements(tdb_app, 120)
    standin.throttle(1, retry_after="120")
    now = utcnow()
    out = send_due(tdb_app, now=now)
    assert out["requests"] == 1 and out["sent"] == 0 and out["throttled_until"]
    until = datetime.fromisoformat(out["throttled_until"])
    assert timedelta(seconds=119) <= until - now <= timedelta(seconds=121)
    assert send_due(tdb_app, now=now + timedelta(seconds=60))["requests"] == 0  # still waiting
    assert all(r.status == "pending" and r.next_attempt_at == until for r in rows(tdb_app))
    assert sum(r.http_status == 429 for r in rows(tdb_app)) == 100  # the batch that was refused
    later = send_due(tdb_app, now=now + timedelta(seconds=121))
    assert later["sent"] == 120 and standin.requests == [100, 100, 20]


def test_retry_after_as_a_date() -> None:
    now = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
    assert retry_after_seconds("Sat, 05 Dec 2026 12:02:00 GMT", now) == 120
    assert retry_after_seconds("30", now) == 30
    assert retry_after_seconds(None, now) == 60 and retry_after_seconds("soon", now) == 60


def test_network_errors_are_retried_with_backoff(app_factory: Callable[..., Warding],
                                                 standin: TdbStandIn) -> None:
    dead = TdbStandIn(TOKEN)
    dead_url = dead.url
    dead.close()  # nothing listens there any more
    w = app_factory(tdb_url=dead_url, tdb_token=TOKEN)
    make_statements(w, 5)
    now = utcnow()
    out = send_due(w, now=now)
    assert out["sent"] == 0 and out["retry_later"] == 5 and out["errors"]
    assert all(r.status == "pending" and r.attempts == 1 and r.error for r in rows(w))
    assert send_due(w, now=now)["requests"] == 0  # waiting for the backoff
    w.settings.tdb_url = standin.url  # the database is reachable again
    assert send_due(w, now=now + timedelta(hours=2))["sent"] == 5


def test_wrong_token_keeps_statements_pending(app_factory: Callable[..., Warding],
                                              standin: TdbStandIn) -> None:
    w = app_factory(tdb_url=standin.url, tdb_token="not-the-token")
    make_statements(w, 3)
    out = send_due(w)
    assert out["sent"] == out["rejected"] == 0 and "401" in out["errors"][0]
    assert all(r.status == "pending" and r.http_status == 401 for r in rows(w))


def test_killed_between_send_and_record_sends_once(tdb_app: Warding,
                                                   standin: TdbStandIn) -> None:
    make_statements(tdb_app, 30)
    now = utcnow()
    items, due = tdb_send._claim(tdb_app, now, 100)  # the runner leases and sends ...
    assert due == 30
    reply = tdb_send.post_batch(standin.url, TOKEN, [it.payload for it in items])
    assert reply.status == 201  # ... and dies before it records the answer (kill -9)
    assert send_due(tdb_app, now=now)["requests"] == 0  # the lease still holds
    out = send_due(tdb_app, now=now + timedelta(minutes=6))  # the lease has run out
    assert out["already_present"] == 30 and out["sent"] == 0
    assert len(standin.stored) == 30  # the database holds each puid once
    assert statuses(tdb_app) == {"sent": 30}


def test_lost_answer_then_retry_marks_sent_once(tdb_app: Warding, standin: TdbStandIn) -> None:
    make_statements(tdb_app, 10)
    standin.lose_answers(1)
    now = utcnow()
    assert send_due(tdb_app, now=now)["retry_later"] == 10
    out = send_due(tdb_app, now=now + timedelta(hours=2))
    assert out["already_present"] == 10 and len(standin.stored) == 10


# -- content stays home --------------------------------------------------------
def test_nothing_is_sent_without_the_url(app_factory: Callable[..., Warding],
                                         standin: TdbStandIn) -> None:
    w = app_factory(action_sinks=["transparency_db"])
    make_statements(w, 4)
    out = send_due(w)
    assert out == {**out, "configured": False, "requests": 0, "sent": 0}
    assert standin.requests == [] and statuses(w) == {"pending": 4}


def test_cli_tdb_send(tmp_path: Path, standin: TdbStandIn, monkeypatch: pytest.MonkeyPatch
                      ) -> None:
    cli = CLI(tmp_path)
    cli.run("init")
    out = cli.json("legal", "tdb-send", "--json")
    assert out["configured"] is False and out["requests"] == 0
    monkeypatch.setenv("WARDING_TDB_URL", standin.url)
    monkeypatch.setenv("WARDING_TDB_TOKEN", TOKEN)
    w = Warding(Settings(database_url=cli.db, data_dir=cli.data_dir))
    try:
        make_statements(w, 3)
    finally:
        w.close()
    assert cli.json("legal", "tdb-send", "--json")["sent"] == 3
    assert "0 request(s)" in cli.run("legal", "tdb-send").stdout


# -- the mapping ---------------------------------------------------------------
def test_no_personal_data_and_valid_schema(tdb_app: Warding, standin: TdbStandIn) -> None:
    make_statements(tdb_app, 60)
    payloads = [r.payload for r in rows(tdb_app)]
    text = json.dumps(payloads)
    for secret in secrets():
        assert secret not in text, secret
    for i in range(60):
        assert account(i) not in text and external_id(i) not in text
    for p in payloads:
        assert validate_statement(p) == {}
        assert p["category"] == "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY"
        assert p["category_specification"] == ["KEYWORD_TERRORIST_CONTENT"]
        assert p["decision_visibility"] == ["DECISION_VISIBILITY_CONTENT_REMOVED"]
        assert p["content_date"] == "2026-11-20" and p["content_language"] == "EN"
        assert "source_identity" not in p
    by_source = {p["source_type"] for p in payloads}
    assert by_source == {"SOURCE_VOLUNTARY", "SOURCE_ARTICLE_16", "SOURCE_TRUSTED_FLAGGER",
                         "SOURCE_TYPE_OTHER_NOTIFICATION"}
    first = payloads[0]  # classifier reason, incitement category, automated decision
    assert first["automated_detection"] == "Yes"
    assert first["automated_decision"] == "AUTOMATED_DECISION_FULLY"
    assert first["decision_ground"] == "DECISION_GROUND_ILLEGAL_CONTENT"
    assert "Art. 2(7)(a)" in first["illegal_content_legal_ground"]
    notice = payloads[2]  # an Art. 16 notice, decided by a person
    assert notice["source_type"] == "SOURCE_ARTICLE_16"
    assert notice["automated_detection"] == "No"
    assert notice["automated_decision"] == "AUTOMATED_DECISION_NOT_AUTOMATED"
    tos = payloads[10]  # perpetrator content, own initiative: the terms of service
    assert tos["decision_ground"] == "DECISION_GROUND_INCOMPATIBLE_CONTENT"
    assert tos["incompatible_content_ground"] and tos["incompatible_content_explanation"]
    assert "illegal_content_legal_ground" not in tos
    order = payloads[4]  # a removal order (perpetrator content): the order's legal ground
    assert order["source_type"] == "SOURCE_TYPE_OTHER_NOTIFICATION"
    assert order["decision_ground"] == "DECISION_GROUND_ILLEGAL_CONTENT"
    assert "Art. 3" in order["illegal_content_legal_ground"]
    assert "executed the removal order" in order["decision_facts"]
    assert send_due(tdb_app)["sent"] == 60


def test_endpoint_serves_statements_in_the_database_schema(tdb_app: Warding,
                                                           standin: TdbStandIn) -> None:
    make_statements(tdb_app, 250)
    with tdb_app.transaction() as session:
        for name, role in (("rev", "reviewer"), ("officer", "legal"), ("an", "analyst")):
            create_user(session, name, role, PASSWORD, actor="test")
    bad = rows(tdb_app)[10]
    with tdb_app.transaction() as session:
        row = session.get(TdbSubmission, bad.id)
        assert row is not None
        row.payload = {**row.payload, "territorial_scope": ["US"]}
    send_due(tdb_app, max_batches=1)  # the first 100: one rejected, 99 sent
    client = TestClient(create_app(tdb_app))
    assert client.get("/api/legal/transparency-db/statements").status_code == 401
    assert client.get("/api/legal/transparency-db/statements",
                      headers=api_key(tdb_app, "an")).status_code == 403
    key = api_key(tdb_app, "rev")
    r = client.get("/api/legal/transparency-db/statements", headers=key)
    assert r.status_code == 200
    page = r.json()
    assert page["total"] == 250 and page["counts"] == {"pending": 150, "sent": 99, "rejected": 1}
    assert len(page["statements"]) == 100
    text = r.text
    for secret in secrets():
        assert secret not in text
    for s in page["statements"]:
        if s["id"] != bad.id:
            assert validate_statement(s["statement"]) == {}, s
    rejected = client.get("/api/legal/transparency-db/statements?status=rejected",
                          headers=api_key(tdb_app, "officer")).json()
    assert [s["id"] for s in rejected["statements"]] == [bad.id]
    assert "territorial scope" in rejected["statements"][0]["error"]
    last = client.get("/api/legal/transparency-db/statements?limit=100&offset=200",
                      headers=key).json()
    assert len(last["statements"]) == 50 and all(s["status"] == "pending"
                                                  for s in last["statements"])
    assert client.get("/api/legal/transparency-db/statements?status=bogus",
                      headers=key).status_code == 422


# -- the sink ------------------------------------------------------------------
def _case(w: Warding, i: int, reasons: list[dict[str, Any]]) -> int:
    with w.transaction() as session:
        item = ContentItem(source="forum", external_id=external_id(i), kind="post",
                           account=account(i), text=TEXT, input_ref="test")
        session.add(item)
        session.flush()
        case = open_case(session, item, reasons, "test")
        assert case is not None
        return case.id


def test_sink_queues_restrictions_once_and_not_reinstatements(
        app_factory: Callable[..., Warding], standin: TdbStandIn) -> None:
    w = app_factory(tdb_url=standin.url, tdb_token=TOKEN,
                    action_sinks=["transparency_db", "notify_uploader"])
    case_id = _case(w, 1, [{"kind": "notice", "trusted_flagger": True, **NOTIFIER}])
    out = record_decision(w, case_id, DecisionInput(violating=True, category="threat",
                                                    reason=REVIEWER_NOTE),
                          actor="t", reviewer_id=None)
    assert {a["sink"]: a["status"] for a in out["actions"]} == {
        "transparency_db": "done", "notify_uploader": "done"}
    with w.transaction() as session:  # one statement, shared by the uploader and the database
        assert session.execute(select(func.count(StatementOfReasons.id))).scalar_one() == 1
    [queued] = rows(w)
    assert queued.payload["source_type"] == "SOURCE_TRUSTED_FLAGGER"
    assert queued.payload["decision_ground"] == "DECISION_GROUND_ILLEGAL_CONTENT"
    appeal = record_decision(w, case_id, DecisionInput(violating=False, kind="appeal",
                                                       reason="placeholder: reinstated"),
                             actor="t", reviewer_id=None)
    tdb = [a for a in appeal["actions"] if a["sink"] == "transparency_db"]
    assert tdb[0]["status"] == "skipped"  # a reinstatement is not a restriction
    assert len(rows(w)) == 1
    assert send_due(w)["sent"] == 1 and len(standin.stored) == 1


def test_upheld_and_lifted_statements_are_not_queued(wapp: Warding) -> None:
    [sid] = make_statements(wapp, 1, queue=False)
    with wapp.transaction() as session:
        statement = session.get(StatementOfReasons, sid)
        assert statement is not None
        for restriction in ("removal_upheld", "restriction_lifted"):
            statement.restriction = restriction
            assert queue_statement(session, statement, list(EEA_COUNTRIES)) is None
        statement.restriction = "removal"
        first = queue_statement(session, statement, list(EEA_COUNTRIES))
        again = queue_statement(session, statement, list(EEA_COUNTRIES))
        assert first is not None and again is not None and first.puid == again.puid


def test_action_worker_sends_the_queue(tdb_app: Warding, standin: TdbStandIn) -> None:
    from warding.actions.worker import ActionWorker

    make_statements(tdb_app, 3)
    ActionWorker(tdb_app, 60.0)._send_transparency_db()  # what each run of the loop does
    assert statuses(tdb_app) == {"sent": 3} and len(standin.stored) == 3


@pytest.mark.postgres
def test_batches_on_postgres(pg_app: Warding, standin: TdbStandIn) -> None:
    pg_app.settings.tdb_url, pg_app.settings.tdb_token = standin.url, TOKEN
    make_statements(pg_app, 130)
    bad = rows(pg_app)[5]
    with pg_app.transaction() as session:
        row = session.get(TdbSubmission, bad.id)
        assert row is not None
        row.payload = {**row.payload, "puid": "has spaces"}
    out = send_due(pg_app)
    assert out["sent"] == 129 and out["rejected"] == 1 and standin.requests == [100, 99, 30]
    assert statuses(pg_app) == {"sent": 129, "rejected": 1}
