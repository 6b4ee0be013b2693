"""Every role is refused what it may not do, through the console and through the API.

One table per surface lists each page or endpoint with the permission it needs
(warding/accounts/roles.py). Each role calls every entry: without the permission the
answer must be 403 and nothing may change; with it, anything but 401/403. Afterwards
the audit log shows that refused roles changed nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.test_web import PASSWORD, api_key, csrf_of, make_case, png_bytes
from warding.accounts.roles import ROLES, allowed
from warding.accounts.service import create_user
from warding.app import Warding
from warding.banks.service import create_bank
from warding.db.models import AuditEvent, User
from warding.review.decisions import DecisionInput
from warding.review.service import record_decision
from warding.web.factory import create_app

Entry = tuple[str, str, str, dict[str, Any]]  # method, path, permission, request kwargs


@pytest.fixture(autouse=True)
def fast_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cheaper argon2 parameters: these tests log in as every role many times."""
    monkeypatch.setattr("warding.accounts.service._hasher",
                        lambda: PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1))


@pytest.fixture
def world(app_factory: Callable[..., Warding]) -> tuple[Warding, dict[str, Any]]:
    w = app_factory(action_sinks=["log", "notify_uploader"])
    with w.transaction() as session:
        for role in ROLES:
            create_user(session, role, role, PASSWORD, actor="test")
        create_user(session, "target", "reviewer", PASSWORD, actor="test")
        create_bank(session, "demo", actor="test")
    decided = make_case(w, "decided")
    record_decision(w, decided.id, DecisionInput(violating=True, category="threat",
                                                 reason="Placeholder decision."),
                    actor="test", reviewer_id=None)
    open_case = make_case(w, "open")
    with w.transaction() as session:
        from warding.actions.delivery import list_actions
        from warding.actions.notice import list_statements

        action = list_actions(session, case_id=decided.id)[0]["id"]
        statement = list_statements(session, case_id=decided.id)[0]["id"]
    return w, {"open": open_case.id, "decided": decided.id, "sha": open_case.image_sha,
               "action": action, "statement": statement}


def console_table(ids: dict[str, Any]) -> list[Entry]:
    c, d = ids["open"], ids["decided"]
    decision = {"violating": "no", "reason": "Placeholder reason.", "exemption": "none",
                "kind": "decision"}
    return [
        ("GET", "/", "view_cases", {}),
        ("GET", "/help", "view_cases", {}),
        ("GET", f"/cases/{c}", "view_cases", {}),
        ("POST", "/next", "decide", {}),
        ("GET", "/break", "decide", {}),
        ("POST", f"/cases/{c}/claim", "decide", {}),
        ("POST", f"/cases/{c}/release", "decide", {}),
        ("POST", f"/cases/{c}/escalate", "decide", {"data": {"reason": "Second look."}}),
        ("POST", f"/cases/{c}/decide", "decide", {"data": decision}),
        ("POST", f"/cases/{d}/decide", "decide", {"data": {**decision, "kind": "appeal"}}),
        ("GET", f"/media/{ids['sha']}", "view_media", {}),
        ("GET", "/settings", "own_settings", {}),
        ("POST", "/settings", "own_settings", {"data": {"blur": "on", "greyscale": "on",
                                                         "mute_audio": "on",
                                                         "break_after_items": "40",
                                                         "break_after_minutes": "50"}}),
        ("POST", "/wellness/break", "own_settings", {}),
        ("GET", "/actions", "view_actions", {}),
        ("GET", "/actions?status=dead", "view_actions", {}),
        ("GET", f"/actions/{ids['action']}", "view_actions", {}),
        ("POST", f"/actions/{ids['action']}/retry", "manage_actions", {}),
        ("GET", f"/statements/{ids['statement']}", "view_statements", {}),
        ("GET", "/admin/users", "manage_users", {}),
        ("POST", "/admin/users", "manage_users", {"data": {"username": "newbie",
                                                           "role": "reviewer",
                                                           "password": PASSWORD}}),
        ("POST", "/admin/users/target/role", "manage_users", {"data": {"role": "analyst"}}),
        ("POST", "/admin/users/target/active", "manage_users", {"data": {"active": "yes"}}),
        ("GET", "/audit", "view_audit", {}),
    ]


