"""The legal pages as a legal officer uses them, in a real browser: open removal orders with
their live countdown and the deadline banner, executing an order, Annex II to print, a
complaint decided from the list, the yearly report. ``make screenshots`` keeps the
pictures used in docs/legal.md."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.browser import serve
from tests.test_browser import Shots, browser, login  # noqa: F401  (fixture)
from tests.test_legal_scenario import TEXT, _order
from tests.test_web import PASSWORD, api_key
from warding.accounts.service import create_user
from warding.app import Warding
from warding.db.models import utcnow
from warding.web.factory import create_app

pytestmark = pytest.mark.browser


@pytest.fixture
def legal_live(app_factory: Callable[..., Warding]) -> Iterator[tuple[Warding, str, dict]]:
    w = app_factory(semantic_matching=False, action_sinks=["log", "notify_uploader"],
                    action_worker_interval=0.5, provider_name="Example Hosting",
                    provider_contact_point="legal@hosting.example", provider_member_state="IE",
                    provider_authorised_person="A. Officer")
    with w.transaction() as session:
        for role in ("legal", "api", "reviewer"):
            create_user(session, role, role, PASSWORD, actor="test")
    keys = {r: api_key(w, r) for r in ("legal", "api")}
    with TestClient(create_app(w)) as client:
        posts = [{"id": f"p{i}", "account": "acct-1", "time": "2026-03-02T03:04:05Z",
                  "text": TEXT.format(n=i), "url": f"https://social.example/posts/{i}"}
                 for i in range(6)]
        assert client.post("/api/items", json={"source": "social", "items": posts},
                           headers=keys["api"]).status_code == 200
        near = utcnow() - timedelta(minutes=52)
        ids = {}
        for ref, loc, extra in [
            ("DE-2026-0042", ["https://social.example/posts/1", "https://social.example/posts/2"],
             {"received_at": near.isoformat(), "issued_at": (near - timedelta(minutes=3))
              .isoformat()}),
            ("FR-2026-0107", ["https://social.example/posts/3"], {"cross_border": True}),
            ("NL-2026-0009", ["https://social.example/posts/4"], {}),
        ]:
            r = client.post("/api/legal/removal-orders", json=_order(ref, loc, **extra),
                            headers=keys["legal"])
            assert r.status_code == 201, r.text
            ids[ref] = r.json()["id"]
        client.post(f"/api/legal/removal-orders/{ids['NL-2026-0009']}/inability",
                    headers=keys["legal"], json={"reason": "insufficient_information",
                                                 "explanation": "The URL points to no post.",
                                                 "clarification_needed": "The post's address"})
        r = client.post(f"/api/legal/removal-orders/{ids['FR-2026-0107']}/comply",
                        json={"measure": "disabled"}, headers=keys["legal"])
        assert r.status_code == 200
        r = client.post("/api/legal/complaints", headers=keys["legal"], json={
            "location": "https://social.example/posts/3",
            "complainant": {"name": "Uploader", "email": "uploader@mail.example"},
            "grounds": "The post quoted a news report."})
        assert r.status_code == 201, r.text
        client.post("/api/legal/notices", headers=keys["api"], json={
            "explanation": "Placeholder explanation.", "bona_fide": True,
            "locations": ["https://social.example/posts/5"], "trusted_flagger": True})
    with serve(w) as base:
        yield w, base, ids


def test_legal_officer_meets_the_hour(browser: Any, legal_live: Any) -> None:  # noqa: F811
    w, base, ids = legal_live
    shots = Shots()
    page = login(browser, base, "legal")
    page.click("text=Legal")
    page.wait_for_url(base + "/legal")
    assert page.is_visible("#deadline-alert")  # 8 minutes left: due soon
    countdown = page.locator("#orders-open .countdown").first
    first = countdown.text_content()
    page.wait_for_timeout(1500)
    assert countdown.text_content() != first  # it counts down live
    assert "due-soon" in (countdown.get_attribute("class") or "")
    shots.take(page, "legal-orders")

    page.click("text=DE-2026-0042")
    page.wait_for_url(f"{base}/legal/removal-orders/{ids['DE-2026-0042']}")
    page.select_option("#comply-form select[name=measure]", "disabled")
    page.click("#comply-form button[type=submit]")
    page.wait_for_url(f"{base}/legal/removal-orders/{ids['DE-2026-0042']}")
    assert page.is_visible("text=Order executed (disabled) within the hour.")
    shots.take(page, "legal-order")
    page.click("text=Annex II")
    assert page.is_visible("text=File reference of the hosting service provider")
    assert page.is_visible("text=Example Hosting")
    shots.take(page, "legal-annex-ii")

    page.goto("/legal#complaints")
    form = page.locator("#complaints-table .complaint-form").first
    form.locator("select[name=outcome]").select_option("reinstated")
    form.locator("input[name=reason]").fill("Journalistic purpose: a quotation in a report.")
    form.locator("button[type=submit]").click()
    page.wait_for_url(base + "/legal#complaints")
    assert page.is_visible("text=decided: reinstated")

    page.goto(f"/legal/reports/tco?year={utcnow().year}")
    assert page.locator("#report-c").is_visible()
    assert "3" in page.locator("#report-c tr").nth(1).text_content()  # 2 + 1 items removed
    shots.take(page, "legal-report")
