"""Audit checkpoints: deleting the newest audit events is caught against a checkpoint."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, select, update

from tests.cli_helpers import CLI
from warding.app import Warding
from warding.audit.checkpoint import compare, read, take, write
from warding.audit.log import record
from warding.db.models import AuditEvent
from warding.errors import InvalidInput
from warding.events import LoginFailed


def _add(w: Warding, n: int) -> None:
    with w.transaction() as session:
        for i in range(n):
            record(session, LoginFailed(f"placeholder-{i}"), "test")


def _cli(w: Warding, tmp_path: Path) -> CLI:
    cli = CLI(tmp_path, db=w.settings.database_url)
    cli.data_dir = w.settings.data_dir
    return cli


def test_truncation_is_caught_only_with_a_checkpoint(wapp: Warding, tmp_path: Path) -> None:
    _add(wapp, 5)
    cli = _cli(wapp, tmp_path)
    out = tmp_path / "head.json"
    taken = cli.json("audit", "checkpoint", "--out", str(out), "--json")
    saved = json.loads(out.read_text())
    assert saved["events"] == taken["events"] >= 6 and saved["last_id"] == taken["last_id"]
    _add(wapp, 3)  # the log grows after the checkpoint: still fine
    assert cli.json("audit", "verify", "--checkpoint", str(out), "--json")["ok"] is True
    with wapp.transaction() as session:  # an attacker deletes the newest rows...
        newest = session.execute(select(func.max(AuditEvent.id))).scalar_one()
        session.execute(delete(AuditEvent).where(AuditEvent.id > newest - 5))
    assert cli.json("audit", "verify", "--json")["ok"] is True  # ...the chain alone is fine
    bad = cli.run("audit", "verify", "--checkpoint", str(out), code=1)
    assert "shorter than the checkpoint" in bad.stderr and "deleted" in bad.stderr
    report = cli.json("audit", "verify", "--checkpoint", str(out), "--json", code=1)
    assert report["ok"] is False and not report["checkpoints"][0]["ok"]


def test_a_rewritten_log_diverges(wapp: Warding, tmp_path: Path) -> None:
    _add(wapp, 3)
    with wapp.transaction() as session:
        head = take(session)
    write(head, tmp_path / "cp.json")
    assert read(tmp_path / "cp.json") == head
    with wapp.transaction() as session:  # replace the head event by another one, chain kept
        session.execute(delete(AuditEvent).where(AuditEvent.id == head.last_id))
        record(session, LoginFailed("someone-else"), "test")
        new_id = session.execute(select(func.max(AuditEvent.id))).scalar_one()
        session.execute(update(AuditEvent).where(AuditEvent.id == new_id)
                        .values(id=head.last_id))
    with wapp.transaction() as session:
        assert "diverges" in compare(session, head)


def test_checkpoint_files_are_checked(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    for text in ("not json", "[]", json.dumps({"format": "other"}),
                 json.dumps({"format": "warding-audit-checkpoint/1", "events": 3,
                             "last_id": None, "head_hash": "0" * 64})):
        bad.write_text(text)
        with pytest.raises(InvalidInput):
            read(bad)
    with pytest.raises(InvalidInput):
        read(tmp_path / "missing.json")


def test_checkpoint_on_postgresql(pg_app: Warding, tmp_path: Path) -> None:
    _add(pg_app, 4)
    with pg_app.transaction() as session:
        head = take(session)
    with pg_app.transaction() as session:
        assert compare(session, head) == ""
        session.execute(delete(AuditEvent).where(AuditEvent.id == head.last_id))
    with pg_app.transaction() as session:
        assert "shorter" in compare(session, head)


def test_a_checkpoint_is_also_posted_signed(app_factory: Any, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from standardwebhooks.webhooks import Webhook

    from tests.test_action_sinks import SECRET, Receiver

    receiver = Receiver(fail_first=0)
    monkeypatch.setenv("WARDING_WEBHOOK_SECRET", SECRET)
    try:
        monkeypatch.setenv("WARDING_AUDIT_CHECKPOINT_URL", receiver.url)
        w = app_factory()
        _add(w, 2)
        cli = _cli(w, tmp_path)
        out = tmp_path / "cp.json"
        assert cli.json("audit", "checkpoint", "--out", str(out), "--json")["posted"] is True
        (headers, body), = receiver.calls
        event = Webhook(SECRET).verify(body, headers)
        assert event["event"] == "audit.checkpoint"
        assert event["head_hash"] == json.loads(out.read_text())["head_hash"]
    finally:
        receiver.close()
    failing = Receiver(fail_first=5)
    try:
        monkeypatch.setenv("WARDING_AUDIT_CHECKPOINT_URL", failing.url)
        w = app_factory()
        said = _cli(w, tmp_path).run("audit", "checkpoint", "--out", str(tmp_path / "b.json"),
                                     code=1)
        assert "not delivered" in said.stderr and (tmp_path / "b.json").exists()
    finally:
        failing.close()
