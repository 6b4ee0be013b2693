"""The statistics dashboard and its JSON API: permissions, charts without scripts or
outside assets, filters, event annotations."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.analytics_fixtures import FENCE, GARDEN, write_posts
from tests.test_web import api_key, client_for, logged_in, w  # noqa: F401 - fixtures
from warding.app import Warding
from warding.pipeline.scan import scan_paths

MEASURES = ("volume", "outlinks", "spread", "survival", "carriers")


@pytest.fixture
def seeded(w: Warding, tmp_path: Path) -> Warding:  # noqa: F811
    forum, board = write_posts(tmp_path / "posts")
    scan_paths(w, [forum], "forum", actor="test")
    scan_paths(w, [board], "board", actor="test")
    return w


def test_dashboard_pages(seeded: Warding, client_for: Callable[[], TestClient]) -> None:  # noqa: F811
    client, _ = logged_in(client_for, "analyst")
    assert client.get("/stats", follow_redirects=False).headers["location"] == "/stats/volume"
    for measure in MEASURES:
        r = client.get(f"/stats/{measure}")
        assert r.status_code == 200, (measure, r.text[:500])
        html = r.text
        assert "<svg" in html and "<title>" in html
        # No inline script or style, nothing from elsewhere; no post text on the page.
        assert not re.search(r"<script(?![^>]*\bsrc=\"/static/)", html)
        assert "style=" not in html and "<style" not in html
        assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
        assert GARDEN not in html and FENCE not in html
        assert "script-src 'self'" in r.headers["content-security-policy"]
    assert 'href="/stats"' in client.get("/stats/volume").text  # the nav link


def test_dashboard_figures_and_filters(seeded: Warding,
                                       client_for: Callable[[], TestClient]) -> None:  # noqa: F811
    client, _ = logged_in(client_for, "analyst")
    html = client.get("/stats/volume?by=week&split_by=source").text
    assert "forum · 2026-01-05: 3" in html and "board · 2026-02-02: 1" in html
    html = client.get("/stats/volume?by=week&source=board&since=2026-01-10").text
    assert "board · 2026-01-12: 1" in html and "forum ·" not in html
    assert "example.org: 2 items (28.6%)" in client.get("/stats/outlinks").text
    assert "cluster 1: 4 items, 4 accounts, 2 sources" in client.get("/stats/spread").text
    carriers = client.get("/stats/carriers?pseudonymise=true").text
    assert "alpha-01" in carriers and ">a1<" not in carriers
    surv = client.get("/stats/survival?unit=account&split_by=source&inactive_days=3"
                      "&group_end=true")
    assert surv.status_code == 200 and "Log-rank: statistic" in surv.text
    assert "censored at the end of each group" in surv.text
    bad = client.get("/stats/volume?since=yesterday")
    assert bad.status_code == 422 and "since" in bad.text
    assert client.get("/stats/nothing").status_code == 422


def test_permissions(seeded: Warding, client_for: Callable[[], TestClient]) -> None:  # noqa: F811
    reviewer, _ = logged_in(client_for, "reviewer")
    assert reviewer.get("/stats/volume").status_code == 403
    assert 'href="/stats"' not in reviewer.get("/").text
    anonymous = client_for()
    assert anonymous.get("/api/stats/volume").status_code == 401
    assert anonymous.get("/stats/volume", follow_redirects=False).status_code in (303, 307)


def test_api_matches_cli_contract(seeded: Warding,
                                  client_for: Callable[[], TestClient]) -> None:  # noqa: F811
    client = client_for()
    headers = api_key(seeded, "analyst")
    vol = client.get("/api/stats/volume?by=week", headers=headers).json()
    assert [s["key"] for s in vol["series"]] == ["forum", "board"]
    assert vol["series"][0]["points"][0] == {"period": "2026-01-05", "count": 3}
    out = client.get("/api/stats/outlinks", headers=headers).json()
    assert out["domains"][0] == {"domain": "example.org", "count": 2, "share": round(2 / 7, 6)}
    for measure in ("spread", "survival", "carriers"):
        assert client.get(f"/api/stats/{measure}", headers=headers).status_code == 200
    assert client.get("/api/stats/volume", headers=api_key(seeded, "api")).status_code == 403


def test_events_from_the_console(seeded: Warding,
                                 client_for: Callable[[], TestClient]) -> None:  # noqa: F811
    client, token = logged_in(client_for, "analyst")
    no_csrf = client.post("/stats/events", data={"day": "2026-01-12", "label": "x"})
    assert no_csrf.status_code == 403
    r = client.post("/stats/events", data={"day": "2026-01-12", "label": "Neutral event",
                                           "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    html = client.get("/stats/volume").text
    assert "2026-01-12: Neutral event" in html  # the chart's hover title
    events = client.get("/api/stats/events").json()["events"]
    assert [e["label"] for e in events] == ["Neutral event"]
    bad = client.post("/stats/events", data={"day": "soon", "label": "x", "csrf_token": token})
    assert bad.status_code == 200 and "not a date" in bad.text  # flashed on the dashboard
    r = client.post(f"/stats/events/{events[0]['id']}/remove", data={"csrf_token": token},
                    follow_redirects=False)
    assert r.status_code == 303
    assert client.get("/api/stats/events").json()["events"] == []
