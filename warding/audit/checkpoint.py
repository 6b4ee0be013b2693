"""Audit checkpoints: the head of the hash chain, kept outside the database.

The chain (:mod:`warding.audit.log`) shows that no event was *changed*, but someone who
can write to the database can delete the newest events and the shorter chain still
verifies. A checkpoint is the head at one moment (event count, id and hash of the last
event, time), written to a file the operator keeps elsewhere (and optionally POSTed,
signed, to ``WARDING_AUDIT_CHECKPOINT_URL``). :func:`compare` fails when the log is now
shorter than the checkpoint, or its event at the checkpoint's last id has another hash
(the log diverges), or a different number of events lead up to it.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from warding.audit.log import GENESIS
from warding.db.models import AuditEvent, utcnow
from warding.errors import InvalidInput, WardingError

FORMAT = "warding-audit-checkpoint/1"
EVENT = "audit.checkpoint"
TIMEOUT = 10.0


@dataclass(frozen=True)
class Checkpoint:
    events: int  # events in the log up to and including last_id
    last_id: int | None  # id of the newest event (None: empty log)
    head_hash: str  # its hash (GENESIS for an empty log)
    taken_at: str  # ISO time, UTC
    format: str = FORMAT

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def take(session: Session) -> Checkpoint:
    """The head now. Ids grow with the chain (audit writers are serialised), so the
    events up to the last id are exactly the chain up to the head."""
    last = session.execute(select(AuditEvent.id, AuditEvent.hash)
                           .order_by(AuditEvent.id.desc()).limit(1)).first()
    if last is None:
        return Checkpoint(0, None, GENESIS, utcnow().isoformat())
    count = session.execute(select(func.count()).select_from(AuditEvent)
                            .where(AuditEvent.id <= last.id)).scalar_one()
    return Checkpoint(int(count), int(last.id), str(last.hash), utcnow().isoformat())


def write(checkpoint: Checkpoint, path: Path) -> None:
    """Write ``checkpoint`` to ``path`` atomically (a partial file is never left)."""
    data = json.dumps(checkpoint.as_json(), indent=2, sort_keys=True) + "\n"
    partial = path.with_name(path.name + ".partial")
    try:
        with partial.open("w", encoding="utf-8") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        partial.replace(path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise InvalidInput(f"{path}: cannot write the checkpoint ({exc.strerror or exc})") \
            from None


def read(path: Path) -> Checkpoint:
    """A checkpoint file, or InvalidInput naming what is wrong with it."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidInput(f"{path}: no such checkpoint file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"{path}: not a readable checkpoint ({exc})") from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise InvalidInput(f"{path}: not a Warding audit checkpoint (format {FORMAT})")
    events, last_id, head = raw.get("events"), raw.get("last_id"), raw.get("head_hash")
    if (not isinstance(events, int) or isinstance(events, bool) or events < 0
            or not (last_id is None or (isinstance(last_id, int) and last_id > 0))
            or not isinstance(head, str) or len(head) != 64
            or (last_id is None) != (events == 0)):
        raise InvalidInput(f"{path}: the checkpoint's fields are missing or inconsistent")
    return Checkpoint(events, last_id, head, str(raw.get("taken_at", "")))


def compare(session: Session, checkpoint: Checkpoint) -> str:
    """"" when the log still holds the checkpoint's chain; otherwise what is wrong."""
    if checkpoint.last_id is None:
        return ""
    total = session.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
    when = f"the checkpoint of {checkpoint.taken_at}" if checkpoint.taken_at \
        else "the checkpoint"
    row = session.get(AuditEvent, checkpoint.last_id)
    if row is None or total < checkpoint.events:
        return (f"the log is shorter than {when}: {total} events now, {checkpoint.events} "
                f"then, and its last event {checkpoint.last_id} is "
                f"{'gone' if row is None else 'still there'}: events were deleted")
    if row.hash != checkpoint.head_hash:
        return (f"the log diverges from {when}: event {checkpoint.last_id} has another hash "
                "than the checkpoint's head")
    upto = session.execute(select(func.count()).select_from(AuditEvent)
                           .where(AuditEvent.id <= checkpoint.last_id)).scalar_one()
    if upto != checkpoint.events:
        return (f"the log diverges from {when}: {upto} events up to event "
                f"{checkpoint.last_id}, {checkpoint.events} then")
    return ""


def post(url: str, secret: str | None, checkpoint: Checkpoint) -> None:
    """POST the checkpoint (an ``audit.checkpoint`` event, Standard Webhooks signed);
    WardingError when it is not accepted with a 2xx."""
    from warding.actions.sinks import sign

    key = f"warding-audit-checkpoint-{checkpoint.last_id or 0}-{checkpoint.taken_at}"
    body = json.dumps({"event": EVENT, **checkpoint.as_json()}, sort_keys=True,
                      separators=(",", ":")).encode()
    headers = {"Content-Type": "application/json", "Idempotency-Key": key,
               "X-Warding-Event": EVENT, **sign(secret, key, body)}
    try:
        response = httpx.post(url, content=body, headers=headers, timeout=TIMEOUT)
    except httpx.HTTPError as exc:
        raise WardingError(f"the checkpoint was not delivered to "
                           f"WARDING_AUDIT_CHECKPOINT_URL: {exc or type(exc).__name__}") from None
    if not 200 <= response.status_code < 300:
        raise WardingError(f"the checkpoint was not delivered to WARDING_AUDIT_CHECKPOINT_URL: "
                           f"it answered {response.status_code}")
