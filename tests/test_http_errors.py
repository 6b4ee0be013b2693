"""Malformed requests (issue 22): every route answers bad bytes with a clear 4xx in the
documented form, never a 5xx.

A seeded generator sends about 3,000 malformed requests (bad UTF-8, truncated JSON, wrong
types, huge and negative numbers, wrong or broken content types, oversize and streamed
bodies, false Content-Length headers, bad query strings and paths, broken multipart) to
every route of the OpenAPI schema and of the console, straight through ASGI (no sockets:
the run takes seconds), anonymous, with an API key and with a console session. The answers
must be below 500; an API error must be ``{"detail": "…"}`` (HMA's routes add
``"message"``), a console error an HTML page.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from tests.conftest import make_app
from tests.test_web import PASSWORD, csrf_of, png_bytes
from warding.accounts.service import create_api_key, create_user
from warding.app import Warding
from warding.web.errors import HMA_PREFIXES, JSON_PATHS, JSON_PREFIXES
from warding.web.factory import create_app
from warding.web.routers import (
    auth,
    console,
    console_actions,
    console_admin,
    console_cases,
    console_settings,
    stats,
)

SEED = 22
REQUESTS = 3000
SMALL = {"max_request_bytes": 4096, "max_file_bytes": 64 * 1024,
         "intake_max_body_bytes": 8192, "action_worker_interval": 0}
PARAM = re.compile(r"{([^}:]+)(?::[^}]+)?}")


# -- a minimal ASGI client (full control over the bytes sent) ---------------------------
@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes = b""

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Sent:
    method: str
    path: bytes
    query: bytes = b""
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    chunks: list[bytes] = field(default_factory=list)

    def describe(self) -> str:
        size = sum(len(c) for c in self.chunks)
        return (f"{self.method} {self.path!r}?{self.query[:60]!r} headers={self.headers[:6]} "
                f"body[{size}]={b''.join(self.chunks)[:120]!r}")


async def _call(app: FastAPI, req: Sent) -> Answer:
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": req.method, "scheme": "http",
             "path": req.path.decode("utf-8", "surrogateescape"), "raw_path": req.path,
             "query_string": req.query, "root_path": "", "headers": req.headers,
             "client": ("127.0.0.1", 50000), "server": ("testserver", 80), "state": {}}
    chunks = list(req.chunks) or [b""]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if chunks:
            body = chunks.pop(0)
            return {"type": "http.request", "body": body, "more_body": bool(chunks)}
        await asyncio.sleep(0)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    try:
        await app(scope, receive, send)
    except Exception:  # noqa: BLE001 - Starlette re-raises after sending its 500
        if not sent:
            raise
    start = next(m for m in sent if m["type"] == "http.response.start")
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in start["headers"]}
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return Answer(start["status"], headers, body)


# -- the routes ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Target:
    method: str
    path: str  # with {params}
    body: str  # "json", "form", "multipart", "none"
    fields: tuple[str, ...] = ()


def _schema_targets(spec: dict[str, Any]) -> list[Target]:
    out = []
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            content = (op.get("requestBody") or {}).get("content") or {}
            kind, props = "none", {}
            for ctype, media in content.items():
                schema = media.get("schema") or {}
                if "$ref" in schema:
                    schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
                props = schema.get("properties") or {}
                kind = ("json" if "json" in ctype else
                        "multipart" if "multipart" in ctype else "form")
            out.append(Target(method.upper(), path, kind, tuple(props)))
    return out


def _console_targets() -> list[Target]:
    out = []
    for module in (auth, console, console_actions, console_admin, console_cases,
                   console_settings, stats):
        for route in module.router.routes:
            if isinstance(route, APIRoute):
                fields = tuple(p.alias for p in route.dependant.body_params)
                for method in sorted(route.methods):
                    out.append(Target(method, route.path, "form" if fields else "none", fields))
    return out


# The HMA routes that read their bodies themselves (no body in the schema), and HMA's
# plain lookup routes (Starlette routes, documented by hma_meta).
EXTRA = [Target("POST", "/h/hash", "multipart", ("photo", "video")),
         Target("POST", "/m/lookup", "multipart", ("photo", "video")),
         Target("POST", "/c/bank/{bank_name}/content", "multipart", ("photo", "note")),
         Target("POST", "/c/bank/{bank_name}/signal", "json", ("pdq", "note", "labels")),
         Target("POST", "/c/banks", "json", ("name", "enabled_ratio")),
         Target("PUT", "/c/bank/{bank_name}", "json", ("name", "enabled")),
         Target("PUT", "/c/bank/{bank_name}/content/{content_id}", "json",
                ("disable_until_ts", "note")),
         Target("POST", "/m/compare", "json", ("pdq",)),
         Target("POST", "/c/exchanges", "json", ("bank", "api", "api_json")),
         Target("GET", "/m/lookup", "none"), Target("GET", "/m/raw_lookup", "none")]


# -- the generator -----------------------------------------------------------------------
NUMBERS: list[Any] = [-1, 0, 10**40, -(10**40), 2**63, 1e308, -0.0, 3.5, True, None]
WEIRD: list[Any] = ["", "\x00", "é" * 300, "<script>", "../../etc/passwd", "%s%n", "A" * 5000,
                    [], {}, [1, [2, [3]]], {"$ne": 1}, "1" * 40, "NaN", "-1"]
PATH_VALUES = ["1", "0", "-1", "9" * 30, "TEST_BANK", "admin", "%ff", "%00", "a%2F..%2Fb",
               "é", "x" * 500, "%", "1.5", "null"]
QUERIES = [b"", b"signal=%zz&signal_type=pdq", b"%ff%fe=%ff", b"a=1&a=2&a=3", b"limit=-5",
           b"limit=99999999999999999999999", b"page=abc", b"url=http://127.0.0.1/",
           b"banks=" + b"A," * 500, b"include_labels=maybe", b"signal_type=pdq&signal=" +
           b"f" * 64, b"next=//evil.example", b"q=%00%00", b"&&&==&", b"types=all&seed=x",
           b"since=notadate&until=2020-13-45", b"offset=-1&limit=0"]
CTYPES = [b"application/json", b"text/plain", b"application/x-www-form-urlencoded",
          b"multipart/form-data", b"multipart/form-data; boundary=", b"application/xml",
          b"a/b;;;;=", b"application/json; charset=latin-1", b"\xff\xfe/\xff", None]


class Generator:
    def __init__(self, rng: random.Random, key: str, session_cookie: str, csrf: str) -> None:
        self.rng, self.key, self.cookie, self.csrf = rng, key, session_cookie, csrf

    def path(self, target: Target) -> bytes:
        def fill(m: re.Match[str]) -> str:
            name = m.group(1)
            if self.rng.random() < 0.4:
                return {"bank_name": "TEST_BANK", "name": "test", "username": "admin",
                        "source": "s"}.get(name, "1")
            return self.rng.choice(PATH_VALUES)
        return PARAM.sub(fill, target.path).encode("utf-8")

    def auth(self, target: Target) -> list[tuple[bytes, bytes]]:
        roll = self.rng.random()
        if roll < 0.45:
            return [(b"authorization", f"Bearer {self.key}".encode())]
        if roll < 0.8:
            return [(b"cookie", f"warding_session={self.cookie}".encode()),
                    (b"x-csrf-token", self.csrf.encode())]
        if roll < 0.9:
            return [(b"authorization", self.rng.choice([b"Bearer", b"Basic xx", b"Bearer \xff",
                                                       b"bearer wd_nope"]))]
        return []

    def value(self) -> Any:
        return self.rng.choice(NUMBERS + WEIRD)

    def json_body(self, target: Target) -> bytes:
        names = list(target.fields) or ["name", "text", "items"]
        obj = {n: self.value() for n in self.rng.sample(names, min(len(names), 3))}
        kind = self.rng.randrange(9)
        if kind == 0:
            return b'{"' + self.rng.choice(names).encode() + b'": "\xff\xfe\xc3("}'
        if kind == 1:
            full = json.dumps(obj).encode()
            return full[: self.rng.randrange(max(len(full), 1))]
        if kind == 2:
            return b"[" * self.rng.choice([100, 5000, 20000]) + b"]" * 3
        if kind == 3:
            return self.rng.choice([b"", b"null", b"1e999", b"NaN", b'"text"', b"[]", b"\x00"])
        if kind == 4:
            return json.dumps([obj]).encode()
        if kind == 5:
            return json.dumps({"source": self.value(), "items": [obj] * 3},
                              default=str).encode()
        if kind == 6:
            return b"\xef\xbb\xbf" + json.dumps(obj, default=str).encode()  # UTF-8 BOM
        if kind == 7:
            return json.dumps(obj, default=str).encode("utf-16")
        return json.dumps(obj, default=str).encode()

    def form_body(self, target: Target) -> bytes:
        names = list(target.fields) or ["x"]
        parts = []
        for name in self.rng.sample(names, min(len(names), 4)):
            value = self.rng.choice([b"%ff%fe", b"\xff", b"1" * 40, b"-1", b"", b"%zz",
                                     b"a" * 3000, b"true", b"<b>", b"\x00"])
            parts.append(name.encode() + b"=" + value)
        if self.rng.random() < 0.5:
            parts.append(b"csrf_token=" + self.csrf.encode())
        if self.rng.random() < 0.2:
            parts.append(b"=&&=%")
        return b"&".join(parts)

    def multipart_body(self, target: Target, boundary: bytes) -> bytes:
        field_name = self.rng.choice(list(target.fields) + ["file", "photo", "\xff"])
        kind = self.rng.randrange(6)
        data = self.rng.choice([png_bytes(1), b"GIF89a" + b"\x00" * 40, b"", b"\xff" * 100,
                                b"not an image"])
        part = (b"--" + boundary + b"\r\nContent-Disposition: form-data; name=\""
                + field_name.encode("utf-8", "replace") + b"\"; filename=\"x.png\"\r\n"
                b"Content-Type: image/png\r\n\r\n" + data + b"\r\n")
        if kind == 0:
            return part  # no closing boundary
        if kind == 1:
            return b"--" + boundary + b"\r\nContent-Disposition: form-data\r\n\r\nx\r\n--"
        if kind == 2:
            return b"garbage without any boundary"
        if kind == 3:
            return part[: len(part) // 2]
        if kind == 4:
            head = (b"--" + boundary + b"\r\nContent-Disposition: form-data; name=\"csrf_token\""
                    b"\r\n\r\n" + self.csrf.encode() + b"\r\n")
            return head + part + b"--" + boundary + b"--\r\n"
        return part + b"--" + boundary + b"--\r\n"

    def request(self, target: Target) -> Sent:
        method = target.method if self.rng.random() < 0.93 else self.rng.choice(
            ["POST", "PUT", "PATCH", "DELETE", "GET"])
        req = Sent(method, self.path(target), self.rng.choice(QUERIES), self.auth(target))
        if target.body == "none" and self.rng.random() < 0.6:
            return req
        boundary = b"zzBOUNDARYzz"
        choice = self.rng.random()
        if target.body == "json" and choice < 0.6 or target.body == "none" and choice < 0.3:
            body, ctype = self.json_body(target), self.rng.choice(CTYPES[:2] + [None])
        elif target.body == "form" and choice < 0.6:
            body, ctype = self.form_body(target), b"application/x-www-form-urlencoded"
        elif choice < 0.8:
            body = self.multipart_body(target, boundary)
            ctype = self.rng.choice([b"multipart/form-data; boundary=" + boundary,
                                     b"multipart/form-data", b"multipart/form-data; boundary=x"])
        else:
            body = self.rng.choice([self.json_body(target), self.form_body(target)])
            ctype = self.rng.choice(CTYPES)
        if ctype is not None:
            req.headers.append((b"content-type", ctype))
        how = self.rng.random()
        if how < 0.06:  # oversize: declared, or streamed without a length
            body = self.rng.choice([b"{", b"a=", b"--" + boundary]) + b"x" * 70_000
            if self.rng.random() < 0.5:
                req.headers.append((b"content-length", str(len(body)).encode()))
            req.chunks = [body[i:i + 8192] for i in range(0, len(body), 8192)]
            return req
        if how < 0.1:  # a false Content-Length
            req.headers.append((b"content-length", self.rng.choice(
                [b"abc", b"-1", b"99999999999999999999", b"1", b" 5", b"0x10"])))
        elif how < 0.2:  # streamed (chunked) in small pieces
            req.headers.append((b"transfer-encoding", b"chunked"))
            req.chunks = [body[i:i + 7] for i in range(0, len(body), 7)] or [b""]
            return req
        else:
            req.headers.append((b"content-length", str(len(body)).encode()))
        if how > 0.95:
            req.headers.append((self.rng.choice([b"x-\xff", b"host", b"accept"]),
                                self.rng.choice([b"\xff\xfe", b"", b"a" * 8000])))
        req.chunks = [body]
        return req


# -- the checks --------------------------------------------------------------------------
def _json_route(path: bytes) -> bool:
    text = path.decode("utf-8", "replace")
    return text in JSON_PATHS or text.startswith(JSON_PREFIXES)


def check_answer(req: Sent, answer: Answer) -> str | None:
    """Why ``answer`` breaks the rules (None: it keeps them)."""
    if answer.status == 503 and b"the classifier is not available" in answer.body:
        return None  # documented (docs/api.md): the fuzzed site has no trained model
    if answer.status >= 500:
        return f"{answer.status}: {answer.body[:300]!r}"
    if answer.status < 400:
        return None
    if _json_route(req.path):
        if not answer.headers.get("content-type", "").startswith("application/json"):
            return f"{answer.status} error is not JSON: {answer.headers.get('content-type')}"
        body = answer.json()
        if not isinstance(body, dict) or not isinstance(body.get("detail"), str) \
                or not body["detail"]:
            return f"{answer.status} error without a detail string: {answer.body[:200]!r}"
        if req.path.decode("latin-1").startswith(HMA_PREFIXES) and body.get("message") \
                != body["detail"]:
            return f"{answer.status} HMA error without its message: {answer.body[:200]!r}"
    elif answer.status not in (401, 405) and not answer.headers.get(
            "content-type", "").startswith(("text/html", "application/json")):
        return f"{answer.status} console error is neither a page nor JSON"
    return None


def _fuzz_site(w: Warding) -> tuple[FastAPI, str, str, str]:
    with w.transaction() as s:
        create_user(s, "admin", "admin", PASSWORD, actor="test")
        create_user(s, "spare", "admin", PASSWORD, actor="test")
        key = create_api_key(s, "admin", actor="test")
    app = create_app(w)
    with TestClient(app) as client:  # a console session and a bank to aim at
        token = csrf_of(client.get("/login").text)
        r = client.post("/login", data={"username": "spare", "password": PASSWORD,
                                        "csrf_token": token}, follow_redirects=False)
        assert r.status_code == 303
        csrf = csrf_of(client.get("/").text)
        cookie = client.cookies["warding_session"]
        client.post("/c/banks", json={"name": "TEST_BANK"},
                    headers={"Authorization": f"Bearer {key}"})
    return app, key, cookie, csrf


def _fuzz(app: FastAPI, key: str, cookie: str, csrf: str, count: int) -> None:
    rng = random.Random(SEED)
    spec = asyncio.run(_call(app, Sent("GET", b"/openapi.json"))).json()
    targets = _schema_targets(spec) + _console_targets() + EXTRA
    assert len(targets) > 80, "the OpenAPI schema and the console routes were not all found"
    gen = Generator(rng, key, cookie, csrf)
    failures: list[str] = []
    statuses: Counter[int] = Counter()

    async def run() -> None:
        for i in range(count):
            target = targets[i % len(targets)]
            req = gen.request(target)
            answer = await _call(app, req)
            statuses[answer.status] += 1
            problem = check_answer(req, answer)
            if problem is not None:
                failures.append(f"{req.describe()} -> {problem}")

    asyncio.run(run())
    assert sum(statuses.values()) == count
    assert not failures, f"{len(failures)} bad answers, e.g.:\n" + "\n".join(failures[:15])
    assert statuses[400] and statuses[413] and statuses[415] and statuses[422], statuses


# FastAPI 0.165 leaves an upload part that the route does not declare (e.g. "photo" sent to
# POST /api/hash, which takes "file") unclosed when the request fails validation: the
# spooled file is closed when it is collected. Not Warding's code; noted in the CHANGELOG.
@pytest.mark.filterwarnings("ignore:Unclosed file <tempfile.SpooledTemporaryFile:ResourceWarning")
def test_malformed_requests_never_get_a_5xx(tmp_path: Path) -> None:
    w = make_app(tmp_path, **SMALL)
    try:
        _fuzz(*_fuzz_site(w), count=REQUESTS)
    finally:
        w.close()


@pytest.mark.postgres
@pytest.mark.filterwarnings("ignore:Unclosed file <tempfile.SpooledTemporaryFile:ResourceWarning")
def test_malformed_requests_on_postgresql(tmp_path: Path, pg_url: str) -> None:
    """PostgreSQL refuses what SQLite stores (NUL characters, integers over 64 bits): those
    must be 4xx too."""
    w = make_app(tmp_path, url=pg_url, **SMALL)
    try:
        _fuzz(*_fuzz_site(w), count=1000)
    finally:
        w.close()


# -- the four statuses, one by one ----------------------------------------------------------
@pytest.fixture
def plain(wapp: Warding) -> Iterator[tuple[TestClient, dict[str, str]]]:
    with wapp.transaction() as s:
        create_user(s, "admin", "admin", PASSWORD, actor="test")
        key = create_api_key(s, "admin", actor="test")
    with TestClient(create_app(wapp)) as client:
        yield client, {"Authorization": f"Bearer {key}"}


def test_undecodable_body_is_400(plain: tuple[TestClient, dict[str, str]]) -> None:
    client, key = plain
    for path in ("/api/banks", "/api/items", "/c/banks"):
        r = client.post(path, content=b'{"name": "\xff\xfe"}',
                        headers={**key, "Content-Type": "application/json"})
        assert r.status_code == 400, (path, r.text)
        assert "not valid JSON" in r.json()["detail"] or "JSON" in r.json()["detail"]
    r = client.post("/api/banks", content=b'{"name": ', headers={**key, "Content-Type":
                                                                  "application/json"})
    assert r.status_code == 400 and r.json()["detail"].startswith("the body is not valid JSON")


def test_wrong_content_type_is_415(plain: tuple[TestClient, dict[str, str]]) -> None:
    client, key = plain
    for path in ("/api/banks", "/api/match", "/api/items", "/c/banks"):
        r = client.post(path, content=b"\xff\xfe not json",
                        headers={**key, "Content-Type": "text/plain"})
        assert r.status_code == 415, (path, r.text)
        assert "application/json" in r.json()["detail"]
    r = client.post("/api/hash", content=b"{}", headers={**key, "Content-Type":
                                                          "application/json"})
    assert r.status_code == 415 and "form" in r.json()["detail"]


def test_invalid_fields_are_422_naming_the_field(plain: tuple[TestClient, dict[str, str]]
                                                 ) -> None:
    client, key = plain
    r = client.post("/api/banks", json={"name": 5, "thresholds": "x"}, headers=key)
    assert r.status_code == 422
    body = r.json()
    assert "name" in body["detail"] and all("input" not in e for e in body["errors"])
    r = client.post(f"/api/cases/{'9' * 30}/claim", headers=key)
    assert r.status_code in (404, 422), r.text


def _stream(size: int, chunk: int = 1024 * 1024) -> Iterator[bytes]:
    sent = 0
    while sent < size:
        yield b"\0" * min(chunk, size - sent)
        sent += chunk


def test_a_60_mb_upload_is_413_before_it_is_read(plain: tuple[TestClient, dict[str, str]]
                                                 ) -> None:
    client, key = plain
    ctype = {"Content-Type": "multipart/form-data; boundary=b"}
    for path in ("/api/items/upload", "/h/hash", "/api/hash", "/m/lookup"):
        declared = client.post(path, content=b"--b", headers={
            **key, **ctype, "Content-Length": str(60 * 1024 * 1024)})
        assert declared.status_code == 413, (path, declared.text)
        assert "max_file_bytes" in declared.json()["detail"]
        streamed = client.post(path, content=_stream(60 * 1024 * 1024), headers={**key, **ctype})
        assert streamed.status_code == 413, (path, streamed.text)
    r = client.post("/api/banks", content=_stream(20 * 1024 * 1024), headers={
        **key, "Content-Type": "application/json"})
    assert r.status_code == 413 and "max_request_bytes" in r.json()["detail"]


def test_console_errors_are_pages(plain: tuple[TestClient, dict[str, str]]) -> None:
    client, _ = plain
    r = client.post("/login", content=b"username=\xff&password=%ff",
                    headers={"Content-Type": "text/plain"})
    assert r.status_code == 415 and r.headers["content-type"].startswith("text/html")
    r = client.post("/login", content=b"x" * (17 * 1024 * 1024),
                    headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 413 and "Too large" in r.text
