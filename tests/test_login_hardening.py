"""Login hardening (issue 22): throttling per user name and per address (429 with
Retry-After, growing back-off, reset on success, audited), the Secure session cookie,
constant-cost failures (a dummy hash for unknown names), argon2 rehash on login, and the
admin password reset (``warding user set-password``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.cli_helpers import CLI
from tests.conftest import make_app
from tests.test_web import PASSWORD, csrf_of
from warding.accounts import service
from warding.accounts.service import authenticate, create_user
from warding.accounts.throttle import LoginThrottle
from warding.app import Warding
from warding.config import Settings
from warding.db.models import AuditEvent, User
from warding.web.factory import create_app


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[Warding, Callable[..., TestClient]]]:
    w = make_app(tmp_path, login_max_failures=3, login_max_failures_per_address=6,
                 login_backoff_seconds=10, login_backoff_max_seconds=40)
    with w.transaction() as s:
        create_user(s, "alice", "reviewer", PASSWORD, actor="test")
        create_user(s, "bob", "reviewer", PASSWORD, actor="test")
    app = create_app(w)
    clock = Clock()
    app.state.login_throttle = LoginThrottle(w.settings, clock=clock)
    clients: list[TestClient] = []

    def client() -> TestClient:
        c = TestClient(app)
        c.clock = clock  # type: ignore[attr-defined]
        clients.append(c)
        return c

    yield w, client
    for c in clients:
        c.close()
    w.close()


def attempt(client: TestClient, username: str, password: str) -> Any:
    token = csrf_of(client.get("/login").text)
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": token}, follow_redirects=False)


def audit(w: Warding, event_type: str) -> list[dict[str, Any]]:
    with w.transaction() as s:
        rows = s.execute(select(AuditEvent).where(AuditEvent.event_type == event_type)
                         .order_by(AuditEvent.id)).scalars()
        return [dict(r.data) for r in rows]


def test_failures_for_one_name_are_throttled_with_growing_backoff(
        site: tuple[Warding, Callable[..., TestClient]]) -> None:
    w, make = site
    client = make()
    clock = client.clock  # type: ignore[attr-defined]
    assert attempt(client, "alice", "wrong password 1").status_code == 401
    assert attempt(client, "alice", "wrong password 2").status_code == 401
    third = attempt(client, "alice", "wrong password 3")  # the 3rd failure starts a lock
    assert third.status_code == 429 and third.headers["retry-after"] == "10"
    refused = attempt(client, "alice", PASSWORD)  # even the right password waits
    assert refused.status_code == 429 and "Too many failed logins" in refused.text
    assert int(refused.headers["retry-after"]) <= 10
    assert attempt(client, "bob", PASSWORD).status_code == 303  # other names are not locked
    clock.now += 11
    again = attempt(client, "alice", "wrong password 4")
    assert again.status_code == 429 and again.headers["retry-after"] == "20"  # doubled
    clock.now += 21
    assert attempt(client, "alice", "wrong password 5").headers["retry-after"] == "40"
    clock.now += 41
    assert attempt(client, "alice", "wrong password 6").headers["retry-after"] == "40"  # cap
    clock.now += 41
    assert attempt(client, "alice", PASSWORD).status_code == 303  # success resets the count
    assert attempt(client, "alice", "wrong password 7").status_code == 401
    throttled = audit(w, "auth.login_throttled")
    assert throttled and throttled[0]["username"] == "alice"
    assert throttled[0]["locked"] == "user:alice" and throttled[0]["retry_after"] == 10


def test_failures_from_one_address_are_throttled(
        site: tuple[Warding, Callable[..., TestClient]]) -> None:
    w, make = site
    client = make()
    statuses = [attempt(client, f"nobody{i}", "wrong password").status_code for i in range(6)]
    assert statuses == [401] * 5 + [429]
    r = attempt(client, "alice", PASSWORD)  # the address is locked for every name
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
    assert any(e["locked"].startswith("address:") for e in audit(w, "auth.login_throttled"))


def test_session_cookie_secure_flag(tmp_path: Path) -> None:
    for secure in (False, True):
        w = make_app(tmp_path / str(secure), session_cookie_secure=secure)
        with w.transaction() as s:
            create_user(s, "alice", "reviewer", PASSWORD, actor="test")
        with TestClient(create_app(w), base_url="https://testserver") as client:
            r = attempt(client, "alice", PASSWORD)
            assert r.status_code == 303
            cookie = r.headers["set-cookie"]
            assert ("; secure" in cookie.lower()) is secure, cookie
        w.close()


def test_unknown_names_verify_a_dummy_hash(wapp: Warding,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    with wapp.transaction() as s:
        create_user(s, "alice", "reviewer", PASSWORD, actor="test")
    verified: list[str] = []
    real = PasswordHasher.verify

    def spy(self: PasswordHasher, hash: str, password: str) -> bool:
        verified.append(hash)
        return real(self, hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", spy)
    with wapp.transaction() as s:
        assert authenticate(s, "nobody", "some password") is None
        assert authenticate(s, "alice", "wrong password") is None
        assert authenticate(s, "alice", PASSWORD) is not None
    assert len(verified) == 3  # one argon2 verification per attempt, known name or not
    assert verified[0] == service._dummy_hash()
    assert PasswordHasher().check_needs_rehash(verified[0]) is False  # same parameters


def test_old_argon2_parameters_are_upgraded_at_login(wapp: Warding) -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
    with wapp.transaction() as s:
        create_user(s, "alice", "reviewer", PASSWORD, actor="test")
        s.execute(select(User).where(User.username == "alice")).scalar_one().password_hash = \
            weak.hash(PASSWORD)
    with wapp.transaction() as s:
        assert authenticate(s, "alice", "wrong password") is None
        old = s.execute(select(User.password_hash).where(User.username == "alice")).scalar_one()
        assert PasswordHasher().check_needs_rehash(old)  # a failure changes nothing
        assert authenticate(s, "alice", PASSWORD) is not None
    with wapp.transaction() as s:
        new = s.execute(select(User.password_hash).where(User.username == "alice")).scalar_one()
    assert new != old and not PasswordHasher().check_needs_rehash(new)
    with wapp.transaction() as s:
        assert authenticate(s, "alice", PASSWORD) is not None


def test_throttle_forgets_idle_entries_when_full(monkeypatch: pytest.MonkeyPatch) -> None:
    from warding.accounts import throttle

    monkeypatch.setattr(throttle, "MAX_ENTRIES", 10)
    clock = Clock()
    t = LoginThrottle(Settings(), clock=clock)
    for i in range(30):
        t.failed(f"user{i}", None)
    assert len(t._records) <= 11


def test_set_password_resets_a_lost_admin_password(tmp_path: Path) -> None:
    cli = CLI(tmp_path)
    cli.run("init")
    created = cli.run("user", "create", "root", "--role", "admin").stdout
    assert "password (shown once)" in created
    out = cli.run("user", "set-password", "root").stdout
    new = out.split("password (shown once): ")[1].strip()
    assert len(new) >= 12
    cli.run("user", "set-password", "root", "--password-stdin", input="a brand new secret\n")
    w = Warding(Settings(database_url=cli.db, data_dir=cli.data_dir))
    try:
        with w.transaction() as s:
            assert authenticate(s, "root", new) is None
            assert authenticate(s, "root", "a brand new secret") is not None
        assert len(audit(w, "user.password_changed")) == 2
    finally:
        w.close()
    short = cli.run("user", "set-password", "root", "--password-stdin", input="short\n", code=1)
    assert "at least 12" in short.stdout + short.stderr
    missing = cli.run("user", "set-password", "nobody", code=1)
    assert "no user" in missing.stdout + missing.stderr
