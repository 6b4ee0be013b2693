"""The law's workflows end to end (issue 14), as a platform and its legal officer run them:
an order from receipt to Annex II inside its hour, an order answered with Annex III, a
complaint ending in reinstatement, a notice, a threat-to-life flag, and a yearly report
whose counts match. Texts are neutral placeholders."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from typer.testing import CliRunner

from tests.tdb_standin import TdbStandIn
from tests.test_action_sinks import SECRET, Receiver
from tests.test_web import PASSWORD, api_key, login
from warding.accounts.service import create_user
from warding.app import Warding
from warding.audit.log import verify
from warding.cli.main import app as cli
from warding.db.models import AuditEvent, ContentItem, utcnow
from warding.db.models_intake import WebhookEvent
from warding.db.models_legal import RemovalOrder
from warding.db.models_review import StatementOfReasons
from warding.legal.worker import tick
from warding.web.factory import create_app

TEXT = "Neutral placeholder post about gardens and timetables, number {n}."
SINKS = ["log", "webhook", "add_to_bank", "notify_uploader", "transparency_db"]


@pytest.fixture
def receivers() -> Iterator[dict[str, Any]]:
    made = {"platform": Receiver(fail_first=0), "events": Receiver(fail_first=0),
            "police": Receiver(fail_first=0), "tdb": TdbStandIn("tdb-token")}
    yield made
    for r in made.values():
        r.close()


@pytest.fixture
def legal_app(app_factory: Callable[..., Warding], receivers: dict[str, Receiver]
              ) -> Iterator[tuple[Warding, TestClient, dict[str, dict[str, str]]]]:
    w = app_factory(semantic_matching=False, action_sinks=SINKS,
                    webhook_url=receivers["platform"].url, webhook_secret=SECRET,
                    event_webhook_url=receivers["events"].url,
                    law_enforcement_webhook_url=receivers["police"].url,
                    tdb_url=receivers["tdb"].url, tdb_token="tdb-token",
                    action_worker_interval=0, provider_name="Example Hosting",
                    provider_contact_point="legal@hosting.example", provider_member_state="IE",
                    provider_authorised_person="A. Officer")
    with w.transaction() as session:
        for role in ("admin", "reviewer", "analyst", "legal", "api"):
            create_user(session, role, role, PASSWORD, actor="test")
    client = TestClient(create_app(w))
    keys = {role: api_key(w, role) for role in ("reviewer", "analyst", "legal", "api")}
    yield w, client, keys
    client.close()


def _posts(client: TestClient, keys: dict[str, dict[str, str]], n: int) -> None:
    posts = [{"id": f"p{i}", "account": f"acct-{i % 3}", "time": "2026-03-02T03:04:05Z",
              "text": TEXT.format(n=i), "url": f"https://social.example/posts/{i}"}
             for i in range(n)]
    r = client.post("/api/items", json={"source": "social", "items": posts},
                    headers=keys["api"])
    assert r.status_code == 200, r.text


def _order(reference: str, locations: list[Any], **extra: Any) -> dict[str, Any]:
    return {"reference": reference,
            "issuing_authority": {"member_state": "DE", "name": "Example Authority",
                                  "email": "orders@authority.example"},
            "issued_at": (utcnow() - timedelta(minutes=5)).isoformat(),
            "locations": locations, "grounds": ["incitement"],
            "reasons": "Placeholder reasons given by the authority for this test order.",
            **extra}


def test_the_law_s_workflows_end_to_end(legal_app: Any,
                                        receivers: dict[str, Receiver]) -> None:
    w, client, keys = legal_app
    legal, api = keys["legal"], keys["api"]
    _posts(client, keys, 8)

    # Who may do what: reviewers and analysts cannot record orders; api forwards notices.
    body = _order("RO-1", ["https://social.example/posts/1",
                           {"source": "social", "external_id": "p2"},
                           {"url": "https://elsewhere.example/never-stored", "detail": "mirror"}])
    assert client.post("/api/legal/removal-orders", json=body,
                       headers=keys["reviewer"]).status_code == 403
    assert client.get("/api/legal/removal-orders", headers=keys["analyst"]).status_code == 403
    assert client.post("/api/legal/removal-orders", json=body, headers=api).status_code == 403

    # 1. An order from receipt to Annex II inside its hour.
    r = client.post("/api/legal/removal-orders", json=body, headers=legal)
    assert r.status_code == 201, r.text
    order = r.json()
    received = datetime.fromisoformat(order["received_at"])
    assert datetime.fromisoformat(order["due_at"]) == received + timedelta(hours=1)
    assert order["status"] == "open" and len(order["items"]) == 3
    assert [i["resolved"] for i in order["items"]] == [True, True, False]
    assert client.post("/api/legal/removal-orders", json=body,
                       headers=legal).status_code == 409  # one order per reference
    listed = client.get("/api/legal/removal-orders?status=open", headers=legal).json()
    assert [o["reference"] for o in listed["orders"]] == ["RO-1"]
    assert client.get(f"/api/legal/removal-orders/{order['id']}/annex-ii",
                      headers=legal).status_code == 409  # not executed yet
    r = client.post(f"/api/legal/removal-orders/{order['id']}/comply",
                    json={"measure": "disabled"}, headers=legal)
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["status"] == "complied" and done["within_deadline"] is True
    assert datetime.fromisoformat(done["complied_at"]) <= received + timedelta(hours=1)
    sent = [json.loads(b) for _, b in receivers["platform"].calls]
    assert len(sent) == 3 and {s["action"] for s in sent} == {"remove"}
    assert {s["context"]["measure"] for s in sent} == {"disabled"}
    assert all(s["context"]["order_reference"] == "RO-1" and s["context"]["reversible"]
               for s in sent)
    annex = client.get(f"/api/legal/removal-orders/{order['id']}/annex-ii", headers=legal).json()
    assert annex["order_reference"] == "RO-1" and annex["measure"] == "disabled"
    assert annex["provider_file_reference"] == f"WARDING-RO-{order['id']}"
    assert annex["received_at"] == order["received_at"]
    assert annex["hosting_service_provider"] == {
        "name": "Example Hosting", "contact_point": "legal@hosting.example",
        "member_state": "IE", "authorised_person": "A. Officer"}
    login(client, "legal")
    page = client.get(f"/legal/removal-orders/{order['id']}/annex-ii")
    assert page.status_code == 200 and "RO-1" in page.text and "Annex II" in page.text
    assert client.get("/legal").status_code == 200
    # Preserved for six months, not deleted.
    pres = client.get("/api/legal/preservations", headers=legal).json()["preservations"]
    assert len(pres) == 3
    for p in pres:
        gap = datetime.fromisoformat(p["preserve_until"]) - datetime.fromisoformat(p["removed_at"])
        assert gap == timedelta(days=183) and p["status"] == "preserved"
    with w.transaction() as session:
        assert session.execute(select(ContentItem).where(
            ContentItem.external_id == "p1")).scalar_one().text == TEXT.format(n=1)
    # The uploaders' statements are released at once (no non-disclosure in this order).
    statements = client.get("/api/statements", headers=api).json()["statements"]
    assert len(statements) == 3 and all(s["released"] for s in statements)
    assert all(s["body"]["own_initiative"] is False and "RO-1" in s["body"][
        "facts_and_circumstances"] for s in statements)

    # 2. An order with non-disclosure: the uploader's statement waits until the date.
    until = utcnow() + timedelta(days=30)
    r = client.post("/api/legal/removal-orders", headers=legal, json=_order(
        "RO-2", ["https://social.example/posts/3"], nondisclosure_until=until.isoformat()))
    r = client.post(f"/api/legal/removal-orders/{r.json()['id']}/comply",
                    json={"measure": "removed"}, headers=legal)
    assert r.json()["within_deadline"] is True
    assert len(client.get("/api/statements", headers=api).json()["statements"]) == 3
    withheld = [s for s in client.get("/api/statements", headers=legal).json()["statements"]
                if not s["released"]]
    assert len(withheld) == 1
    with w.transaction() as session:  # the date passes
        session.execute(update(StatementOfReasons).values(
            withheld_until=utcnow() - timedelta(seconds=1)).where(
            StatementOfReasons.id == withheld[0]["id"]))
    assert tick(w)["statements_released"] == 1
    assert len(client.get("/api/statements", headers=api).json()["statements"]) == 4

    # 3. An order answered with Annex III: the clock stops, then restarts on clarification.
    late = utcnow() - timedelta(hours=2)
    r = client.post("/api/legal/removal-orders", headers=legal, json=_order(
        "RO-3", ["https://social.example/posts/4"], received_at=late.isoformat(),
        issued_at=(late - timedelta(minutes=1)).isoformat()))
    o3 = r.json()
    assert o3["status"] == "overdue"
    assert [o["reference"] for o in client.get("/api/legal/removal-orders?status=overdue",
                                               headers=legal).json()["orders"]] == ["RO-3"]
    r = client.post(f"/api/legal/removal-orders/{o3['id']}/inability", headers=legal,
                    json={"reason": "insufficient_information",
                          "explanation": "The location names no post we host.",
                          "clarification_needed": "The exact address of the post."})
    assert r.status_code == 200 and r.json()["status"] == "unable" and r.json()["due_at"] is None
    assert client.get("/api/legal/removal-orders?status=overdue",
                      headers=legal).json()["orders"] == []
    assert client.get(f"/api/legal/removal-orders/{o3['id']}/annex-iii",
                      headers=legal).json()["inability"]["reason"] == "insufficient_information"
    r = client.post(f"/api/legal/removal-orders/{o3['id']}/clarification", headers=legal,
                    json={"note": "The authority sent the address."})
    restarted = r.json()
    assert restarted["status"] == "open"
    assert (datetime.fromisoformat(restarted["due_at"]) - utcnow()) > timedelta(minutes=59)
    assert client.post(f"/api/legal/removal-orders/{o3['id']}/comply", headers=legal,
                       json={"measure": "disabled"}).json()["within_deadline"] is True
    # An order that stays unexecuted (force majeure).
    r = client.post("/api/legal/removal-orders", headers=legal,
                    json=_order("RO-4", ["https://social.example/posts/5"]))
    client.post(f"/api/legal/removal-orders/{r.json()['id']}/inability", headers=legal,
                json={"reason": "force_majeure", "explanation": "Data centre outage."})

    # 4. The clock alerts: an order near its deadline and one past it.
    received5 = utcnow() - timedelta(minutes=50)
    r = client.post("/api/legal/removal-orders", headers=legal, json=_order(
        "RO-5", ["https://social.example/posts/6"], received_at=received5.isoformat(),
        issued_at=(received5 - timedelta(minutes=1)).isoformat()))
    assert r.status_code == 201, r.text
    assert tick(w)["order_alerts"] == 1
    assert tick(w)["order_alerts"] == 0  # once per deadline
    with w.transaction() as session:
        kinds = [e.event_type for e in session.execute(select(WebhookEvent)).scalars()]
    assert "removal_order.due_soon" in kinds
    client.post(f"/api/legal/removal-orders/{r.json()['id']}/comply", headers=legal,
                json={"measure": "disabled"})

    # 5. A complaint ending in reinstatement.
    r = client.post("/api/legal/complaints", headers=legal, json={
        "location": "https://social.example/posts/1",
        "complainant": {"name": "Uploader", "email": "uploader@mail.example"},
        "grounds": "The post was a quotation in a news report."})
    assert r.status_code == 201, r.text
    complaint = r.json()
    gap = datetime.fromisoformat(complaint["due_at"]) - datetime.fromisoformat(
        complaint["received_at"])
    assert gap == timedelta(days=14) and complaint["order_id"] == order["id"]
    before = len(receivers["platform"].calls)
    r = client.post(f"/api/legal/complaints/{complaint['id']}/decision", headers=legal,
                    json={"outcome": "reinstated", "reason": "Journalistic purpose (Art. 1(3))."})
    assert r.status_code == 200, r.text
    decided = r.json()
    assert decided["status"] == "decided" and "reinstated" in decided["response"]
    restored = [json.loads(b) for _, b in receivers["platform"].calls[before:]]
    assert [s["action"] for s in restored] == ["restore"]
    assert client.post(f"/api/legal/complaints/{complaint['id']}/decision", headers=legal,
                       json={"outcome": "rejected", "reason": "again"}).status_code == 409
    assert client.post("/api/legal/complaints", headers=legal, json={
        "location": "https://social.example/posts/7", "complainant": {"name": "x"},
        "grounds": "never removed"}).status_code == 409

    # 6. A notice: it opens a case for review; the notifier hears the decision.
    r = client.post("/api/legal/notices", headers=api, json={
        "explanation": "Placeholder explanation of why the post is illegal.",
        "locations": ["https://social.example/posts/0"], "notifier_name": "Notifier",
        "notifier_email": "notifier@mail.example", "bona_fide": True,
        "trusted_flagger": True})
    assert r.status_code == 201, r.text
    notice = r.json()
    case_id = notice["cases"][0]["case_id"]
    assert client.post("/api/legal/notices", headers=api, json={
        "explanation": "x", "locations": ["https://social.example/posts/0"],
        "bona_fide": False}).status_code == 422
    r = client.post(f"/api/cases/{case_id}/decision", headers=keys["reviewer"], json={
        "violating": True, "category": "threat", "reason": "Placeholder review reason."})
    assert r.status_code == 201, r.text
    assert tick(w)["notices_answered"] == 1
    answered = client.get(f"/api/legal/notices/{notice['id']}", headers=legal).json()
    assert answered["status"] == "decided" and answered["outcome"] == "removed"
    seen = client.get(f"/api/legal/notices/{notice['id']}", headers=keys["reviewer"]).json()
    assert seen["notifier_email"] == "(withheld)"  # the reviewer decided it: sees, redacted

    # 7. Imminent threat to life: law enforcement hears at once.
    r = client.post(f"/api/legal/cases/{case_id}/threat-to-life", headers=legal,
                    json={"note": "Placeholder: a date and place are named."})
    assert r.status_code == 201 and r.json()["status"] == "notified"
    assert json.loads(receivers["police"].calls[0][1])["case_id"] == case_id

    # 8. The statements of reasons reach the DSA Transparency Database (the local stand-in
    # checks the published field rules): one per removal, none for the reinstatement, the
    # withheld one only once released; none carries personal data.
    from warding.legal.tdb_send import send_due

    sent = send_due(w)
    assert sent["rejected"] == 0, sent
    stored = receivers["tdb"].stored
    assert len(stored) == 7  # RO-1 (3 items), RO-2, RO-3, RO-5, and the notice's removal
    sources = sorted(s["source_type"] for s in stored.values())
    assert sources.count("SOURCE_TYPE_OTHER_NOTIFICATION") == 6
    assert sources.count("SOURCE_TRUSTED_FLAGGER") == 1
    blob = json.dumps(list(stored.values()))
    assert "acct-" not in blob and "social.example" not in blob and "notifier@" not in blob

    # 9. The yearly report's counts match what happened.
    year = utcnow().year
    report = client.get(f"/api/legal/reports/tco?year={year}", headers=legal).json()
    assert report["removal_orders_received"] == 5
    assert report["removed_after_orders"] == 6  # RO-1: 3 items, RO-2, RO-3, RO-5: 1 each
    assert report["removed_after_own_measures"] == 0  # the notice's removal is not own-initiative
    assert report["orders_not_executed"] == {"count": 1, "by_ground": {"force_majeure": 1}}
    assert report["complaints"] == {"received": 1, "reinstated": 1, "rejected": 0, "pending": 0}
    assert report["reinstated_after_complaint"] == 1
    assert report["dsa"]["notices"] == {"received": 1, "from_trusted_flaggers": 1, "decided": 1,
                                        "led_to_removal": 1,
                                        "median_hours_to_act": report["dsa"]["notices"][
                                            "median_hours_to_act"]}
    assert report["dsa"]["orders"]["complied_within_one_hour"] == 4
    result = CliRunner().invoke(cli, ["--db", w.settings.database_url, "--data-dir",
                                      str(w.settings.data_dir), "report", "tco", "--year",
                                      str(year), "--json"])
    assert result.exit_code == 0, result.output
    cli_report = json.loads(result.output)
    for key in ("removed_after_orders", "orders_not_executed", "complaints",
                "reinstated_after_complaint"):
        assert cli_report[key] == report[key]
    page = client.get(f"/legal/reports/tco?year={year}")
    assert page.status_code == 200 and "(g) Reinstated after a complaint" in page.text

    # Everything is in the audit log, and the log is intact.
    with w.transaction() as session:
        types = {e for (e,) in session.execute(select(AuditEvent.event_type))}
        assert {"legal.order_received", "legal.order_changed", "legal.complaint",
                "legal.notice", "legal.threat_to_life", "statement.released"} <= types
        assert verify(session).ok
        assert session.execute(select(RemovalOrder.received_at).where(
            RemovalOrder.reference == "RO-1")).scalar_one().isoformat() == order["received_at"]


def test_annulled_cross_border_order_is_reinstated_at_once(legal_app: Any,
                                                           receivers: dict[str, Receiver]) -> None:
    w, client, keys = legal_app
    legal = keys["legal"]
    _posts(client, keys, 2)
    r = client.post("/api/legal/removal-orders", headers=legal, json=_order(
        "RO-X", ["https://social.example/posts/1"], cross_border=True))
    order = r.json()
    assert "scrutiny_request_until" in order
    client.post(f"/api/legal/removal-orders/{order['id']}/comply", headers=legal,
                json={"measure": "disabled"})
    client.post(f"/api/legal/removal-orders/{order['id']}/scrutiny", headers=legal,
                json={"event": "requested"})
    r = client.post(f"/api/legal/removal-orders/{order['id']}/scrutiny", headers=legal,
                    json={"event": "annulled", "note": "Annulled by the host Member State."})
    assert r.status_code == 200 and r.json()["status"] == "annulled"
    actions = [json.loads(b)["action"] for _, b in receivers["platform"].calls]
    assert actions == ["remove", "restore"]
    report = client.get(f"/api/legal/reports/tco?year={utcnow().year}", headers=legal).json()
    assert report["reinstated_after_review"] == 1
    assert report["review_proceedings"] == {"scrutiny_requested": 1, "upheld": 0, "annulled": 1}


def test_bad_orders_are_clear_4xx(legal_app: Any) -> None:
    w, client, keys = legal_app
    legal = keys["legal"]
    good = _order("RO-B", ["https://social.example/posts/1"])
    for bad, field in [({**good, "grounds": ["gossip"]}, "grounds"),
                       ({**good, "locations": []}, "locations"),
                       ({**good, "locations": ["not a url at all"]}, "location"),
                       ({**good, "issued_at": "2026-01-01T00:00:00"}, "time zone"),
                       ({**good, "issuing_authority": {"name": "x"}}, "member_state")]:
        r = client.post("/api/legal/removal-orders", json=bad, headers=legal)
        assert r.status_code == 422, (field, r.text)
    assert client.post("/api/legal/removal-orders/999/comply", json={"measure": "removed"},
                       headers=legal).status_code == 404
    r = client.post("/api/legal/removal-orders", json=good, headers=legal)
    oid = r.json()["id"]
    assert client.post(f"/api/legal/removal-orders/{oid}/comply", json={"measure": "burn"},
                       headers=legal).status_code == 422
    assert client.post(f"/api/legal/removal-orders/{oid}/clarification", json={},
                       headers=legal).status_code == 409


def test_purge_deletes_expired_content_and_keeps_the_record(legal_app: Any) -> None:
    w, client, keys = legal_app
    legal = keys["legal"]
    _posts(client, keys, 3)
    r = client.post("/api/legal/removal-orders", headers=legal,
                    json=_order("RO-P", ["https://social.example/posts/1",
                                         "https://social.example/posts/2"]))
    client.post(f"/api/legal/removal-orders/{r.json()['id']}/comply", headers=legal,
                json={"measure": "removed"})
    pres = client.get("/api/legal/preservations", headers=legal).json()["preservations"]
    later = utcnow() + timedelta(days=400)
    r = client.post(f"/api/legal/preservations/{pres[0]['id']}/extend", headers=legal, json={
        "until": later.isoformat(), "requested_by": "Example Court", "reference": "C-1"})
    assert r.status_code == 200 and r.json()["extensions"][0]["requested_by"] == "Example Court"
    content = client.get(f"/api/legal/preservations/{pres[1]['id']}/content", headers=legal)
    assert content.status_code == 200 and content.json()["item"]["text"]
    from warding.legal.preservation import purge

    result = purge(w, "test", now=utcnow() + timedelta(days=200))
    assert result["purged"] == [pres[1]["id"]]  # the extended one is kept
    with w.transaction() as session:
        texts = {i.external_id: i.text for i in session.execute(select(ContentItem)).scalars()}
        assert texts["p2"] is None or texts["p1"] is None
        assert sum(1 for t in (texts["p1"], texts["p2"]) if t) == 1
        types = [e for (e,) in session.execute(select(AuditEvent.data).where(
            AuditEvent.event_type == "legal.preservation"))]
        assert {t["change"] for t in types} == {"extended", "accessed", "purged"}


@pytest.mark.postgres
def test_order_to_report_on_postgres(pg_app: Warding) -> None:
    with pg_app.transaction() as session:
        create_user(session, "legal", "legal", PASSWORD, actor="test")
        create_user(session, "api", "api", PASSWORD, actor="test")
    keys = {r: api_key(pg_app, r) for r in ("legal", "api")}
    with TestClient(create_app(pg_app)) as client:
        _posts(client, keys, 3)
        r = client.post("/api/legal/removal-orders", headers=keys["legal"], json=_order(
            "RO-PG", ["https://social.example/posts/1", "https://social.example/posts/2"]))
        assert r.status_code == 201, r.text
        oid = r.json()["id"]
        r = client.post(f"/api/legal/removal-orders/{oid}/comply", headers=keys["legal"],
                        json={"measure": "removed"})
        assert r.status_code == 200 and r.json()["within_deadline"] is True
        report = client.get(f"/api/legal/reports/tco?year={utcnow().year}",
                            headers=keys["legal"]).json()
        assert report["removed_after_orders"] == 2
        assert len(client.get("/api/legal/preservations",
                              headers=keys["legal"]).json()["preservations"]) == 2


def test_order_statements_go_to_the_transparency_database_as_disabled(
        app_factory: Callable[..., Warding]) -> None:
    w = app_factory(semantic_matching=False,
                    action_sinks=["log", "notify_uploader", "transparency_db"],
                    action_worker_interval=0)
    with w.transaction() as session:
        for role in ("legal", "api"):
            create_user(session, role, role, PASSWORD, actor="test")
    keys = {r: api_key(w, r) for r in ("legal", "api")}
    with TestClient(create_app(w)) as client:
        _posts(client, keys, 2)
        r = client.post("/api/legal/removal-orders", headers=keys["legal"],
                        json=_order("RO-T", ["https://social.example/posts/1"]))
        client.post(f"/api/legal/removal-orders/{r.json()['id']}/comply",
                    headers=keys["legal"], json={"measure": "disabled"})
        rows = client.get("/api/legal/transparency-db/statements",
                          headers=keys["legal"]).json()
    statement = rows["statements"][0]["statement"]
    assert statement["decision_visibility"] == ["DECISION_VISIBILITY_CONTENT_DISABLED"]
    assert statement["source_type"] == "SOURCE_TYPE_OTHER_NOTIFICATION"
    assert statement["decision_ground"] == "DECISION_GROUND_ILLEGAL_CONTENT"
