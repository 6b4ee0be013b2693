"""The outbound-request guard (warding.outbound.guard): a local HTTP server that redirects
inward, and a fake resolver that answers with private addresses.

The server listens on 127.0.0.1 only. To let a *public* name reach it (so that the guard
has something to follow), the resolver answers ``public.example`` with a public address
and the transport below forwards that one address to the local server; every other
address is connected to for real, so a guard that let a redirect through would really
reach 127.0.0.1 (and the server would see it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import httpx
import pytest

from tests.local_http import serving
from warding.analytics.liveness import Politeness, Target, check_targets
from warding.outbound.guard import (
    OutboundGuard,
    OutboundRefused,
    Policy,
    address_allowed,
)

PUBLIC = "93.184.216.34"  # what the fake resolver says public.example is
HITS: list[str] = []


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        HITS.append(f"{self.headers.get('Host')}{self.path}")
        port = self.server.server_address[1]
        where = {"/to-loopback": f"http://127.0.0.1:{port}/secret",
                 "/to-metadata": "http://169.254.169.254/latest/meta-data/",
                 "/to-intranet": "http://intranet.example/admin",
                 "/to-public": "http://public.example/ok"}.get(self.path)
        if where:
            self.send_response(302)
            self.send_header("Location", where)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = b"x" * (5000 if self.path == "/big" else 10)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def port() -> Iterator[int]:
    with serving(Handler) as bound:
        HITS.clear()
        yield bound


def resolver(host: str, port: int) -> list[str]:
    return {"public.example": [PUBLIC], "intranet.example": ["10.20.30.40"],
            "mixed.example": [PUBLIC, "10.0.0.9"]}.get(host, [host])


def _forward(request: httpx.Request, port: int) -> httpx.Request:
    if request.url.host == PUBLIC:
        request.url = request.url.copy_with(host="127.0.0.1", port=port)
    return request


class Forward(httpx.HTTPTransport):
    def __init__(self, port: int) -> None:
        super().__init__()
        self.port = port

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return super().handle_request(_forward(request, self.port))


class AsyncForward(httpx.AsyncHTTPTransport):
    def __init__(self, port: int) -> None:
        super().__init__()
        self.port = port

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await super().handle_async_request(_forward(request, self.port))


def _guard(port: int, **kw: Any) -> OutboundGuard:
    return OutboundGuard(Policy(timeout=3.0, **kw), resolver=resolver,
                         transport=Forward(port), async_transport=AsyncForward(port))


def _get(guard: OutboundGuard, url: str) -> bytes:
    with guard.client() as client:
        return guard.get(client, url).body


def test_a_public_hop_is_fetched_with_the_name_in_host(port: int) -> None:
    assert _get(_guard(port), "http://public.example/to-public") == b"x" * 10
    assert HITS == ["public.example/to-public", "public.example/ok"]


@pytest.mark.parametrize("path,address", [("/to-loopback", "127.0.0.1"),
                                          ("/to-metadata", "169.254.169.254"),
                                          ("/to-intranet", "10.20.30.40")])
def test_a_redirect_inward_is_refused(port: int, path: str, address: str) -> None:
    with pytest.raises(OutboundRefused) as refused:
        _get(_guard(port), f"http://public.example{path}")
    assert refused.value.status == 403 and address in str(refused.value)
    assert HITS == [f"public.example{path}"]  # the inward hop was never requested


def test_a_name_resolving_to_a_private_address_is_refused_unconnected(port: int) -> None:
    for url, address in (("http://intranet.example/x", "10.20.30.40"),
                         ("http://mixed.example/x", "10.0.0.9")):
        with pytest.raises(OutboundRefused) as refused:
            _get(_guard(port), url)
        assert refused.value.status == 403 and address in str(refused.value)
    assert HITS == []


def test_the_operator_may_allow_private_addresses(port: int) -> None:
    guard = _guard(port, allow_private=True)
    assert _get(guard, "http://public.example/to-loopback") == b"x" * 10
    assert HITS[-1].endswith("/secret")


def test_size_and_redirect_limits(port: int) -> None:
    with pytest.raises(OutboundRefused) as big:
        _get(_guard(port, max_bytes=1000), "http://public.example/big")
    assert big.value.status == 413
    with pytest.raises(OutboundRefused) as many:
        _get(_guard(port, max_redirects=0), "http://public.example/to-public")
    assert many.value.status == 502 and "redirects" in str(many.value)


@pytest.mark.parametrize("url", ["ftp://public.example/x", "http://u:p@public.example/x",
                                 "http://[::1/", "file:///etc/passwd", "http:///x"])
def test_bad_urls(port: int, url: str) -> None:
    with pytest.raises(OutboundRefused) as bad:
        _get(_guard(port), url)
    assert bad.value.status == 400


def test_ranges() -> None:
    for address in ("127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254",
                    "100.64.0.1", "0.0.0.0", "224.0.0.1", "240.0.0.1", "255.255.255.255",
                    "::1", "fe80::1", "fd00::1", "ff02::1", "::ffff:10.0.0.1", "::",
                    "192.0.2.1", "not-an-address"):
        assert not address_allowed(address, False), address
    assert address_allowed(PUBLIC, False) and address_allowed("2606:4700::1111", False)
    assert address_allowed("10.1.2.3", True) and address_allowed("::1", True)
    assert not address_allowed("224.0.0.1", True) and not address_allowed("0.0.0.0", True)


def test_liveness_checks_every_hop(port: int) -> None:
    targets = [Target("item", f"http://public.example{p}", "s", None, i)
               for i, p in enumerate(["/to-public", "/to-loopback", "/to-metadata"])]
    targets.append(Target("item", "http://intranet.example/x", "s", None, 9))
    out = asyncio.run(check_targets(targets, Politeness(timeout=3.0, rate=10),
                                    AsyncForward(port), resolver))
    got = [(o.status, o.http_status) for o in out]
    assert got[0] == ("online", 200)
    for o in out[1:]:
        assert o.status == "error" and "refused" in o.detail and "--allow-private" in o.detail
    assert sorted(HITS) == sorted(["public.example/to-public", "public.example/ok",
                                   "public.example/to-loopback",
                                   "public.example/to-metadata"])
