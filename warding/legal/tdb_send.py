"""Send the queued statements to the DSA Transparency Database, in batches of at most 100.

:func:`send_due` is called by the web server's action worker on each run and by
``warding legal tdb-send``. Nothing is sent while ``tdb_url`` is unset: the
statements wait as ``pending`` (content stays home).

One request carries up to ``tdb_batch_size`` (<= 100) statements:
``POST tdb_url`` with ``{"statements": [...]}``, ``Authorization: Bearer
tdb_token``, ``Accept`` and ``Content-Type: application/json``. The answers
(https://transparency.dsa.ec.europa.eu/page/api-documentation):

- **201**: every statement was created: each becomes ``sent``.
- **422**: none was created. When the errors name the statements
  (``{"errors": {"statement_3": {field: [messages]}}}``) those are ``rejected``
  with the API's error text and the others are sent again at once; when the errors
  name puids the database already holds (``errors.existing_puids``, or for one
  statement ``errors.puid`` "not unique" with ``existing``) those are ``sent``:
  an earlier request got through but its answer was lost. A 422 that names
  neither is split in halves (bisection) until the bad statement stands alone,
  so one bad statement never blocks the others.
- **429**: the database asks to slow down: nothing more is sent until
  ``Retry-After`` (seconds or an HTTP date; 60 s when absent) has passed.
- **anything else** (network error, timeout, 5xx, 401/403 for a wrong token): the
  batch stays ``pending`` and is tried again after the action retry delay
  (``action_retry_base_seconds`` doubling up to ``action_retry_max_seconds``), with
  the error kept on each statement; it is never given up.

Each statement is sent once: a lease (``lease_until``/``lease_token``, taken by
one conditional UPDATE) keeps two runners from sending the same rows. A runner
killed between the request and the record leaves the rows ``pending``; when the
lease has run out they are sent again with the **same puid**, and the database,
which refuses a puid it already holds for the platform, answers that it exists:
they are then marked ``sent``. Delivery is at least once and the puid makes it
exactly once in the database.
"""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from sqlalchemy import or_, select, update

from warding.actions.executor import RetryPolicy
from warding.audit.log import record_many
from warding.db.models import utcnow
from warding.db.models_legal_tdb import TdbSubmission
from warding.db.models_review import StatementOfReasons
from warding.events import Event
from warding.legal.tdb_events import TdbStatementRejected, TdbStatementSent

log = logging.getLogger("warding.legal")

LEASE = timedelta(minutes=5)
TIMEOUT = 60.0
DEFAULT_RETRY_AFTER = 60.0
MAX_RETRY_AFTER = 86_400.0
MAX_BATCHES = 50  # per run, so one run never holds the worker for long
STATEMENT_KEY = re.compile(r"^statement_(\d+)$")


@dataclass(frozen=True)
class Item:
    id: int
    statement_id: int
    case_id: int
    puid: str
    payload: dict[str, Any]
    attempts: int


@dataclass(frozen=True)
class Reply:
    status: int | None
    body: Any = None
    retry_after: float | None = None
    error: str = ""


@dataclass
class Tally:
    configured: bool = True
    requests: int = 0
    sent: int = 0
    already_present: int = 0
    rejected: int = 0
    retry_later: int = 0
    throttled_until: str | None = None
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"configured": self.configured, "requests": self.requests, "sent": self.sent,
                "already_present": self.already_present, "rejected": self.rejected,
                "retry_later": self.retry_later, "throttled_until": self.throttled_until,
                "errors": self.errors[:10]}


def retry_after_seconds(value: str | None, now: datetime) -> float:
    if not value:
        return DEFAULT_RETRY_AFTER
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return DEFAULT_RETRY_AFTER
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - now).total_seconds()
    return min(MAX_RETRY_AFTER, max(1.0, seconds))


