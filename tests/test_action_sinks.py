"""Contract for every action sink, and the webhook's signature, retries and idempotency."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook

from warding.actions.base import ActionOutcome, ActionRequest, ActionSink
from warding.actions.executor import run_pending
from warding.actions.sinks import WebhookSink
from warding.db.models import Action, BankEntry, ContentItem, utcnow
from warding.demo import content
from warding.pipeline.scan import scan_paths
from warding.plugins import action_sink_classes
from warding.review.decisions import DecisionInput
from warding.review.service import record_decision

SECRET = "whsec_czNjcmV0LS0tLS0tLS0tLS0tLS0tLS0tLS0tLS0tLS0="  # Standard Webhooks format: whsec_ + base64 of 32 bytes

REQUEST = ActionRequest(idempotency_key="k1", case_id=1, decision_id=1, violating=False,
                        category=None, reason="test", exemption=None, automated=False,
                        item={"source": "s", "external_id": "e"})


class _App:
    """Just enough of an app for sinks that read settings."""

    class settings:  # noqa: N801
        webhook_url = None
        webhook_secret = None


@pytest.mark.parametrize("cls", list(action_sink_classes().values()),
                         ids=list(action_sink_classes()))
def test_sink_contract(cls: type[ActionSink]) -> None:
    assert re.fullmatch(r"[a-z][a-z0-9_]*", cls.name)
    assert cls.description
    sink = cls.create(_App())
    assert isinstance(sink, ActionSink)
    outcome = sink.execute(REQUEST)  # not violating: every sink may act or skip, never raise
    assert isinstance(outcome, ActionOutcome)
    assert outcome.status in ("done", "failed", "skipped")


class Receiver:
    def __init__(self, fail_first: int) -> None:
        self.fail_first = fail_first
        self.calls: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.calls.append((dict(self.headers), body))
                status = 503 if len(receiver.calls) <= receiver.fail_first else 200
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver(fail_first=1)
    yield r
    r.close()


def test_webhook_signed_retried_once_delivered(app_factory: Any, receiver: Receiver,
                                               tmp_path: Path) -> None:
    app = app_factory(webhook_url=receiver.url, webhook_secret=SECRET,
                      action_sinks=["log", "webhook", "add_to_bank"])
    posts = tmp_path / "p.jsonl"
    posts.write_text(json.dumps({"id": "1", "text": "x"}) + "\n", encoding="utf-8")
    scan_paths(app, [posts], "s")
    with app.transaction() as session:
        from warding.cases.routing import open_case

        item = session.execute(select(ContentItem)).scalar_one()
        case = open_case(session, item, [{"kind": "classifier", "score": 0.99}], "test")
        assert case is not None
        case_id = case.id
    out = record_decision(app, case_id, DecisionInput(
        violating=True, category="threat", reason="test decision"), actor="t", reviewer_id=None)
    statuses = {a["sink"]: a["status"] for a in out["actions"]}
    assert statuses["webhook"] == "failed"  # the receiver refused the first attempt
    assert statuses["log"] == "done" and statuses["add_to_bank"] == "done"
    assert run_pending(app) == []  # the retry waits for its backoff
    later = utcnow() + timedelta(hours=2)
    retried = run_pending(app, now=later)
    assert [r["status"] for r in retried] == ["done"]
    assert run_pending(app, now=later) == []  # nothing left: delivered exactly once
    assert len(receiver.calls) == 2
    headers, body = receiver.calls[-1]
    Webhook(SECRET).verify(body, headers)  # what the platform runs
    assert headers["webhook-id"] == headers["Idempotency-Key"]
    assert headers["Idempotency-Key"] == receiver.calls[0][0]["Idempotency-Key"]
    payload = json.loads(body)
    assert payload["action"] == "remove" and payload["category"] == "threat"
    with app.transaction() as session:
        action = session.execute(select(Action).where(Action.sink == "webhook")).scalar_one()
        assert action.attempts == 2 and action.status == "done"
        entry = session.execute(select(BankEntry)).scalar_one()  # add_to_bank: re-uploads caught
        assert entry.provenance.startswith(f"warding:case:{case_id}")


def test_webhook_without_url_sends_nothing() -> None:
    assert WebhookSink(None).execute(REQUEST).status == "skipped"


def test_reupload_caught_after_add_to_bank(app_factory: Any, tmp_path: Path) -> None:
    app = app_factory(action_sinks=["add_to_bank"])
    img = tmp_path / "a.png"
    img.write_bytes(content.png_bytes(content.make_image(5)))
    scan_paths(app, [img], "s")
    with app.transaction() as session:
        from warding.cases.routing import open_case

        item = session.execute(select(ContentItem)).scalar_one()
        case = open_case(session, item, [{"kind": "classifier", "score": 0.9}], "test")
        assert case is not None
        case_id = case.id
    record_decision(app, case_id, DecisionInput(violating=True, category="threat", reason="r"),
                    actor="t", reviewer_id=None)
    again = tmp_path / "again"
    again.mkdir()
    (again / "b.png").write_bytes(content.png_bytes(content.make_image(5)))
    summary = scan_paths(app, [again], "other-source")
    assert summary.cases_opened == 1 and summary.matches >= 1
