"""The liveness connector, against a local HTTP server on 127.0.0.1 only."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from tests.cli_helpers import CLI
from tests.local_http import serving
from warding.analytics.liveness import (
    Politeness,
    Target,
    check_targets,
    classify_response,
)

HITS: list[tuple[str, float]] = []


class Handler(BaseHTTPRequestHandler):
    """/ok → 200, /gone → 404, /removed → 410, /legal → 451, /suspended → redirect to a
    removal page, /error → 503, /slow → sleeps past the client's timeout."""

    def do_GET(self) -> None:
        HITS.append((self.path, time.monotonic()))
        path = self.path.split("?")[0]
        if path == "/suspended":
            self.send_response(302)
            self.send_header("Location", "/account/suspended")
            self.end_headers()
            return
        if path == "/slow":
            time.sleep(1.5)
        code = {"/ok": 200, "/account/suspended": 200, "/gone": 404, "/removed": 410,
                "/legal": 451, "/error": 503, "/slow": 200}.get(path, 200)
        body = b"placeholder page"
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    with serving(Handler) as port:
        HITS.clear()
        yield f"http://127.0.0.1:{port}"


def _targets(base: str, paths: list[str]) -> list[Target]:
    return [Target("item", f"{base}{p}", "local", "acct", i) for i, p in enumerate(paths)]


def test_statuses(server: str) -> None:
    import asyncio

    p = Politeness(concurrency=4, timeout=1.0, rate=10, allow_private=True)
    paths = ["/ok", "/gone", "/removed", "/legal", "/suspended", "/error", "/slow"]
    out = asyncio.run(check_targets(_targets(server, paths), p))
    got = {o.target.url.rsplit("/", 1)[1]: (o.status, o.http_status) for o in out}
    assert got == {"ok": ("online", 200), "gone": ("gone", 404), "removed": ("gone", 410),
                   "legal": ("gone", 451), "suspended": ("gone", 200), "error": ("error", 503),
                   "slow": ("error", None)}
    assert "timed out" in next(o.detail for o in out if o.target.url.endswith("/slow"))


def test_private_addresses_refused_by_default(server: str) -> None:
    import asyncio

    out = asyncio.run(check_targets(_targets(server, ["/ok"]), Politeness(timeout=1.0)))
    assert out[0].status == "error" and "private" in out[0].detail
    assert HITS == []  # nothing was contacted
    bad = asyncio.run(check_targets([Target("item", "ftp://127.0.0.1/x", "s")],
                                    Politeness(allow_private=True)))
    assert bad[0].status == "error" and "http" in bad[0].detail


def test_rate_per_host(server: str) -> None:
    import asyncio

    p = Politeness(concurrency=8, timeout=2.0, rate=10, allow_private=True)
    asyncio.run(check_targets(_targets(server, ["/ok"] * 4), p))
    times = sorted(t for _, t in HITS)
    assert len(times) == 4
    # Four requests to one host at 10 per second take at least 0.3 s from first to last.
    assert times[-1] - times[0] >= 0.25


def test_politeness_limits() -> None:
    from warding.errors import InvalidInput

    for bad in (Politeness(concurrency=0), Politeness(timeout=0), Politeness(rate=100)):
        with pytest.raises(InvalidInput):
            bad.validate()


def test_classify_response() -> None:
    assert classify_response(200, "https://x.example.org/a") == ("online", "HTTP 200")
    assert classify_response(301, "https://x.example.org/a")[0] == "error"
    assert classify_response(200, "https://x.example.org/account/suspended")[0] == "gone"


def test_cli_records_observations_and_survival_uses_them(server: str, tmp_path: Path) -> None:
    posts = tmp_path / "posts.jsonl"
    rows = [("l1", "/ok", "u1"), ("l2", "/gone", "u1"), ("l3", "/error", "u2")]
    posts.write_text("".join(json.dumps({
        "id": i, "account": acct, "time": "2026-01-05T09:00:00Z", "url": f"{server}{path}",
        "text": "Neutral placeholder words for a liveness test"}) + "\n"
        for i, path, acct in rows), encoding="utf-8")
    cli = CLI(tmp_path)
    cli.run("init")
    cli.json("scan", str(posts), "--source", "local", "--json")
    dry = cli.json("stats", "liveness", "--dry-run", "--json")
    assert len(dry["targets"]) == 3 and HITS == []  # a dry run contacts nothing
    refused = cli.json("stats", "liveness", "--json")
    assert refused == {"checked": 3, "online": 0, "gone": 0, "error": 3} and HITS == []
    out = cli.json("stats", "liveness", "--allow-private", "--rate", "10", "--recheck-hours",
                   "0", "--json")
    assert out == {"checked": 3, "online": 1, "gone": 1, "error": 1}
    # Already gone: not checked again.
    again = cli.json("stats", "liveness", "--allow-private", "--recheck-hours", "0", "--json")
    assert again["checked"] == 2
    # Checked within the last 24 hours: skipped.
    assert cli.json("stats", "liveness", "--allow-private", "--json")["checked"] == 0
    surv = cli.json("stats", "survival", "--json")
    assert surv["groups"][0]["events"] == 1 and surv["groups"][0]["n"] == 3
    accounts = cli.json("stats", "liveness", "--accounts", "--url-template",
                        f"{server}/gone?u={{account}}", "--allow-private", "--json")
    assert accounts == {"checked": 2, "online": 0, "gone": 2, "error": 0}
    acc = cli.json("stats", "survival", "--unit", "account", "--json")
    assert acc["groups"][0]["events"] == 2
    assert cli.json("audit", "verify", "--json")["ok"] is True
    cli.run("stats", "liveness", "--accounts", code=1)
