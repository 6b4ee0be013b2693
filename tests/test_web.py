"""The web app: console pages, the JSON API, authentication, CSRF, roles and media."""

from __future__ import annotations

import io
import re
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image, ImageDraw
from sqlalchemy import select

from warding.accounts.service import create_api_key, create_user
from warding.app import Warding
from warding.cases.routing import open_case
from warding.db.models import AuditEvent, ContentItem, Decision, ItemMedia, MediaObject
from warding.web.factory import create_app

PASSWORD = "a long test password"
PLACEHOLDER = "Neutral placeholder post number one, used only to exercise the review console."
BANK_TEXT = "A neutral placeholder sentence that stands in for known content in a test bank."
REASONS: list[dict[str, Any]] = [
    {"kind": "bank_match", "bank": "demo", "entry_id": "1", "signal_type": "pdq", "distance": 4,
     "labels": {"category": "recruitment"}, "provenance": "test-provenance"},
    {"kind": "classifier", "model": "baseline", "label": "terrorist_content", "score": 0.91,
     "threshold": 0.8, "explanation": {"top_features": [["placeholder", 0.42]]}},
]
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def png_bytes(seed: int = 0) -> bytes:
    """A generated image of plain shapes."""
    img = Image.new("RGB", (96, 96), (240, 240, 240))
    draw = ImageDraw.Draw(img)
    draw.rectangle((10 + seed, 10, 60, 70), fill=(30, 90, 160))
    draw.ellipse((40, 30 + seed, 90, 85), fill=(200, 120, 40))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


@dataclass
class Case:
    id: int
    image_sha: str


def make_case(w: Warding, external_id: str = "p1", text: str = PLACEHOLDER) -> Case:
    data = png_bytes()
    sha = w.media.put(data)
    video_sha = w.media.put(b"placeholder video bytes " + external_id.encode())
    with w.transaction() as session:
        for digest, size, mime in ((sha, len(data), "image/png"), (video_sha, 30, "video/mp4")):
            if session.get(MediaObject, digest) is None:
                session.add(MediaObject(sha256=digest, size=size, mime=mime))
        item = ContentItem(source="testsource", external_id=external_id, kind="post",
                           url=f"https://example.invalid/{external_id}", account="acct-1",
                           text=text, outlinks=["https://example.invalid/out"], input_ref="test")
        item.media = [ItemMedia(sha256=sha, name="shape.png", position=0),
                      ItemMedia(sha256=video_sha, name="clip.mp4", position=1)]
        session.add(item)
        session.flush()
        case = open_case(session, item, [dict(r) for r in REASONS], "test")
        assert case is not None
        return Case(case.id, sha)


@pytest.fixture
def w(wapp: Warding) -> Warding:
    with wapp.transaction() as session:
        for name in ("admin", "reviewer", "analyst", "api"):
            create_user(session, name, name, PASSWORD, actor="test")
    return wapp


@pytest.fixture
def client_for(w: Warding) -> Iterator[Callable[[], TestClient]]:
    """New clients (each with its own cookie jar) on one app."""
    app = create_app(w)
    made: list[TestClient] = []

    def make() -> TestClient:
        client = TestClient(app)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


def csrf_of(html: str) -> str:
    m = CSRF.search(html)
    assert m, "no CSRF token on the page"
    return m.group(1)