def api_table(ids: dict[str, Any]) -> list[Entry]:
    c, d = ids["open"], ids["decided"]
    return [
        ("GET", "/api/cases", "view_cases", {}),
        ("GET", f"/api/cases/{c}", "view_cases", {}),
        ("GET", f"/api/cases/{c}/copies", "view_cases", {}),
        ("POST", "/api/cases/next", "decide", {}),
        ("POST", f"/api/cases/{c}/claim", "decide", {}),
        ("POST", f"/api/cases/{c}/release", "decide", {}),
        ("POST", f"/api/cases/{c}/decision", "decide",
         {"json": {"violating": False, "reason": "Placeholder reason."}}),
        ("POST", f"/api/cases/{d}/decision", "decide",
         {"json": {"violating": False, "reason": "On appeal.", "kind": "appeal"}}),
        ("POST", f"/api/cases/{c}/bulk-decision", "decide",
         {"json": {"violating": False, "reason": "Placeholder reason.", "copies": []}}),
        ("GET", f"/media/{ids['sha']}", "view_media", {}),
        ("GET", "/api/banks", "view_banks", {}),
        ("GET", "/api/banks/demo", "view_banks", {}),
        ("POST", "/api/banks", "manage_banks", {"json": {"name": "another"}}),
        ("POST", "/api/banks/demo/entries", "manage_banks",
         {"json": {"hashes": [{"type": "md5", "value": "0" * 32}]}}),
        ("POST", "/api/match", "match", {"json": {"url": "https://example.invalid/x"}}),
        ("POST", "/api/hash", "match", {"files": {"file": ("a.png", png_bytes(), "image/png")}}),
        ("POST", "/api/classify", "classify", {"json": {"text": "Placeholder text."}}),
        ("POST", "/api/items", "scan",
         {"json": {"source": "authz", "items": [{"id": "a1", "text": "Placeholder text."}]}}),
        ("POST", "/api/items/upload", "scan",
         {"data": {"source": "authz", "id": "u1"},
          "files": {"file": ("a.png", png_bytes(), "image/png")}}),
        ("GET", "/api/items/authz/a1", "scan", {}),
        ("GET", "/api/actions", "view_actions", {}),
        ("GET", "/api/actions/attempts", "view_actions", {}),
        ("GET", f"/api/actions/{ids['action']}", "view_actions", {}),
        ("POST", f"/api/actions/{ids['action']}/retry", "manage_actions", {}),
        ("POST", "/api/actions/run", "manage_actions", {}),
        ("GET", "/api/statements", "view_statements", {}),
        ("GET", f"/api/statements/{ids['statement']}", "view_statements", {}),
        ("GET", "/api/users", "manage_users", {}),
        ("POST", "/api/users", "manage_users",
         {"json": {"username": "apinewbie", "role": "analyst", "password": PASSWORD}}),
        ("PATCH", "/api/users/target", "manage_users", {"json": {"role": "analyst"}}),
        ("GET", "/api/me/settings", "own_settings", {}),
        ("PATCH", "/api/me/settings", "own_settings", {"json": {"break_after_items": 30}}),
        ("GET", "/api/me/wellness", "own_settings", {}),
        ("POST", "/api/me/break", "own_settings", {}),
        ("GET", "/api/audit/verify", "view_audit", {}),
        ("GET", "/api/audit/events", "view_audit", {}),
        # the HMA-compatible API (issue 13)
        ("GET", "/c/banks", "view_banks", {}),
        ("GET", "/c/bank/demo", "view_banks", {}),
        ("GET", "/c/exchanges", "view_banks", {}),
        ("POST", "/c/bank/demo/signal", "manage_banks", {"json": {"pdq": "0" * 64}}),
        ("GET", "/m/raw_lookup", "match", {"params": {"signal_type": "pdq", "signal": "0" * 64}}),
        ("POST", "/m/compare", "match", {"json": {"pdq": ["0" * 64, "f" * 64]}}),
        ("POST", "/h/hash", "match", {"files": {"photo": ("a.png", png_bytes(), "image/png")}}),
    ]


