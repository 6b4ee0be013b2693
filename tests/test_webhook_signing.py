"""Webhooks follow the Standard Webhooks scheme (checked with its own Python verifier),
are refused at start-up without a secret, and honour a 429's Retry-After."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from tests.cli_helpers import CLI
from tests.test_web import make_case
from warding.actions.executor import RetryPolicy, run_pending
from warding.actions.sinks import sign
from warding.actions.webhooks import retry_after, secret_key
from warding.app import Warding
from warding.config import Settings
from warding.db.models import utcnow
from warding.db.models_intake import WebhookEvent
from warding.db.models_review import ActionSchedule
from warding.intake.outbox import deliver_due, queue_case_opened
from warding.review.decisions import DecisionInput
from warding.review.service import record_decision

SECRET = "whsec_" + base64.b64encode(b"standard-webhooks-test-key-32byt").decode()
BODY = b'{"placeholder":"neutral test payload"}'


def test_the_signature_verifies_with_the_standard_webhooks_library() -> None:
    headers = sign(SECRET, "msg_1", BODY)
    assert set(headers) == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    assert headers["webhook-signature"].startswith("v1,")
    assert Webhook(SECRET).verify(BODY, headers) == json.loads(BODY)
    with pytest.raises(WebhookVerificationError):  # a changed body
        Webhook(SECRET).verify(BODY + b" ", headers)
    with pytest.raises(WebhookVerificationError):  # another id: the id is signed too
        Webhook(SECRET).verify(BODY, {**headers, "webhook-id": "msg_2"})
    other = "whsec_" + base64.b64encode(b"another-key-of-thirty-two-bytes!").decode()
    with pytest.raises(WebhookVerificationError):
        Webhook(other).verify(BODY, headers)


def test_a_captured_request_cannot_be_replayed_later() -> None:
    old = sign(SECRET, "msg_1", BODY, now=time.time() - 3600)
    with pytest.raises(WebhookVerificationError):  # the verifier's 5-minute tolerance
        Webhook(SECRET).verify(BODY, old)
    # and the timestamp is signed: moving it forward breaks the signature
    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(BODY, {**old, "webhook-timestamp": str(int(time.time()))})


def test_secrets_are_checked() -> None:
    assert len(secret_key(SECRET)) == 32
    for bad in ("s3cret", "whsec_not*base64", "whsec_" + base64.b64encode(b"short").decode()):
        with pytest.raises(ValueError):
            secret_key(bad)


@pytest.mark.parametrize("name", ["webhook_url", "event_webhook_url", "audit_checkpoint_url"])
def test_a_webhook_url_without_a_secret_is_refused(name: str, tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(data_dir=tmp_path, **{name: "http://127.0.0.1:9/hook"})
    assert f"WARDING_{name.upper()}" in str(refused.value)
    assert "WARDING_WEBHOOK_UNSIGNED" in str(refused.value)
    Settings(data_dir=tmp_path, webhook_unsigned=True, **{name: "http://127.0.0.1:9/hook"})
    Settings(data_dir=tmp_path, webhook_secret=SECRET, **{name: "http://127.0.0.1:9/hook"})
    with pytest.raises(ValidationError) as bad:
        Settings(data_dir=tmp_path, webhook_secret="plain", **{name: "http://127.0.0.1:9/x"})
    assert "whsec_" in str(bad.value) and "plain" not in str(bad.value)  # no secret echoed


def test_the_cli_refuses_at_start_up_in_one_line(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WARDING_EVENT_WEBHOOK_URL", "http://127.0.0.1:9/hook")
    out = CLI(tmp_path).run("audit", "verify", code=2)
    assert "WARDING_WEBHOOK_SECRET" in out.stderr and "Traceback" not in out.stderr
    assert out.exception is None or isinstance(out.exception, SystemExit)


def test_unsigned_webhooks_carry_id_and_timestamp_only() -> None:
    headers = sign(None, "msg_1", BODY)
    assert set(headers) == {"webhook-id", "webhook-timestamp"}


def test_retry_after_parsing() -> None:
    assert retry_after({"retry-after": "120"}) == 120
    assert retry_after({}) is None and retry_after({"retry-after": "soon"}) is None
    later = datetime.now(UTC) + timedelta(hours=1)
    parsed = retry_after({"retry-after": format_datetime(later, usegmt=True)})
    assert parsed is not None and 3590 <= parsed <= 3601
    assert retry_after({"retry-after": "99999999999999999999"}) == 30 * 24 * 3600
    assert RetryPolicy(8, 30, 3600).delay(1, "k", 7200).total_seconds() == 7200


class Limited:
    """A receiver that answers 429 with Retry-After: 7200 (two hours)."""

    def __init__(self) -> None:
        self.calls: list[dict[str, str]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                receiver.calls.append(dict(self.headers))
                self.send_response(429)
                self.send_header("Retry-After", "7200")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def limited() -> Iterator[Limited]:
    r = Limited()
    yield r
    r.close()


def test_the_action_executor_honours_retry_after(app_factory: Callable[..., Warding],
                                                 limited: Limited) -> None:
    w = app_factory(webhook_url=limited.url, webhook_secret=SECRET, action_sinks=["webhook"],
                    action_retry_base_seconds=10.0, action_retry_max_seconds=60.0)
    case = make_case(w)
    before = utcnow()
    out = record_decision(w, case.id, DecisionInput(violating=True, category="threat",
                                                    reason="Placeholder decision."),
                          actor="t", reviewer_id=None)
    assert out["actions"][0]["status"] == "failed" and "429" in out["actions"][0]["detail"]
    with w.transaction() as session:
        schedule = session.execute(select(ActionSchedule)).scalar_one()
        assert schedule.next_attempt_at >= before + timedelta(seconds=7200)
    assert run_pending(w, now=utcnow() + timedelta(seconds=120)) == []  # backoff alone: 10 s
    assert len(limited.calls) == 1


def test_the_outbox_honours_retry_after(app_factory: Callable[..., Warding],
                                        limited: Limited) -> None:
    w = app_factory(event_webhook_url=limited.url, webhook_secret=SECRET)
    case = make_case(w)
    with w.transaction() as session:
        queue_case_opened(session, case_id=case.id, item_id=1, source="s",
                          external_id="p1", reasons=[], auto_action=False)
    clock = utcnow()
    assert deliver_due(w, now=clock) == 0
    with w.transaction() as session:
        event = session.execute(select(WebhookEvent)).scalar_one()
        assert event.status == "failed"
        assert event.next_attempt_at >= clock + timedelta(seconds=7200)
    assert deliver_due(w, now=clock + timedelta(seconds=600)) == 0
    assert len(limited.calls) == 1
    assert limited.calls[0]["webhook-id"] == limited.calls[0]["Idempotency-Key"]
