"""A whole incident (issue 20): items scanned, hashes imported later, every earlier copy found
with no false match, one cluster decision carried out on all of them, and the time-to-protect
figures checked against the test's own clock. Generated neutral images only."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from tests.test_action_sinks import SECRET
from tests.cli_helpers import CLI
from tests.test_web import PASSWORD, api_key, login
from warding.accounts.service import create_user
from warding.app import Warding
from warding.banks.records import EntryRecord
from warding.banks.service import add_records, create_bank, get_bank
from warding.db.models import AuditEvent, BankEntry, Case, ContentItem, Decision, Signal
from warding.db.models_incidents import RetroRun
from warding.db.models_intake import WebhookEvent
from warding.demo import content, surge
from warding.incidents.protect import percentile
from warding.incidents.runs import run_retro
from warding.ingest.base import MediaBlob, RawItem
from warding.pipeline.bulk import BulkPipeline
from warding.web.factory import create_app

T0 = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)  # the test's clock: the attack
KNOWN_SEED = 11


def _ingest(w: Warding, ext: str, data: bytes, at: datetime) -> int:
    (o,) = BulkPipeline(w, "test").process("platform", [RawItem(
        source="platform", external_id=ext, input_ref=ext,
        media=[MediaBlob("p.png", data, "image/png")])])
    assert o.item_id is not None
    with w.transaction() as session:
        session.execute(update(ContentItem).where(ContentItem.id == o.item_id)
                        .values(ingested_at=at))
    return o.item_id


def _pdq(w: Warding, item_id: int) -> str:
    with w.transaction() as session:
        return str(session.execute(select(Signal.value).where(
            Signal.item_id == item_id, Signal.signal_type == "pdq")).scalar_one())


def test_whole_incident(app_factory: Callable[..., Warding]) -> None:
    w = app_factory(semantic_matching=False, event_webhook_url="http://127.0.0.1:9/events", webhook_secret=SECRET,
                    incident_notify_step=5)
    with w.transaction() as session:
        create_user(session, "lead", "admin", PASSWORD, actor="test")
        create_user(session, "rev", "reviewer", PASSWORD, actor="test")
        create_bank(session, "incident-hashes", actor="test")
    client = TestClient(create_app(w))
    admin, reviewer = api_key(w, "lead"), api_key(w, "rev")

    known = content.make_image(KNOWN_SEED)
    uploads: dict[int, datetime] = {}
    exact = []
    near = []
    # before the hashes arrive: 3 exact copies, 6 near copies and 25 unrelated pictures
    for k in range(3):
        at = T0 + timedelta(minutes=5 + k)
        exact.append(_ingest(w, f"exact{k}", content.png_bytes(known), at))
        uploads[exact[-1]] = at
    for k in range(6):
        at = T0 + timedelta(minutes=10 + k)
        near.append(_ingest(w, f"near{k}", surge.variant(known, k + 1 if k % 3 else k + 3), at))
        uploads[near[-1]] = at
    others = [_ingest(w, f"other{k}", content.png_bytes(content.make_image(500 + k, (96, 96))),
                      T0 + timedelta(minutes=20, seconds=k)) for k in range(25)]
    # an old copy, uploaded long before the incident, is not one of its copies
    old = _ingest(w, "old", content.png_bytes(known), T0 - timedelta(days=3))
    with w.transaction() as session:
        assert session.execute(select(func.count(Case.id))).scalar() == 0

    r = client.post("/api/incidents", headers=admin, json={
        "name": "placeholder-incident", "started_at": T0.isoformat(),
        "banks": ["incident-hashes"], "description": "generated test images"})
    assert r.status_code == 201, r.text
    incident_id = r.json()["id"]
    assert client.post("/api/incidents", headers=admin, json={
        "name": "x", "started_at": T0.isoformat(), "banks": ["nope"]}).status_code == 422
    assert client.post("/api/incidents", headers=reviewer, json={
        "name": "y", "started_at": T0.isoformat(), "banks": ["incident-hashes"]}).status_code == 403

    # the hash arrives at T0 + 1 h (a hash-sharing programme's incident protocol)
    received = T0 + timedelta(hours=1)
    with w.transaction() as session:
        summary = add_records(session, get_bank(session, "incident-hashes"),
                              [EntryRecord(signals=[("pdq", _pdq(w, exact[0]))],
                                           labels={"category": "perpetrator_content"},
                                           provenance="hash-sharing programme", ref="h1")],
                              w.signal_types, actor="test", how="import")
        (entry_id,) = summary.entry_ids
        session.execute(update(BankEntry).where(BankEntry.id == entry_id)
                        .values(created_at=received))
    live_at = received + timedelta(seconds=2)
    done_at = received + timedelta(seconds=9)
    with w.transaction() as session:
        bank_id = get_bank(session, "incident-hashes").id
    result = run_retro(w, bank_id, trigger="test", since=T0 - timedelta(days=30),
                       first=entry_id, last=entry_id, clock=lambda: done_at, live_at=live_at)
    # every earlier copy found (the old one too: it is in the 30-day window), no false match
    assert result.matches == 10 and result.cases_opened == 10
    with w.transaction() as session:
        cased = set(session.execute(select(Case.item_id)).scalars())
        assert cased == set(exact) | set(near) | {old} and not cased & set(others)
        for case in session.execute(select(Case)).scalars():
            assert case.reasons[0]["retroactive"] is True
    # after the hash: a copy is blocked at upload (a live match, not retroactive)
    live_item = _ingest(w, "live", surge.reencoded(known, 70), received + timedelta(minutes=1))
    uploads[live_item] = received + timedelta(minutes=1)

    st = client.get(f"/api/incidents/{incident_id}/stats", headers=reviewer).json()
    assert st["copies"] == 10 and st["found_afterwards"] == 9 and st["blocked_at_upload"] == 1
    assert st["open"] == 10 and st["removed"] == 0
    assert st["hash_to_live_seconds"] == 2.0
    assert st["hash_to_all_earlier_found_seconds"] == 9.0
    # its open cases were raised to the incident's priority; the webhook step was crossed
    from warding.incidents.notify import check_counts

    check_counts(w)
    with w.transaction() as session:
        sev = set(session.execute(select(Case.severity).join(
            ContentItem, ContentItem.id == Case.item_id).where(
            ContentItem.ingested_at >= T0)).scalars())
        assert min(sev) >= 90
        events = session.execute(select(WebhookEvent).where(
            WebhookEvent.event_type == "incident.count")).scalars().all()
        # 9 found by the retroactive run crossed 5; the copy blocked at upload made it 10
        assert [e.payload["crossed"] for e in events] == [5, 10]
        assert events[-1].payload["count"] == 10

    # clusters: one entry, its exact and near copies; a sample of near copies comes first
    cl = client.get(f"/api/incidents/{incident_id}/clusters", headers=reviewer,
                    params={"max_distance": 31}).json()["clusters"]
    (cluster,) = cl
    assert cluster["cases"] == 10 and cluster["near"] >= 5
    sample = [s["case_id"] for s in cluster["sample"]]
    assert len(sample) == 5 and all(s["distance"] > 0 for s in cluster["sample"])
    url = f"/api/incidents/{incident_id}/clusters/{entry_id}/decision"
    body: dict[str, Any] = {"violating": True, "reason": "copy of the incident's material",
                            "category": "perpetrator_content", "max_distance": 31}
    refused = client.post(url, headers=reviewer, json={**body, "sample_seen": []})
    assert refused.status_code == 422 and "sample" in refused.json()["detail"]
    r = client.post(url, headers=reviewer, json={**body, "sample_seen": sample})
    assert r.status_code == 201, r.text
    out = r.json()
    assert len(out["decided"]) == 10 and out["skipped"] == []
    # one reviewer action decided the whole cluster; each case has its own decision and audit
    decided_at = received + timedelta(minutes=30)
    with w.transaction() as session:
        session.execute(update(Decision).values(created_at=decided_at))
        assert session.execute(select(func.count(Decision.id))).scalar() == 10
        # only the old copy, uploaded before the incident, is left open (not one of its copies)
        left = session.execute(select(ContentItem.external_id).join(
            Case, Case.item_id == ContentItem.id).where(Case.status == "open")).scalars().all()
        assert left == ["old"]
        per_case = session.execute(select(func.count(AuditEvent.id)).where(
            AuditEvent.event_type == "case.decided")).scalar()
        assert per_case == 10
        assert session.execute(select(func.count(AuditEvent.id)).where(
            AuditEvent.event_type == "incident.cluster_decided")).scalar() == 1
        assert session.execute(select(RetroRun.status)).scalars().all() == ["done"]

    st = client.get(f"/api/incidents/{incident_id}/stats", headers=reviewer).json()
    assert st["removed"] == 10 and st["open"] == 0 and st["decided"] == 10
    waits = [(decided_at - uploads[i]).total_seconds() for i in uploads]
    assert st["upload_to_removal_seconds"] == {
        "count": 10, "median": percentile(waits, 50), "p90": percentile(waits, 90),
        "max": max(waits)}
    assert st["upload_to_removal_seconds"]["max"] == (decided_at - T0 - timedelta(minutes=5)
                                                      ).total_seconds()
    assert st["banks"]["incident-hashes"]["found_afterwards"] == 9

    # the console page shows it, with its chart
    login(client, "rev")
    page = client.get(f"/incidents/{incident_id}")
    assert page.status_code == 200
    assert "placeholder-incident" in page.text and "<svg" in page.text
    assert "Time to protect" in page.text
    assert client.get("/incidents").status_code == 200
    client.close()


def test_percentile_is_nearest_rank() -> None:
    assert percentile([], 50) is None
    assert percentile([5.0], 90) == 5.0
    assert percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 50) == 5
    assert percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90) == 9
    assert percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 91) == 10


def test_stats_incident_cli_and_report(tmp_path: Any) -> None:
    cli = CLI(tmp_path)
    cli.run("init")
    cli.run("bank", "create", "b1")
    out = cli.json("incident", "create", "inc1", "--bank", "b1", "--started-at",
                   "2026-03-15T12:00:00Z", "--json")
    assert out["banks"] == ["b1"]
    st = cli.json("stats", "incident", "inc1", "--json")
    assert st["copies"] == 0 and st["upload_to_removal_seconds"]["median"] is None
    assert "copies 0" in cli.run("stats", "incident", "inc1").stdout
    missing = cli.run("stats", "incident", "nope", code=None)
    assert missing.exit_code != 0 and "nope" in missing.stderr
    dup = cli.run("incident", "create", "inc1", "--bank", "b1", code=None)
    assert dup.exit_code != 0 and "exists" in dup.stderr
    assert "inc1" in cli.run("incident", "list").stdout
    report = tmp_path / "report.md"
    cli.run("stats", "report", "--out", str(report))
    assert "## Incidents: time to protect" in report.read_text()
    assert "| inc1 |" in report.read_text()
