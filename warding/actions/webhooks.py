"""Webhook signing (the Standard Webhooks scheme) and the start-up check of webhook settings.

Every webhook Warding sends (action requests, ``case.opened`` events, audit checkpoints)
carries the headers of https://www.standardwebhooks.com/:

- ``webhook-id``: the message id, the same on every retry (Warding uses the idempotency
  key, which is also sent as ``Idempotency-Key``);
- ``webhook-timestamp``: when this attempt was sent, in integer Unix seconds;
- ``webhook-signature``: ``v1,<base64 of HMAC-SHA256(key, "<id>.<timestamp>.<body>")>``.

The secret (``WARDING_WEBHOOK_SECRET``) has the scheme's format, ``whsec_<base64 of 24 to
64 random bytes>``; the key is the decoded bytes. Receivers verify with the scheme's
libraries (e.g. ``standardwebhooks.Webhook(secret).verify(body, headers)``), which also
refuse a timestamp more than five minutes from their clock, so a captured request cannot
be replayed later; the id lets them drop a replay within those minutes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

SECRET_PREFIX = "whsec_"
MIN_KEY_BYTES = 24
MAX_KEY_BYTES = 64
#: The longest Retry-After honoured, in seconds (a longer one is cut to this).
MAX_RETRY_AFTER = 30 * 24 * 3600.0
#: Settings holding URLs that receive signed webhooks.
WEBHOOK_URL_SETTINGS = ("webhook_url", "event_webhook_url", "audit_checkpoint_url",
                        "law_enforcement_webhook_url")


def secret_key(secret: str) -> bytes:
    """The HMAC key of a ``whsec_<base64>`` secret; ValueError names what is wrong."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError("WARDING_WEBHOOK_SECRET must have the Standard Webhooks format "
                         "whsec_<base64 of 24 to 64 random bytes> (generate one with: python "
                         "-c \"import base64,secrets; print('whsec_' + "
                         "base64.b64encode(secrets.token_bytes(32)).decode())\")")
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX):], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"WARDING_WEBHOOK_SECRET: the part after whsec_ is not base64 "
                         f"({exc})") from None
    if not MIN_KEY_BYTES <= len(key) <= MAX_KEY_BYTES:
        raise ValueError(f"WARDING_WEBHOOK_SECRET: the key is {len(key)} bytes; the Standard "
                         f"Webhooks scheme wants {MIN_KEY_BYTES} to {MAX_KEY_BYTES}")
    return key


def signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256 of "id.timestamp.body">``."""
    mac = hmac.new(secret_key(secret), f"{msg_id}.{timestamp}.".encode() + body,
                   hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode("ascii")


def signed_headers(secret: str | None, msg_id: str, body: bytes,
                   now: float | None = None) -> dict[str, str]:
    """The Standard Webhooks headers of one attempt (no signature when unsigned)."""
    timestamp = int(time.time() if now is None else now)
    headers = {"webhook-id": msg_id, "webhook-timestamp": str(timestamp)}
    if secret:
        headers["webhook-signature"] = signature(secret, msg_id, timestamp, body)
    return headers


def check_settings(settings: Any) -> None:
    """Refuse (ValueError) a webhook URL without a usable secret, unless
    ``webhook_unsigned`` says unsigned webhooks are wanted."""
    urls = [name for name in WEBHOOK_URL_SETTINGS if getattr(settings, name, None)]
    secret = getattr(settings, "webhook_secret", None)
    if secret:
        secret_key(secret)
    elif urls and not getattr(settings, "webhook_unsigned", False):
        named = ", ".join(f"WARDING_{n.upper()}" for n in urls)
        raise ValueError(f"{named} is set but WARDING_WEBHOOK_SECRET is not: webhooks are "
                         "signed (Standard Webhooks). Set a whsec_ secret, or set "
                         "WARDING_WEBHOOK_UNSIGNED=true to send them unsigned on purpose")


def retry_after(headers: Any, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta seconds or an HTTP date);
    None when absent or unreadable. At most :data:`MAX_RETRY_AFTER`."""
    value = str(headers.get("retry-after", "") or "").strip()
    if not value:
        return None
    if value.isdigit():
        seconds = float(int(value[:12]))
    else:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        clock = datetime.now(UTC).timestamp() if now is None else now
        seconds = when.timestamp() - clock
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)
