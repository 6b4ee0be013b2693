"""The incident page as a reviewer uses it, in a real browser: copies found at upload and
afterwards over time, the time to protect, a cluster's sample of near copies reviewed, then
one decision for the whole cluster. ``make screenshots`` keeps the picture used in
docs/incidents.md. Generated neutral images only."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from tests import review_scenario as rs
from tests.browser import serve
from tests.test_browser import Shots, browser, login  # noqa: F401  (fixture)
from tests.test_incidents import _ingest, _pdq
from warding.accounts.service import create_user
from warding.app import Warding
from warding.banks.records import EntryRecord
from warding.banks.service import add_records, create_bank, get_bank
from warding.db.models import BankEntry, Case, Decision, utcnow
from warding.demo import content, surge
from warding.incidents.runs import run_retro
from warding.incidents.service import create_incident

pytestmark = pytest.mark.browser


@pytest.fixture
def incident_live(app_factory: Callable[..., Warding]) -> Iterator[tuple[Warding, str, int]]:
    w = app_factory(semantic_matching=False, retro_poll_seconds=0)
    with w.transaction() as session:
        create_user(session, "reviewer", "reviewer", rs.PASSWORD, actor="test")
        create_bank(session, "incident-hashes", actor="test")
    now = utcnow()
    t0 = now - timedelta(hours=3)
    known = content.make_image(11)
    first = None
    for k in range(24):
        data = content.png_bytes(known) if k % 4 == 0 else surge.variant(known, k)
        item = _ingest(w, f"copy{k}", data, t0 + timedelta(minutes=5 * k))
        first = first or item
    for k in range(15):
        _ingest(w, f"other{k}", content.png_bytes(content.make_image(300 + k, (96, 96))),
                t0 + timedelta(minutes=7 * k))
    received = t0 + timedelta(hours=2, minutes=10)
    with w.transaction() as session:
        incident = create_incident(session, name="placeholder-attack-video", started_at=t0,
                                   banks=["incident-hashes"], actor="test",
                                   description="Generated placeholder pictures standing in "
                                               "for an incident's material.")
        incident_id = incident.id
        summary = add_records(session, get_bank(session, "incident-hashes"),
                              [EntryRecord(signals=[("pdq", _pdq(w, first or 0))], labels={},
                                           provenance="hash-sharing programme", ref="h")],
                              w.signal_types, actor="test", how="import")
        (entry_id,) = summary.entry_ids
        session.execute(update(BankEntry).where(BankEntry.id == entry_id)
                        .values(created_at=received))
        bank_id = get_bank(session, "incident-hashes").id
    run_retro(w, bank_id, trigger="feed", since=t0 - timedelta(days=1), first=entry_id,
              last=entry_id, clock=lambda: received + timedelta(seconds=4),
              live_at=received + timedelta(seconds=1))
    for k in range(6):  # after the hash: blocked at upload
        _ingest(w, f"later{k}", surge.reencoded(known, 55 + k),
                received + timedelta(minutes=3 + 6 * k))
    with serve(w) as base:
        yield w, base, incident_id


def test_reviewer_decides_a_cluster(browser: Any, incident_live: Any) -> None:  # noqa: F811
    w, base, incident_id = incident_live
    shots = Shots()
    page = login(browser, base, "reviewer")
    page.click("text=Incidents")
    page.wait_for_url(base + "/incidents")
    page.click("text=placeholder-attack-video")
    page.wait_for_url(f"{base}/incidents/{incident_id}")
    assert page.locator("#incident-chart svg").is_visible()
    counts = page.locator("#incident-counts").text_content() or ""
    assert "30" in counts  # 24 found afterwards + 6 blocked at upload
    cluster = page.locator(".cluster").first
    assert cluster.locator(".cluster-sample figure").count() == 5
    shots.take(page, "incident")
    cluster.locator("input[name=reviewed]").check()
    cluster.locator("input[name=violating][value=yes]").check()
    cluster.locator("button[type=submit]").click()
    page.wait_for_url(f"{base}/incidents/{incident_id}?max_distance=31")
    assert page.is_visible("text=Decided 30 cases of the cluster.")
    with w.transaction() as session:
        assert session.execute(select(func.count(Decision.id))).scalar() == 30
        assert session.execute(select(func.count(Case.id)).where(Case.status == "open")
                               ).scalar() == 0
    shots.take(page, "incident-decided")
