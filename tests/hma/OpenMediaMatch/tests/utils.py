"""Warding's ``OpenMediaMatch.tests.utils``: the fixtures and helpers HMA's tests import.

- ``image_server``: a local HTTP server of two generated checkerboard JPEGs (as HMA's), with
  their PDQ hashes (threatexchange's hasher) in ``IMAGE_URL_TO_PDQ``.
- ``app``: a fresh Warding app in HMA-compatible mode (no key from the loopback), with URL
  fetching on and allowed to reach the loopback (the image server). Its ``config`` maps
  HMA's ``ROLE_*`` flags onto ``WARDING_HMA_ROLES``; ``test_client()`` gives ``client``.
- ``client``: the Flask test client's interface, over HTTP to that app.

Three of HMA's tests bank ``https://github.com/…/aaa-orig.jpg?raw=true``. Tests never go
to the Internet: the app's URL fetcher is given a resolver and transport that answer that
one host with a generated image; every other URL goes through the real guarded fetcher.
"""

from __future__ import annotations

import functools
import http.server
import io
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from OpenMediaMatch import persistence
from OpenMediaMatch.blueprints import matching
from PIL import Image
from starlette.testclient import TestClient
from threatexchange.signal_type.pdq.signal import PdqSignal

from tests.conftest import make_app
from tests.hma.flask_like import FlaskLikeClient
from warding.app import Warding
from warding.media.fetch import UrlFetcher, resolve
from warding.web.factory import create_app

IMAGE_URL_TO_PDQ: dict[str, str] = {}
OFFLINE_HOSTS = frozenset({"github.com"})  # answered locally: tests stay offline
ROLES = {"ROLE_HASHER": "hasher", "ROLE_MATCHER": "matcher", "ROLE_CURATOR": "curator"}
CLIENT_ADDRESS = ("127.0.0.1", 50000)  # the loopback: trusted in HMA-compatible mode


def checkerboard(cell: int) -> Image.Image:
    img = Image.new("RGB", (128, 128))
    for x in range(128):
        for y in range(128):
            img.putpixel((x, y), (255, 255, 255) if (x // cell + y // cell) % 2 else (0, 0, 0))
    return img


@pytest.fixture(scope="session", autouse=True)
def image_server() -> Iterator[str]:
    folder = Path(tempfile.mkdtemp())
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    try:
        checkerboard(8).save(folder / "image1.jpg", format="JPEG")
        checkerboard(16).save(folder / "image2.jpg", format="JPEG")
        thread.start()
        base = f"http://127.0.0.1:{server.server_address[1]}"
        for name in ("image1.jpg", "image2.jpg"):
            IMAGE_URL_TO_PDQ[f"{base}/{name}"] = PdqSignal.hash_from_file(folder / name)
        yield base
    finally:
        server.shutdown()
        server.server_close()
        shutil.rmtree(folder)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class _OfflineHosts(httpx.BaseTransport):
    """Answers OFFLINE_HOSTS with a generated JPEG; everything else goes to the network."""

    def __init__(self) -> None:
        self._real = httpx.HTTPTransport()
        buf = io.BytesIO()
        checkerboard(4).save(buf, format="JPEG")
        self._image = buf.getvalue()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.headers.get("host") in OFFLINE_HOSTS:
            return httpx.Response(200, content=self._image,
                                  headers={"Content-Type": "image/jpeg"})
        return self._real.handle_request(request)

    def close(self) -> None:
        self._real.close()


def _resolver(host: str, port: int) -> list[str]:
    return ["127.0.0.1"] if host in OFFLINE_HOSTS else resolve(host, port)


class HmaConfig(dict[str, Any]):
    """HMA's ``app.config``: its ROLE_* flags set WARDING_HMA_ROLES."""

    def __init__(self, w: Warding) -> None:
        super().__init__({flag: role in w.settings.hma_roles for flag, role in ROLES.items()})
        self.w = w

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key, value)
        if key in ROLES:
            roles = [r for flag, r in ROLES.items() if self.get(flag)]
            self.w.settings.hma_roles = roles  # type: ignore[assignment]


class CacheKeeper:
    """Warding's index keeper as /status sees it, through HMA's index cache (see
    ``OpenMediaMatch.blueprints.matching``)."""

    def __init__(self, real: Any) -> None:
        self.real = real

    def status(self) -> dict[str, Any]:
        caches = matching._get_index_cache()
        if not caches:
            return dict(self.real.status())
        if not all(c.is_ready for c in caches.values()):
            return {"state": "loading", "refreshed_seconds_ago": None}
        if any(c.is_stale for c in caches.values()):
            return {"state": "stale", "refreshed_seconds_ago": None}
        return {"state": "ready", "refreshed_seconds_ago": 0.0}


class HmaApp:
    def __init__(self, w: Warding, client: TestClient) -> None:
        self.warding = w
        self.config = HmaConfig(w)
        self._client = client

    def test_client(self) -> FlaskLikeClient:
        return FlaskLikeClient(self._client, self)


_running: list[Any] = []


def wait_until_ready(timeout: float = 30.0) -> None:
    """Until the server's index keeper has loaded the index and is current."""
    keeper = _running[-1]
    seen = keeper.last_ok
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if keeper.ready and keeper.last_ok > seen:
            return
        time.sleep(0.02)
    raise AssertionError(f"the index keeper is not ready: {keeper.status()}")


@pytest.fixture()
def app(tmp_path: Path) -> Iterator[HmaApp]:
    w = make_app(tmp_path, hma_compatible=True, url_fetch=True, url_fetch_allow_private=True,
                 action_worker_interval=0)
    web = create_app(w)
    web.state.url_fetcher = UrlFetcher(w.settings, resolver=_resolver,
                                       transport=_OfflineHosts())
    try:
        with TestClient(web, client=CLIENT_ADDRESS) as client:
            keeper = web.state.index_keeper
            _running.append(keeper)
            wait_until_ready()
            web.state.index_keeper = CacheKeeper(keeper)
            persistence.set_current(persistence.WardingStorage(w))
            try:
                yield HmaApp(w, client)
            finally:
                persistence.set_current(None)
                _running.pop()
    finally:
        w.close()


@pytest.fixture()
def client(app: HmaApp) -> FlaskLikeClient:
    return app.test_client()


def create_bank(client: FlaskLikeClient, bank_name: str) -> None:
    response = client.post("/c/banks", json={"name": bank_name})
    assert response.status_code == 201, response.data
    assert response.json == {"matching_enabled_ratio": 1.0, "name": bank_name}


def add_hash_to_bank(client: FlaskLikeClient, bank_name: str, image_url: str,
                     content_id: int = 1) -> None:
    response = client.post(f"/c/bank/{bank_name}/content?url={image_url}&content_type=photo")
    assert response.status_code == 200, response.data
    assert response.json == {"id": content_id,
                             "signals": {"pdq": IMAGE_URL_TO_PDQ[image_url]}}