def login(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Log in through the form; returns the session's CSRF token."""
    token = csrf_of(client.get("/login").text)
    r = client.post("/login", data={"username": username, "password": password,
                                    "csrf_token": token, "next": "/"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return csrf_of(client.get("/login").text)  # login starts a new session with a new token


def logged_in(client_for: Callable[[], TestClient], username: str) -> tuple[TestClient, str]:
    client = client_for()
    return client, login(client, username)


def audit_types(w: Warding) -> list[str]:
    with w.transaction() as session:
        query = select(AuditEvent.event_type).order_by(AuditEvent.id)
        return list(session.execute(query).scalars())


def api_key(w: Warding, username: str) -> dict[str, str]:
    with w.transaction() as session:
        key = create_api_key(session, username, actor="test")
    return {"Authorization": f"Bearer {key}"}


# -- basics ------------------------------------------------------------------
def test_status_and_security_headers(client_for: Callable[[], TestClient]) -> None:
    client = client_for()
    r = client.get("/status")
    assert r.status_code == 200
    assert r.json()["status"] == "ok" and r.json()["version"]
    for path in ("/status", "/login", "/static/console.css"):
        h = client.get(path).headers
        assert h["x-content-type-options"] == "nosniff"
        assert h["x-frame-options"] == "DENY"
        assert h["referrer-policy"] == "no-referrer"
        csp = h["content-security-policy"]
        assert "default-src 'self'" in csp and "img-src 'self' data:" in csp
        assert "unsafe-inline" not in csp
    assert client.get("/login").headers["cache-control"] == "no-store"


def test_openapi_lists_api_and_docs_are_off(client_for: Callable[[], TestClient]) -> None:
    client = client_for()
    spec = client.get("/openapi.json").json()
    assert spec["info"]["title"] == "Warding"
    for path in ("/api/banks", "/api/banks/{name}", "/api/banks/{name}/entries", "/api/cases",
                 "/api/cases/{case_id}", "/api/cases/{case_id}/claim",
                 "/api/cases/{case_id}/decision", "/api/hash", "/api/match", "/api/classify",
                 "/api/audit/verify", "/status"):
        assert path in spec["paths"], path
    assert "/login" not in spec["paths"]
    assert client.get("/docs").status_code == 404
    assert client.get("/redoc").status_code == 404


def test_session_secret_is_generated_once_with_mode_0600(
        app_factory: Callable[..., Warding]) -> None:
    w = app_factory()
    create_app(w)
    path = w.settings.data_dir / "session_secret"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    first = path.read_text()
    create_app(w)
    assert path.read_text() == first
    configured = app_factory(session_secret="s" * 40)
    create_app(configured)
    assert not (configured.settings.data_dir / "session_secret").exists()


# -- login -------------------------------------------------------------------
def test_login_success_and_failure_are_audited(w: Warding,
                                               client_for: Callable[[], TestClient]) -> None:
    client = client_for()
    token = csrf_of(client.get("/login").text)
    r = client.post("/login", data={"username": "reviewer", "password": "wrong password!",
                                    "csrf_token": token})
    assert r.status_code == 401
    assert "Wrong username or password" in r.text
    assert "auth.login_failed" in audit_types(w)
    assert client.get("/", follow_redirects=False).status_code == 303

    r = client.post("/login", data={"username": "reviewer", "password": PASSWORD,
                                    "csrf_token": token, "next": "/cases/1"},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/cases/1"
    assert "auth.login" in audit_types(w)
    page = client.get("/")
    assert page.status_code == 200
    assert "reviewer" in page.text and "(reviewer)" in page.text


def test_login_needs_csrf_and_never_redirects_off_site(
        client_for: Callable[[], TestClient]) -> None:
    client = client_for()
    r = client.post("/login", data={"username": "reviewer", "password": PASSWORD})
    assert r.status_code == 403
    token = csrf_of(client.get("/login").text)
    r = client.post("/login", data={"username": "reviewer", "password": PASSWORD,
                                    "csrf_token": token, "next": "//elsewhere.invalid/"},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/"


def test_anonymous_is_sent_to_login_or_refused(client_for: Callable[[], TestClient]) -> None:
    client = client_for()
    r = client.get("/cases/1", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/cases/1"
    r = client.get("/api/cases")
    assert r.status_code == 401 and r.json()["detail"]
    assert client.post("/api/match", json={"text": "x"}).status_code == 401
    bad = client.get("/api/cases", headers={"Authorization": "Bearer wd_not-a-key"})
    assert bad.status_code == 401


def test_logout_ends_the_session(w: Warding, client_for: Callable[[], TestClient]) -> None:
    client, token = logged_in(client_for, "reviewer")
    r = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert "auth.logout" in audit_types(w)
    assert client.get("/", follow_redirects=False).status_code == 303


# -- console -----------------------------------------------------------------
def test_queue_shows_open_case(w: Warding, client_for: Callable[[], TestClient]) -> None:
    case = make_case(w)
    client, _ = logged_in(client_for, "reviewer")
    page = client.get("/").text
    assert f'href="/cases/{case.id}"' in page
    assert "demo" in page and "testsource" in page and "acct-1" in page
    assert PLACEHOLDER[:40] in page
    assert f'href="/cases/{case.id}"' in client.get("/?bank=demo&reason=bank_match").text
    assert f'href="/cases/{case.id}"' not in client.get("/?bank=other").text
    assert client.get("/?status=bogus").status_code == 422


def test_pages_escape_content(w: Warding, client_for: Callable[[], TestClient]) -> None:
    case = make_case(w, text='<b onclick="x()">placeholder</b>')
    client, _ = logged_in(client_for, "reviewer")
    for page in (client.get("/").text, client.get(f"/cases/{case.id}").text):
        assert '<b onclick="x()">' not in page
        assert "&lt;b onclick=" in page


def test_unexpected_errors_show_no_traceback(w: Warding, monkeypatch: pytest.MonkeyPatch) -> None:
    import warding.web.routers.console as console

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("internal detail that must not leak")

    monkeypatch.setattr(console, "list_cases", broken)
    with TestClient(create_app(w), raise_server_exceptions=False) as client:
        login(client, "reviewer")
        r = client.get("/")
    assert r.status_code == 500
    assert "something went wrong" in r.text
    assert "internal detail" not in r.text and "Traceback" not in r.text


def test_case_view_blurs_media_and_shows_reasons(w: Warding,
                                                 client_for: Callable[[], TestClient]) -> None:
    case = make_case(w)
    client, _ = logged_in(client_for, "reviewer")
    page = client.get(f"/cases/{case.id}").text
    assert re.search(rf'<img class="media blurred grey"[^>]*src="/media/{case.image_sha}"', page)
    video = re.search(r"<video[^>]*>", page)
    assert video and "muted" in video.group(0) and "autoplay" not in video.group(0)
    assert "autoplay" not in page
    for expected in ("demo", "pdq", "recruitment", "test-provenance", "terrorist_content",
                     "placeholder", "https://example.invalid/out", "solicitation recruitment",
                     "counter speech", '/static/console.js'):
        assert expected in page, expected
    assert "<script>" not in page  # no inline scripts
    assert client.get("/cases/9999").status_code == 404


def test_decide_through_console_form(w: Warding, client_for: Callable[[], TestClient]) -> None:
    case = make_case(w)
    client, token = logged_in(client_for, "reviewer")
    r = client.post(f"/cases/{case.id}/claim", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    r = client.post(f"/cases/{case.id}/decide", follow_redirects=False, data={
        "csrf_token": token, "violating": "yes", "category": "solicitation_recruitment",
        "reason": "Matches a known bank entry.", "exemption": "none", "kind": "decision"})
    assert r.status_code == 303 and r.headers["location"] == f"/cases/{case.id}"
    page = client.get(f"/cases/{case.id}").text
    assert "recorded on case" in page and "Matches a known bank entry." in page
    assert f'href="/cases/{case.id}"' not in client.get("/").text
    assert f'href="/cases/{case.id}"' in client.get("/?status=decided").text
    assert "case.decided" in audit_types(w)
    with w.transaction() as session:
        decisions = list(session.execute(select(Decision)).scalars())
    assert len(decisions) == 1 and decisions[0].violating and decisions[0].reviewer_id


def test_decide_form_errors_are_shown(w: Warding, client_for: Callable[[], TestClient]) -> None:
    case = make_case(w)
    client, token = logged_in(client_for, "reviewer")
    r = client.post(f"/cases/{case.id}/decide", data={
        "csrf_token": token, "violating": "yes", "category": "", "reason": "Typed reason text",
        "exemption": "none", "kind": "decision"})
    assert r.status_code == 422
    assert "needs a policy category" in r.text and "Traceback" not in r.text
    assert "Typed reason text" in r.text  # the reviewer's input is kept
    r = client.post(f"/cases/{case.id}/decide", data={
        "csrf_token": token, "violating": "no", "reason": "  ", "exemption": "none"})
    assert r.status_code == 422 and "needs a reason" in r.text


def test_decide_without_csrf_is_refused(w: Warding, client_for: Callable[[], TestClient]) -> None:
    case = make_case(w)
    client, _ = logged_in(client_for, "reviewer")
    r = client.post(f"/cases/{case.id}/decide", data={
        "violating": "no", "reason": "No token sent.", "exemption": "none"})
    assert r.status_code == 403
    r = client.post(f"/cases/{case.id}/decide", data={
        "csrf_token": "forged", "violating": "no", "reason": "Wrong token.", "exemption": "none"})
    assert r.status_code == 403
    r = client.post(f"/api/cases/{case.id}/decision", json={"violating": False, "reason": "x"})
    assert r.status_code == 403
    with w.transaction() as session:
        assert session.execute(select(Decision)).first() is None


def test_analyst_cannot_decide(w: Warding, client_for: Callable[[], TestClient]) -> None:
    case = make_case(w)
    client, token = logged_in(client_for, "analyst")
    page = client.get(f"/cases/{case.id}").text
    assert "decision-form" not in page and "/media/" not in page
    r = client.post(f"/cases/{case.id}/decide", data={
        "csrf_token": token, "violating": "no", "reason": "Not allowed.", "exemption": "none"})
    assert r.status_code == 403
    r = client.post(f"/api/cases/{case.id}/decision", headers={"X-CSRF-Token": token},
                    json={"violating": False, "reason": "Not allowed."})
    assert r.status_code == 403
    r = client_for().post(f"/api/cases/{case.id}/decision", headers=api_key(w, "analyst"),
                          json={"violating": False, "reason": "Not allowed."})
    assert r.status_code == 403 and "decide" in r.json()["detail"]
    with w.transaction() as session:
        assert session.execute(select(Decision)).first() is None


# -- media -------------------------------------------------------------------
def test_media_needs_auth_and_is_never_cached(w: Warding,
                                              client_for: Callable[[], TestClient]) -> None:
    case = make_case(w)
    url = f"/media/{case.image_sha}"
    assert client_for().get(url).status_code == 401
    analyst, _ = logged_in(client_for, "analyst")
    assert analyst.get(url).status_code == 403
    reviewer, _ = logged_in(client_for, "reviewer")
    r = reviewer.get(url)
    assert r.status_code == 200
    assert r.content == png_bytes()
    assert r.headers["content-type"] == "image/png"
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["content-disposition"] == "inline"
    assert r.headers["x-content-type-options"] == "nosniff"
    unattached = w.media.put(png_bytes(seed=7))
    assert reviewer.get(f"/media/{unattached}").status_code == 404
    assert reviewer.get("/media/not-a-hash").status_code == 404


# -- API -----------------------------------------------------------------------
def test_reviewer_cannot_create_banks_admin_can(w: Warding,
                                                client_for: Callable[[], TestClient]) -> None:
    reviewer, rtoken = logged_in(client_for, "reviewer")
    r = reviewer.post("/api/banks", json={"name": "demo"}, headers={"X-CSRF-Token": rtoken})
    assert r.status_code == 403
    assert reviewer.get("/api/banks").json() == {"banks": []}

    admin, atoken = logged_in(client_for, "admin")
    assert admin.post("/api/banks", json={"name": "demo"}).status_code == 403  # no CSRF token
    r = admin.post("/api/banks", json={"name": "demo", "description": "test bank"},
                   headers={"X-CSRF-Token": atoken})
    assert r.status_code == 201 and r.json()["name"] == "demo"
    r = admin.post("/api/banks", json={"name": "demo"}, headers={"X-CSRF-Token": atoken})
    assert r.status_code == 409
    r = admin.post("/api/banks", json={"name": "bad name!"}, headers={"X-CSRF-Token": atoken})
    assert r.status_code == 422
    assert reviewer.get("/api/banks/demo").json()["description"] == "test bank"
    assert reviewer.get("/api/banks/nope").status_code == 404
    assert "bank.created" in audit_types(w)


def test_api_key_matches_text_added_to_a_bank(w: Warding,
                                              client_for: Callable[[], TestClient]) -> None:
    pytest.importorskip("warding.signals.text")
    admin = api_key(w, "admin")
    client = client_for()
    assert client.post("/api/banks", json={"name": "demo"}, headers=admin).status_code == 201
    r = client.post("/api/banks/demo/entries", headers=admin, json={
        "text": BANK_TEXT, "labels": {"category": "recruitment"}, "provenance": "unit test"})
    assert r.status_code == 201 and r.json()["entries"] == 1
    r = client.post("/api/banks/demo/entries", headers=admin, json={"text": BANK_TEXT})
    assert r.status_code == 201 and r.json()["skipped"] == 1
    r = client.post("/api/banks/demo/entries", headers=admin,
                    json={"hashes": [{"type": "md5", "value": "not-hex"}]})
    assert r.status_code == 422

    key = api_key(w, "api")
    r = client.post("/api/match", headers=key, json={"text": BANK_TEXT})
    assert r.status_code == 200
    matches = r.json()["matches"]
    assert matches and matches[0]["bank"] == "demo" and matches[0]["distance"] == 0
    assert matches[0]["labels"] == {"category": "recruitment"}
    assert matches[0]["provenance"] == "unit test"
    other = client.post("/api/match", headers=key, json={"text": "Something else entirely here."})
    assert other.status_code == 200
    assert all(m["signal_type"] != "text" for m in other.json()["matches"])
    assert client.post("/api/match", headers=key, json={}).status_code == 422


def test_api_hash_upload(w: Warding, client_for: Callable[[], TestClient]) -> None:
    r = client_for().post("/api/hash", headers=api_key(w, "api"),
                          files={"file": ("shape.png", png_bytes(), "image/png")})
    assert r.status_code == 200
    types = {s["type"] for s in r.json()["signals"]}
    assert {"md5", "sha256"} <= types


def test_api_classify_without_model_is_503(w: Warding,
                                           client_for: Callable[[], TestClient]) -> None:
    r = client_for().post("/api/classify", headers=api_key(w, "api"), json={"text": PLACEHOLDER})
    assert r.status_code == 503
    assert "classifier" in r.json()["detail"]


def test_api_case_flow(w: Warding, client_for: Callable[[], TestClient]) -> None:
    case = make_case(w)
    key = api_key(w, "reviewer")
    client = client_for()
    listed = client.get("/api/cases", headers=key).json()["cases"]
    assert [c["id"] for c in listed] == [case.id]
    assert listed[0]["banks"] == ["demo"]
    detail = client.get(f"/api/cases/{case.id}", headers=key).json()
    assert detail["item"]["media"][0]["sha256"] == case.image_sha
    assert detail["reasons_detail"][0]["provenance"] == "test-provenance"
    r = client.post(f"/api/cases/{case.id}/claim", headers=key)
    assert r.json() == {"case_id": case.id, "assigned_to": "reviewer"}
    r = client.post(f"/api/cases/{case.id}/decision", headers=key,
                    json={"violating": True, "reason": "r"})
    assert r.status_code == 422 and "policy category" in r.json()["detail"]
    r = client.post(f"/api/cases/{case.id}/decision", headers=key, json={
        "violating": False, "reason": "Reporting on events.", "exemption": "journalism"})
    assert r.status_code == 201
    assert r.json()["case_id"] == case.id and r.json()["decision_id"]
    r = client.post(f"/api/cases/{case.id}/decision", headers=key,
                    json={"violating": False, "reason": "again"})
    assert r.status_code == 409
    assert client.get("/api/cases", headers=key).json()["cases"] == []
    decided = client.get("/api/cases?status=decided", headers=key).json()["cases"]
    assert [c["id"] for c in decided] == [case.id]
    assert client.get("/api/cases/9999", headers=key).status_code == 404


def test_audit_verify_admin_only(w: Warding, client_for: Callable[[], TestClient]) -> None:
    admin, _ = logged_in(client_for, "admin")
    r = admin.get("/api/audit/verify")
    assert r.status_code == 200
    assert r.json()["ok"] is True and r.json()["events"] > 0
    reviewer, _ = logged_in(client_for, "reviewer")
    assert reviewer.get("/api/audit/verify").status_code == 403