def post_batch(url: str, token: str | None, statements: list[dict[str, Any]],
               timeout: float = TIMEOUT) -> Reply:
    """One request to the multiple-statements endpoint; network errors become a Reply."""
    headers = {"Accept": "application/json", "Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        r = httpx.post(url, json={"statements": statements}, headers=headers, timeout=timeout)
    except httpx.HTTPError as exc:
        return Reply(None, error=f"{type(exc).__name__}: {exc}"[:500])
    try:
        body: Any = r.json()
    except ValueError:
        body = r.text[:2000]
    retry = r.headers.get("Retry-After")
    return Reply(r.status_code, body, retry_after=retry_after_seconds(retry, utcnow())
                 if r.status_code == 429 else None,
                 error=f"HTTP {r.status_code}: {_message(body)}"[:2000])


def _message(body: Any) -> str:
    if isinstance(body, dict):
        if body.get("message"):
            return str(body["message"])
        if body.get("errors"):
            return _short(body["errors"])
    return str(body)[:500]


def _short(errors: Any) -> str:
    if isinstance(errors, dict):
        return "; ".join(f"{k}: {' '.join(map(str, v)) if isinstance(v, list) else _short(v)}"
                         for k, v in errors.items())
    return str(errors)


def _claim(app: Any, now: datetime, limit: int) -> tuple[list[Item], int]:
    """Lease up to ``limit`` due statements (and say how many were due); withheld ones
    wait for their release date."""
    token = uuid.uuid4().hex
    free = or_(TdbSubmission.lease_until.is_(None), TdbSubmission.lease_until <= now)
    with app.transaction() as session:
        ids = list(session.execute(
            select(TdbSubmission.id)
            .where(TdbSubmission.status == "pending", TdbSubmission.next_attempt_at <= now, free)
            .order_by(TdbSubmission.next_attempt_at, TdbSubmission.id).limit(limit)).scalars())
        if not ids:
            return [], 0
        session.execute(update(TdbSubmission)
                        .where(TdbSubmission.id.in_(ids), TdbSubmission.status == "pending", free)
                        .values(lease_until=now + LEASE, lease_token=token)
                        .execution_options(synchronize_session=False))
        rows = list(session.execute(select(TdbSubmission).where(
            TdbSubmission.lease_token == token).order_by(TdbSubmission.id)).scalars())
        items = []
        for row in rows:
            held = _withheld_until(session.get(StatementOfReasons, row.statement_id), now)
            if held is not None:  # a removal order forbids telling anyone yet (TCO Art. 11(3))
                row.next_attempt_at, row.lease_until, row.lease_token = held, None, None
                continue
            items.append(Item(row.id, row.statement_id, row.case_id, row.puid,
                              dict(row.payload), row.attempts))
        return items, len(rows)


def _withheld_until(statement: StatementOfReasons | None, now: datetime) -> datetime | None:
    until = getattr(statement, "withheld_until", None)
    if until is None or getattr(statement, "released_at", None) is not None:
        return None
    return until if until > now else None  # type: ignore[no-any-return]


def _mark_sent(app: Any, items: list[Item], detail: str, now: datetime,
               http_status: int = 201) -> None:
    events: list[Event] = []
    with app.transaction() as session:
        for it in items:
            row = session.get(TdbSubmission, it.id)
            if row is None:
                continue
            row.status, row.sent_at, row.error, row.http_status = "sent", now, detail, http_status
            row.attempts += 1
            row.next_attempt_at = row.lease_until = row.lease_token = None
            events.append(TdbStatementSent(it.statement_id, it.case_id, it.puid,
                                           detail or "created"))
        record_many(session, events, "system")


def _reject(app: Any, it: Item, error: str) -> None:
    with app.transaction() as session:
        row = session.get(TdbSubmission, it.id)
        if row is None:
            return
        row.status, row.error, row.http_status = "rejected", error[:4000], 422
        row.attempts += 1
        row.next_attempt_at = row.lease_until = row.lease_token = None
        record_many(session, [TdbStatementRejected(it.statement_id, it.case_id, it.puid,
                                                   error[:1000])], "system")


def _reschedule(app: Any, items: list[Item], reply: Reply, now: datetime) -> None:
    policy = RetryPolicy.from_settings(app.settings)
    with app.transaction() as session:
        for it in items:
            row = session.get(TdbSubmission, it.id)
            if row is None:
                continue
            row.attempts += 1
            row.next_attempt_at = now + policy.delay(row.attempts, row.puid)
            row.error, row.http_status = reply.error or "no answer", reply.status
            row.lease_until = row.lease_token = None


def _throttle(app: Any, items: list[Item], until: datetime, reply: Reply) -> None:
    """A 429: this batch and every other pending statement wait until ``until``."""
    with app.transaction() as session:
        session.execute(update(TdbSubmission)
                        .where(TdbSubmission.status == "pending",
                               or_(TdbSubmission.next_attempt_at.is_(None),
                                   TdbSubmission.next_attempt_at < until))
                        .values(next_attempt_at=until)
                        .execution_options(synchronize_session=False))
        for it in items:
            row = session.get(TdbSubmission, it.id)
            if row is not None:
                row.error, row.http_status = reply.error, 429
                row.lease_until = row.lease_token = None


def _existing_puids(body: Any, items: list[Item]) -> set[str]:
    """Puids the database says it already holds (an earlier request got through)."""
    if not isinstance(body, dict) or not isinstance(body.get("errors"), dict):
        return set()
    errors = body["errors"]
    ours = {it.puid for it in items}
    listed = errors.get("existing_puids")
    if isinstance(listed, list):
        return {str(p) for p in listed} & ours
    puid_errors = errors.get("puid")
    if len(items) == 1 and isinstance(puid_errors, list) and len(errors) == 1 \
            and any("not unique" in str(m) for m in puid_errors):
        return ours
    return set()


def _indexed_errors(body: Any, n: int) -> dict[int, str]:
    """``statement_<i>`` errors of a 422, by position in the batch; {} if there are none."""
    if not isinstance(body, dict) or not isinstance(body.get("errors"), dict):
        return {}
    found: dict[int, str] = {}
    for key, value in body["errors"].items():
        match = STATEMENT_KEY.match(str(key))
        if match is None:
            return {}  # some error is not about one statement: bisect instead
        index = int(match.group(1))
        if index >= n:
            return {}
        found[index] = _short(value)
    return found


def _deliver(app: Any, items: list[Item], tally: Tally, now: datetime) -> bool:
    """Send ``items`` (and, after a 422, what is left of them); True means stop this run."""
    settings = app.settings
    reply = post_batch(str(settings.tdb_url), settings.tdb_token, [it.payload for it in items])
    tally.requests += 1
    if reply.status is not None and 200 <= reply.status < 300:
        _mark_sent(app, items, "", now)
        tally.sent += len(items)
        return False
    if reply.status == 429:
        until = now + timedelta(seconds=reply.retry_after or DEFAULT_RETRY_AFTER)
        _throttle(app, items, until, reply)
        tally.throttled_until = until.isoformat()
        tally.retry_later += len(items)
        return True
    if reply.status != 422:
        _reschedule(app, items, reply, now)
        tally.retry_later += len(items)
        tally.errors.append(reply.error)
        log.warning("transparency database: %s; %d statement(s) retried later", reply.error,
                    len(items))
        return True
    present = _existing_puids(reply.body, items)
    if present:
        done = [it for it in items if it.puid in present]
        _mark_sent(app, done, "already in the database (same puid)", now, 422)
        tally.already_present += len(done)
        rest = [it for it in items if it.puid not in present]
        return bool(rest) and _deliver(app, rest, tally, now)
    indexed = _indexed_errors(reply.body, len(items))
    if indexed:
        for index, error in sorted(indexed.items()):
            _reject(app, items[index], error)
            tally.rejected += 1
        rest = [it for i, it in enumerate(items) if i not in indexed]
        return bool(rest) and _deliver(app, rest, tally, now)
    if len(items) == 1:
        _reject(app, items[0], _message(reply.body))
        tally.rejected += 1
        return False
    half = len(items) // 2
    return _deliver(app, items[:half], tally, now) or _deliver(app, items[half:], tally, now)


def send_due(app: Any, *, now: datetime | None = None,
             max_batches: int = MAX_BATCHES) -> dict[str, Any]:
    """Send every due statement, batch by batch; a summary of what happened.

    ``now`` decides what is due and when a retry is next due (tests move it forward)."""
    tally = Tally()
    if not app.settings.tdb_url:
        tally.configured = False
        return tally.as_dict()
    clock = now or utcnow()
    for _ in range(max_batches):
        items, due = _claim(app, clock, int(app.settings.tdb_batch_size))
        if not due or (items and _deliver(app, items, tally, clock)):
            break
    return tally.as_dict()
