"""Built-in action sinks: the log, a signed webhook to the platform, and add-to-bank."""

from __future__ import annotations

import json
from typing import Any, ClassVar

import httpx

from warding.actions.base import ActionOutcome, ActionRequest, ActionSink, AppSink
from warding.actions.webhooks import retry_after, signed_headers


class LogSink(ActionSink):
    """Records the action in Warding's own action log and does nothing else."""

    name: ClassVar[str] = "log"
    description: ClassVar[str] = "Record the outcome in Warding's action log only."

    def execute(self, request: ActionRequest) -> ActionOutcome:
        verb = "remove" if request.violating else "keep"
        return ActionOutcome("done", f"recorded: {verb}")


RETRYABLE_4XX = frozenset({408, 425, 429})


def sign(secret: str | None, msg_id: str, body: bytes,
         now: float | None = None) -> dict[str, str]:
    """The Standard Webhooks headers (``webhook-id``, ``webhook-timestamp`` and, with a
    secret, ``webhook-signature``) of one attempt: see :mod:`warding.actions.webhooks`."""
    return signed_headers(secret, msg_id, body, now)


class WebhookSink(ActionSink):
    """POSTs the decision to the platform, signed by the Standard Webhooks scheme.

    Headers: ``webhook-id`` (= ``Idempotency-Key``), ``webhook-timestamp`` and
    ``webhook-signature`` (HMAC-SHA256 of id, timestamp and body). Nothing leaves the
    machine unless ``webhook_url`` is set. Failures are retried with backoff by the
    executor, no earlier than a 429's or 503's ``Retry-After``; a receiver that already
    acted on an ``Idempotency-Key`` should answer 2xx again without acting.
    """

    name: ClassVar[str] = "webhook"
    description: ClassVar[str] = "POST a signed JSON action request to the platform's webhook."

    def __init__(self, url: str | None = None, secret: str | None = None,
                 timeout: float = 10.0) -> None:
        self.url = url
        self.secret = secret or None
        self.timeout = timeout

    @classmethod
    def create(cls, app: Any) -> ActionSink:
        return cls(app.settings.webhook_url, app.settings.webhook_secret)

    def payload(self, request: ActionRequest) -> bytes:
        body = {
            "idempotency_key": request.idempotency_key,
            "action": "remove" if request.violating else "restore",
            "case_id": request.case_id,
            "decision_id": request.decision_id,
            "violating": request.violating,
            "category": request.category,
            "reason": request.reason,
            "exemption": request.exemption,
            "automated": request.automated,
            "item": request.item,
            "kind": request.kind,
            "supersedes_decision_id": request.supersedes_decision_id,
        }
        if request.context:  # a removal order or a complaint: measure, reference, preserve
            body["context"] = request.context
        return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()

    def execute(self, request: ActionRequest) -> ActionOutcome:
        if not self.url:
            return ActionOutcome("skipped", "no webhook_url configured")
        body = self.payload(request)
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": request.idempotency_key,
            **sign(self.secret, request.idempotency_key, body),
        }
        try:
            response = httpx.post(self.url, content=body, headers=headers, timeout=self.timeout)
        except httpx.HTTPError as exc:
            return ActionOutcome("failed", f"webhook unreachable: {exc or type(exc).__name__}")
        code = response.status_code
        if 200 <= code < 300:
            return ActionOutcome("done", f"webhook answered {code}", http_status=code)
        # A 4xx other than timeout / too early / rate limit means the platform refuses this
        # request for good: retrying cannot help, so it goes to the dead-letter list at once.
        retry = not (400 <= code < 500) or code in RETRYABLE_4XX
        wait = retry_after(response.headers) if code in (429, 503) else None
        return ActionOutcome("failed", f"webhook answered {code}", http_status=code, retry=retry,
                             retry_after=wait)


class AddToBankSink(AppSink):
    """Adds confirmed violating material to the bank ``confirmed`` so re-uploads are caught.

    When an appeal reverses the decision, the entries the case added are disabled
    (kept, for the history) so the material no longer matches."""

    name: ClassVar[str] = "add_to_bank"
    description: ClassVar[str] = "Add the signals of confirmed violating items to the 'confirmed' bank."
    bank_name: ClassVar[str] = "confirmed"

    def execute(self, request: ActionRequest) -> ActionOutcome:
        if self.app is None:
            return ActionOutcome("failed", "sink has no app")
        from warding.actions.to_bank import add_item_to_bank, remove_item_from_bank

        if not request.violating:
            if request.kind == "appeal":
                # A reversal: what this case put in the bank must stop matching.
                removed = remove_item_from_bank(self.app, request.case_id, self.bank_name,
                                                request)
                return ActionOutcome("done", f"{removed} entr{'y' if removed == 1 else 'ies'} "
                                             f"of bank {self.bank_name!r} disabled on appeal")
            return ActionOutcome("skipped", "not violating: nothing to add")
        added = add_item_to_bank(self.app, request.case_id, self.bank_name, request)
        return ActionOutcome("done", f"{added} signal(s) added to bank {self.bank_name!r}")
