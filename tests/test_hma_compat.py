"""The HMA drop-in (issue 13), Warding's side: HMA-compatible mode (no key from trusted
networks), HMA's roles, the guarded URL fetcher, bank ratios, disable-until times, and the
OpenAPI entries. HMA's own tests run in tests/hma."""

from __future__ import annotations

import functools
import http.server
import io
import random
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from tests.test_web import PASSWORD
from warding.accounts.service import create_api_key, create_user
from warding.app import Warding
from warding.banks.curation import enable_due_entries
from warding.config import Settings
from warding.media.fetch import FetchError, UrlFetcher, address_allowed
from warding.web.factory import create_app

LOOPBACK = ("127.0.0.1", 50000)
PDQ = "f" * 64


def _jpeg() -> bytes:
    buf = io.BytesIO()
    img = Image.new("RGB", (64, 64))
    for x in range(64):
        for y in range(64):
            img.putpixel((x, y), (255, 255, 255) if (x // 8 + y // 4) % 2 else (20, 40, 60))
    img.save(buf, format="JPEG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def media_server() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "a.jpg").write_bytes(_jpeg())
        (folder / "page.html").write_text("<p>placeholder</p>")
        (folder / "big.jpg").write_bytes(_jpeg() + b"\0" * 50_000)

        class Quiet(http.server.SimpleHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()
            server.server_close()


def _settings(tmp_path: Path, **kw: Any) -> Settings:
    return Settings(database_url="sqlite://", data_dir=tmp_path, **kw)


# -- the URL fetcher's guards ------------------------------------------------------------
def test_fetching_is_off_by_default(tmp_path: Path, media_server: str) -> None:
    with pytest.raises(FetchError) as off:
        UrlFetcher(_settings(tmp_path)).fetch(f"{media_server}/a.jpg")
    assert off.value.status == 403 and "WARDING_URL_FETCH" in str(off.value)


@pytest.mark.parametrize("url", ["ftp://example.org/a.jpg", "file:///etc/hostname",
                                 "javascript:alert(1)", "http://user:pw@example.org/a.jpg",
                                 "http:///nohost", "http://[::1/"])
def test_fetch_refuses_bad_urls(tmp_path: Path, url: str) -> None:
    fetcher = UrlFetcher(_settings(tmp_path, url_fetch=True))
    with pytest.raises(FetchError) as bad:
        fetcher.fetch(url)
    assert bad.value.status == 400


def test_fetch_refuses_private_addresses(tmp_path: Path, media_server: str) -> None:
    fetcher = UrlFetcher(_settings(tmp_path, url_fetch=True))
    with pytest.raises(FetchError) as loop:
        fetcher.fetch(f"{media_server}/a.jpg")
    assert loop.value.status == 403 and "WARDING_URL_FETCH_ALLOW_PRIVATE" in str(loop.value)
    for address in ("10.1.2.3", "192.168.0.1", "169.254.169.254", "::1", "fd00::1",
                    "::ffff:127.0.0.1", "100.64.0.1", "0.0.0.0", "224.0.0.1"):
        assert not address_allowed(address, False), address
    assert address_allowed("93.184.216.34", False)
    assert address_allowed("10.1.2.3", True) and not address_allowed("224.0.0.1", True)
    # a name resolving to several addresses: one private one is enough to refuse
    mixed = UrlFetcher(_settings(tmp_path, url_fetch=True),
                       resolver=lambda host, port: ["93.184.216.34", "10.0.0.7"])
    with pytest.raises(FetchError) as some:
        mixed.fetch("http://media.example/a.jpg")
    assert some.value.status == 403 and "10.0.0.7" in str(some.value)


def test_fetch_allowed_loopback_checks_type_and_size(tmp_path: Path, media_server: str
                                                     ) -> None:
    settings = _settings(tmp_path, url_fetch=True, url_fetch_allow_private=True,
                         url_fetch_max_bytes=20_000)
    fetcher = UrlFetcher(settings)
    got = fetcher.fetch(f"{media_server}/a.jpg")
    assert got.data == _jpeg() and got.content_type == "image/jpeg"
    with pytest.raises(FetchError) as html:
        fetcher.fetch(f"{media_server}/page.html")
    assert html.value.status == 415 and "text/html" in str(html.value)
    with pytest.raises(FetchError) as big:
        fetcher.fetch(f"{media_server}/big.jpg")
    assert big.value.status == 413
    with pytest.raises(FetchError) as missing:
        fetcher.fetch(f"{media_server}/nothing.jpg")
    assert missing.value.status == 502 and "404" in str(missing.value)


def _mock(handler: Callable[[httpx.Request], httpx.Response], tmp_path: Path,
          **kw: Any) -> UrlFetcher:
    public = {"media.example": "93.184.216.34", "other.example": "93.184.216.35"}
    return UrlFetcher(_settings(tmp_path, url_fetch=True, **kw),
                      resolver=lambda host, port: [public.get(host, host)],
                      transport=httpx.MockTransport(handler))


def test_fetch_pins_the_checked_address_and_rechecks_redirects(tmp_path: Path) -> None:
    seen: list[tuple[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((str(request.url), request.headers["host"]))
        if request.headers["host"] == "media.example":
            return httpx.Response(302, headers={"Location": "http://other.example/b.jpg"})
        if request.headers["host"] == "other.example":
            return httpx.Response(200, content=b"\xff\xd8jpeg",
                                  headers={"Content-Type": "image/jpeg"})
        raise AssertionError("no other host")

    got = _mock(handler, tmp_path).fetch("http://media.example/a.jpg")
    assert got.url == "http://other.example/b.jpg" and got.data == b"\xff\xd8jpeg"
    assert seen == [("http://93.184.216.34/a.jpg", "media.example"),
                    ("http://93.184.216.35/b.jpg", "other.example")]

    def to_metadata(request: httpx.Request) -> httpx.Response:
        return httpx.Response(301, headers={"Location": "http://169.254.169.254/latest"})

    with pytest.raises(FetchError) as inner:
        _mock(to_metadata, tmp_path).fetch("http://media.example/a.jpg")
    assert inner.value.status == 403 and "169.254.169.254" in str(inner.value)

    def loop(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"Location": "/again"})

    with pytest.raises(FetchError) as many:
        _mock(loop, tmp_path).fetch("http://media.example/a.jpg")
    assert many.value.status == 502 and "redirects" in str(many.value)


def test_fetch_time_limit(tmp_path: Path) -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("too slow", request=request)

    with pytest.raises(FetchError) as timeout:
        _mock(slow, tmp_path, url_fetch_timeout_seconds=0.5).fetch("http://media.example/a")
    assert timeout.value.status == 504


# -- HMA-compatible mode -----------------------------------------------------------------
def _client(w: Warding, address: tuple[str, int] = LOOPBACK) -> TestClient:
    return TestClient(create_app(w), client=address)


def test_keys_are_required_unless_hma_compatible(app_factory: Callable[..., Warding]) -> None:
    plain = app_factory()
    with _client(plain) as client:
        r = client.get("/c/banks")
        assert r.status_code == 401 and "message" in r.json()
        assert client.get("/status").json()["status"] in ("ok", "index-loading")

    open_ = app_factory(hma_compatible=True)
    with _client(open_) as client:
        assert client.post("/c/banks", json={"name": "OPEN"}).status_code == 201
        assert client.get("/m/lookup", params={"signal_type": "pdq",
                                               "signal": PDQ}).status_code == 200
        assert client.get("/api/banks").status_code == 401  # only HMA's paths
        with open_.transaction() as s:
            from sqlalchemy import select

            from warding.db.models import AuditEvent

            actors = set(s.execute(select(AuditEvent.actor)).scalars())
        assert "hma@127.0.0.1" in actors
        # a wrong key is refused even from a trusted address
        assert client.get("/c/banks", headers={"Authorization": "Bearer nope"}
                          ).status_code == 401
        # a browser on a trusted machine is not trusted without a key (cross-site requests)
        for browser in ({"Origin": "https://elsewhere.example"}, {"Sec-Fetch-Site": "same-origin"}):
            r = client.post("/c/banks", json={"name": "CSRF"}, headers=browser)
            assert r.status_code == 401, browser
    with _client(open_, ("203.0.113.9", 40000)) as outside:
        assert outside.get("/c/banks").status_code == 401
    lan = app_factory(hma_compatible=True, hma_trusted_networks=["10.0.0.0/8"])
    with _client(lan, ("10.9.9.9", 40000)) as inside:
        assert inside.get("/c/banks").status_code == 200
    with _client(lan) as loopback:
        assert loopback.get("/c/banks").status_code == 401


def test_keys_still_work_in_hma_mode_and_roles_apply(app_factory: Callable[..., Warding]
                                                     ) -> None:
    w = app_factory(hma_compatible=True, hma_roles=["matcher"])
    with w.transaction() as s:
        create_user(s, "viewer", "analyst", PASSWORD, actor="test")
        key = create_api_key(s, "viewer", actor="test")
    with _client(w, ("203.0.113.9", 40000)) as client:
        auth = {"Authorization": f"Bearer {key}"}
        assert client.get("/m/index/status", headers=auth).status_code == 200
        r = client.get("/c/banks", headers=auth)
        assert r.status_code == 403 and "WARDING_HMA_ROLES" in r.json()["message"]
        assert client.post("/h/hash", headers=auth,
                           files={"photo": ("a.jpg", _jpeg(), "image/jpeg")}).status_code == 403


def test_scoped_keys_are_honoured(app_factory: Callable[..., Warding]) -> None:
    w = app_factory()
    with w.transaction() as s:
        create_user(s, "platform", "api", PASSWORD, actor="test")
        match_only = create_api_key(s, "platform", actor="test", scopes=["match"])
    with _client(w) as client:
        auth = {"Authorization": f"Bearer {match_only}"}
        assert client.get("/m/index/status", headers=auth).status_code == 200
        for _ in range(2):  # the second answer comes from the key cache
            r = client.post("/c/banks", json={"name": "NOPE"}, headers=auth)
            assert r.status_code == 403 and "scope manage_banks" in r.json()["message"]


def test_status_speaks_hma_in_hma_mode(app_factory: Callable[..., Warding]) -> None:
    with _client(app_factory(hma_compatible=True)) as client:
        keeper = client.app.state.index_keeper  # type: ignore[attr-defined]
        for _ in range(400):
            if keeper.ready:
                break
            time.sleep(0.025)
        r = client.get("/status", headers={"Accept": "*/*"})
        assert r.status_code == 200 and r.text == "I-AM-ALIVE"
        assert client.get("/status", headers={"Accept": "application/json"}
                          ).json()["status"] == "ok"
        keeper.ready = False
        r = client.get("/status")
        assert r.status_code == 503 and r.text == "INDEX-NOT-LOADED"
        assert client.get("/status/live").text == "I-AM-ALIVE"


# -- banks: ratios, disable-until times, URLs --------------------------------------------
def _flip_below(limit: float, below: bool) -> str:
    for seed in range(1000):
        if (random.Random(str(seed)).random() < limit) == below:
            return str(seed)
    raise AssertionError("no seed")


def test_bank_ratio_is_a_coin_flip(app_factory: Callable[..., Warding]) -> None:
    with _client(app_factory(hma_compatible=True)) as client:
        client.post("/c/banks", json={"name": "HALF", "enabled_ratio": 0.5})
        client.post("/c/banks", json={"name": "OFF", "enabled": False})
        for bank in ("HALF", "OFF"):
            assert client.post(f"/c/bank/{bank}/signal", json={"pdq": PDQ}).status_code == 200
        q = {"signal_type": "pdq", "signal": PDQ}
        assert set(client.get("/m/lookup", params={**q, "seed": _flip_below(0.5, True)}
                              ).json()) == {"HALF"}
        assert client.get("/m/lookup", params={**q, "seed": _flip_below(0.5, False)}
                          ).json() == {}
        assert set(client.get("/m/lookup", params={**q, "bypass_coinflip": "true"}
                              ).json()) == {"HALF", "OFF"}
        assert len(client.get("/m/raw_lookup", params=q).json()["matches"]) == 2
        r = client.put("/c/bank/HALF", json={"enabled": True})
        assert r.json()["matching_enabled_ratio"] == 1.0


def test_disable_until_a_time(app_factory: Callable[..., Warding]) -> None:
    w = app_factory(hma_compatible=True)
    with _client(w) as client:
        client.post("/c/banks", json={"name": "B"})
        entry = client.post("/c/bank/B/signal", json={"pdq": PDQ}).json()["id"]
        q = {"signal_type": "pdq", "signal": PDQ}
        soon = int(time.time()) + 3600
        r = client.put(f"/c/bank/B/content/{entry}", json={"disable_until_ts": soon})
        assert r.status_code == 200 and r.json()["disable_until_ts"] == soon
        assert client.get("/m/lookup", params=q).json() == {}
        for bad in (-1, "soon", int(time.time()) + 6 * 365 * 86400):
            r = client.put(f"/c/bank/B/content/{entry}", json={"disable_until_ts": bad})
            assert r.status_code == 400 and r.json()["message"]
        with w.transaction() as s:
            assert enable_due_entries(s, time.time()) == 0
            assert enable_due_entries(s, soon + 1) == 1
            assert enable_due_entries(s, soon + 1) == 0
        assert "B" in client.get("/m/lookup", params=q).json()
        r = client.put(f"/c/bank/B/content/{entry}", json={"note": "x" * 256})
        assert r.status_code == 400 and "255" in r.json()["message"]
        r = client.get("/c/bank/B/content/first")
        assert r.status_code == 400 and "content_id" in r.json()["message"]


def test_url_content_needs_fetching_on(app_factory: Callable[..., Warding],
                                       media_server: str) -> None:
    with _client(app_factory(hma_compatible=True)) as client:
        client.post("/c/banks", json={"name": "B"})
        r = client.post(f"/c/bank/B/content?url={media_server}/a.jpg")
        assert r.status_code == 403 and "WARDING_URL_FETCH" in r.json()["message"]
    on = app_factory(hma_compatible=True, url_fetch=True)
    with _client(on) as client:
        client.post("/c/banks", json={"name": "B"})
        r = client.post(f"/c/bank/B/content?url={media_server}/a.jpg")
        assert r.status_code == 403 and "ALLOW_PRIVATE" in r.json()["message"]
    near = app_factory(hma_compatible=True, url_fetch=True, url_fetch_allow_private=True)
    with _client(near) as client:
        client.post("/c/banks", json={"name": "B"})
        r = client.post(f"/c/bank/B/content?url={media_server}/a.jpg",
                        json={"metadata": {"content_uri": "https://example.org/1"}})
        assert r.status_code == 200 and set(r.json()["signals"]) == {"pdq"}, r.text
        assert client.get(f"/h/hash?url={media_server}/page.html").status_code == 415
        assert client.get("/h/hash", params={"url": f"{media_server}/a.jpg"}
                          ).json() == r.json()["signals"]
        found = client.get("/m/lookup", params={"url": f"{media_server}/a.jpg"}).json()
        assert found["pdq"]["B"][0]["bank_content_id"] == r.json()["id"]


def test_compare_and_configuration(app_factory: Callable[..., Warding]) -> None:
    with _client(app_factory(hma_compatible=True)) as client:
        other = "0" + "f" * 63
        assert client.post("/m/compare", json={"pdq": [PDQ, other]}).json() == {
            "pdq": [True, {"distance": 4}]}
        assert client.post("/m/compare", json={"md5": ["a" * 32, "a" * 32]}).json() == {
            "md5": [True, {"distance": 0}]}
        for bad in (["x"], {"pdq": "x"}, {"pdq": []}, {"pdq": ["zz", "zz"]}, {"nope": [1, 2]}):
            r = client.post("/m/compare", json=bad)
            assert r.status_code == 400 and r.json()["message"], bad
        names = {t["name"] for t in client.get("/c/signal_type").json()}
        assert {"pdq", "video_md5"} <= names
        client.post("/c/banks", json={"name": "B"})
        client.post("/c/bank/B/signal", json={"pdq": PDQ})
        index = client.get("/c/signal_type/index", params={"signal_type": "pdq"}).json()
        assert index["pdq"]["db_size"] == 1 and set(index) == {"pdq"}
        assert client.get("/c/content_type").json() == [{"name": "photo", "enabled": True},
                                                        {"name": "video", "enabled": True}]
        assert "/m/compare" in client.get("/site-map").json()


def test_openapi_has_the_hma_routes(app_factory: Callable[..., Warding]) -> None:
    with _client(app_factory()) as client:
        paths = client.get("/openapi.json").json()["paths"]
        for path, method in [("/m/lookup", "get"), ("/m/raw_lookup", "get"),
                             ("/m/lookup", "post"), ("/m/compare", "post"),
                             ("/h/hash", "get"), ("/c/signal_type/index", "get"),
                             ("/c/bank/{bank_name}/content/{content_id}", "put"),
                             ("/status/live", "get")]:
            assert method in paths.get(path, {}), (path, method)
        hma = client.get("/openapi/openapi.json").json()
        assert hma["info"]["title"] == "Open Media Match API"
        assert "/api/banks" not in hma["paths"] and "/m/lookup" in hma["paths"]