def _console_login(client: TestClient, username: str) -> str:
    token = csrf_of(client.get("/login").text)
    r = client.post("/login", data={"username": username, "password": PASSWORD,
                                    "csrf_token": token, "next": "/"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return csrf_of(client.get("/login").text)


# Audit event types a role may author when it did nothing it was refused.
HARMLESS = {"auth.login", "auth.logout", "user.settings_changed"}


def _authored(w: Warding, username: str) -> set[str]:
    with w.transaction() as session:
        return set(session.execute(select(AuditEvent.event_type)
                                   .where(AuditEvent.actor == username)).scalars())


def test_console_refuses_each_role_what_it_may_not_do(
        world: tuple[Warding, dict[str, Any]]) -> None:
    w, ids = world
    app = create_app(w)
    problems: list[str] = []
    for role in ROLES:
        with TestClient(app) as client:
            token = _console_login(client, role)
            for method, path, permission, kwargs in console_table(ids):
                data = dict(kwargs.get("data") or {}, csrf_token=token)
                r = client.request(method, path, data=data if method == "POST" else None,
                                   follow_redirects=False)
                may = allowed(role, permission)
                if may and r.status_code in (401, 403):
                    problems.append(f"{role} {method} {path}: refused ({r.status_code})")
                if not may and r.status_code != 403:
                    problems.append(f"{role} {method} {path}: {r.status_code}, expected 403")
                if not may and r.status_code == 403 and "may not" not in r.text:
                    problems.append(f"{role} {method} {path}: the refusal does not say why")
    assert problems == []
    for role in ("analyst", "api"):
        assert _authored(w, role) <= HARMLESS, (role, _authored(w, role))
    assert _authored(w, "reviewer") & {"user.role_changed", "user.created",
                                       "action.requeued", "user.active_changed"} == set()


def test_api_refuses_each_role_what_it_may_not_do(world: tuple[Warding, dict[str, Any]]) -> None:
    w, ids = world
    client = TestClient(create_app(w))
    problems: list[str] = []
    for role in ROLES:
        headers = api_key(w, role)
        for method, path, permission, kwargs in api_table(ids):
            r = client.request(method, path, headers=headers, **kwargs)
            may = allowed(role, permission)
            if may and r.status_code in (401, 403):
                problems.append(f"{role} {method} {path}: refused ({r.status_code}) {r.text}")
            if not may:
                if r.status_code != 403:
                    problems.append(f"{role} {method} {path}: {r.status_code}, expected 403")
                elif "may not" not in r.json()["detail"]:
                    problems.append(f"{role} {method} {path}: the refusal does not say why")
    client.close()
    assert problems == []
    assert _authored(w, "analyst") <= HARMLESS
    assert _authored(w, "api") <= HARMLESS | {"bank.created", "bank.entries_added"}  # allowed
    with w.transaction() as session:
        target = session.execute(select(User).where(User.username == "target")).scalar_one()
        assert target.role == "analyst"  # the admin's PATCH (allowed) went through


def test_anonymous_gets_nothing(world: tuple[Warding, dict[str, Any]]) -> None:
    w, ids = world
    client = TestClient(create_app(w))
    for method, path, _, kwargs in api_table(ids):
        r = client.request(method, path, **kwargs)
        assert r.status_code == 401, (method, path, r.status_code)
    for method, path, _, kwargs in console_table(ids):
        if method == "GET":
            r = client.get(path, follow_redirects=False)
            expected = 401 if path.startswith("/media/") else 303
            assert r.status_code == expected, (path, r.status_code)
            if expected == 303:
                assert r.headers["location"].startswith("/login")
    client.close()


def test_scoped_api_keys_do_less_than_their_role(world: tuple[Warding, dict[str, Any]],
                                                 tmp_path: Any) -> None:
    from tests.cli_helpers import CLI
    from warding.accounts.service import create_api_key
    from warding.errors import InvalidInput

    w, ids = world
    with w.transaction() as session:
        key = create_api_key(session, "admin", actor="test",
                             scopes=["view_statements", "match"])
        with pytest.raises(InvalidInput, match="does not have decide"):
            create_api_key(session, "analyst", actor="test", scopes=["decide"])
    headers = {"Authorization": f"Bearer {key}"}
    client = TestClient(create_app(w))
    assert client.get(f"/api/statements/{ids['statement']}", headers=headers).status_code == 200
    assert client.post("/api/match", headers=headers, json={"url": "https://x.invalid/"}) \
        .status_code == 200
    refused = client.get("/api/cases", headers=headers)
    assert refused.status_code == 403 and "scope view_cases" in refused.json()["detail"]
    assert client.get("/api/users", headers=headers).status_code == 403
    client.close()
    with w.transaction() as session:
        event = session.execute(select(AuditEvent).where(
            AuditEvent.event_type == "user.api_key_created")
            .order_by(AuditEvent.id.desc())).scalars().first()
        assert event is not None and event.data["scopes"] == ["match", "view_statements"]
    cli = CLI(tmp_path, db=w.settings.database_url)
    cli.data_dir = w.settings.data_dir
    out = cli.run("user", "api-key", "api", "--scope", "match", "--scope", "view_banks")
    assert out.stdout.startswith("wd_")
    assert "scopes must be among" in cli.run("user", "api-key", "api", "--scope", "decide",
                                             code=1).stderr


def test_every_api_endpoint_is_in_the_openapi_document(
        world: tuple[Warding, dict[str, Any]]) -> None:
    w, ids = world
    spec = TestClient(create_app(w)).get("/openapi.json").json()
    names = {"cases": "{case_id}", "actions": "{action_id}", "statements": "{statement_id}",
             "banks": "{name}", "users": "{username}"}
    for method, path, _, _ in api_table(ids):
        if path.startswith("/media/"):
            continue
        parts = path.split("?")[0].replace("/c/bank/demo", "/c/bank/{bank_name}").split("/")
        if len(parts) > 3 and parts[2] in names and parts[3] not in ("next", "attempts", "run"):
            parts[3] = names[parts[2]]
        if len(parts) == 5 and parts[2] == "items":
            parts[3:] = ["{source}", "{external_id}"]
        template = "/".join(parts)
        assert template in spec["paths"], template
        assert method.lower() in spec["paths"][template], (method, template)
