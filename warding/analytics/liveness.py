"""Liveness re-checks: is an item's URL (or an account's profile URL) still online?

This is the only part of the analytics that contacts other machines, and it does so
only when an operator runs ``warding liveness check``: never on a schedule, never from
the web app. It is polite by construction: at most ``concurrency`` requests at once,
at most ``rate`` requests per second to any one host, a ``timeout`` for each request,
at most ``max_redirects`` redirects, a plain ``User-Agent`` naming Warding, and only
the response headers are read (the body is never downloaded or stored). Every request goes
through the outbound guard (:mod:`warding.outbound.guard`): each hop of a redirect and
every address a name resolves to is checked, and the connection goes to the checked
address, so addresses on this machine or private networks are refused unless
``allow_private`` is set (a post's URL must not make Warding probe the operator's own
network).

Each check becomes one :class:`~warding.db.models_analytics.LivenessObservation`:

* ``online``: a 2xx answer (after redirects) that is not a known removal page;
* ``gone``: 404, 410 or 451, or a redirect to a known removal page (e.g. a platform's
  "account suspended" page, :data:`GONE_PATHS`);
* ``error``: anything else (401/403/429/5xx, timeouts, refused connections, a URL that
  is not http(s)): the state is unknown and the survival measure ignores it.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import urlsplit

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from warding import __version__
from warding.analytics.common import StatsFilter, stream_items
from warding.audit.log import record
from warding.db.models import utcnow
from warding.db.models_analytics import LivenessObservation
from warding.errors import InvalidInput
from warding.events import Event
from warding.outbound.guard import OutboundGuard, OutboundRefused, Policy, Resolver

GONE_STATUSES = frozenset({404, 410, 451})
# Final paths (after redirects) that platforms use to say an account or post was removed.
GONE_PATHS = ("/account/suspended", "/account/removed")
USER_AGENT = f"Warding/{__version__} (liveness re-check)"
BATCH = 200


@dataclass(frozen=True)
class Target:
    subject: str  # item | account
    url: str
    source: str
    account: str | None = None
    item_id: int | None = None


@dataclass(frozen=True)
class Observation:
    target: Target
    status: str  # online | gone | error
    http_status: int | None
    detail: str
    checked_at: datetime


@dataclass(frozen=True)
class LivenessChecked(Event):
    type: ClassVar[str] = "liveness.checked"
    subject_kind: str
    checked: int
    online: int
    gone: int
    error: int

    def subject(self) -> str:
        return f"liveness:{self.subject_kind}"


@dataclass(frozen=True)
class Politeness:
    concurrency: int = 4
    timeout: float = 10.0
    rate: float = 1.0  # requests per second per host
    max_redirects: int = 5
    allow_private: bool = False
    user_agent: str = USER_AGENT

    def validate(self) -> None:
        if not 1 <= self.concurrency <= 32:
            raise InvalidInput("--concurrency must be between 1 and 32")
        if not 0 < self.timeout <= 120:
            raise InvalidInput("--timeout must be between 0 and 120 seconds")
        if not 0 < self.rate <= 10:
            raise InvalidInput("--rate must be between 0 and 10 requests per second per host")


def classify_response(status_code: int, final_url: str) -> tuple[str, str]:
    """(status, detail) for an HTTP answer."""
    path = urlsplit(final_url).path.rstrip("/").lower()
    if any(path.endswith(p) for p in GONE_PATHS):
        return "gone", f"redirected to a removal page ({path})"
    if status_code in GONE_STATUSES:
        return "gone", f"HTTP {status_code}"
    if 200 <= status_code < 300:
        return "online", f"HTTP {status_code}"
    return "error", f"HTTP {status_code}"


class _HostPacer:
    """At most ``rate`` request starts per second per host."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self.next_at: dict[str, float] = {}
        self.lock = asyncio.Lock()

    async def wait(self, host: str) -> None:
        async with self.lock:
            now = time.monotonic()
            start = max(now, self.next_at.get(host, now))
            self.next_at[host] = start + self.interval
        if start > now:
            await asyncio.sleep(start - now)


async def _check_one(guard: OutboundGuard, client: httpx.AsyncClient, pacer: _HostPacer,
                     sem: asyncio.Semaphore, target: Target) -> Observation:
    try:
        host = guard.parse(target.url).host.lower()
    except OutboundRefused:
        return Observation(target, "error", None, "not an http(s) URL", utcnow())
    async with sem:
        await pacer.wait(host)
        try:
            answer = await guard.aget(client, target.url)
        except OutboundRefused as exc:
            detail = str(exc)
            if exc.status == 504:
                detail = f"timed out after {guard.policy.timeout:g} s"
            elif exc.status == 403:
                detail = f"refused: a local or private address (use --allow-private): {exc}"
            return Observation(target, "error", None, detail[:500], utcnow())
        status, detail = classify_response(answer.status_code, answer.url)
        return Observation(target, status, answer.status_code, detail, utcnow())


async def check_targets(targets: Sequence[Target], p: Politeness,
                        transport: httpx.AsyncBaseTransport | None = None,
                        resolver: Resolver | None = None) -> list[Observation]:
    """Check every target (no database access): the network half of a liveness run.
    ``transport`` and ``resolver`` are for tests."""
    p.validate()
    sem = asyncio.Semaphore(p.concurrency)
    pacer = _HostPacer(p.rate)
    guard = OutboundGuard(Policy(allow_private=p.allow_private, timeout=p.timeout,
                                 max_redirects=p.max_redirects, max_bytes=0,
                                 user_agent=p.user_agent, allow_hint="--allow-private"),
                          resolver=resolver, async_transport=transport)
    async with guard.async_client() as client:
        return list(await asyncio.gather(*(_check_one(guard, client, pacer, sem, t)
                                           for t in targets)))


def item_targets(session: Session, f: StatsFilter, *, recheck_hours: float | None = None,
                 limit: int | None = None) -> list[Target]:
    """Items with a URL, skipping those checked in the last ``recheck_hours`` and those
    already found gone (a removal is not undone by looking again)."""
    skip = _recent(session, "item", recheck_hours)
    out: list[Target] = []
    for item in stream_items(session, f):
        if item.url and item.id not in skip:
            out.append(Target("item", item.url, item.source, item.account, item.id))
            if limit and len(out) >= limit:
                break
    return out


def account_targets(session: Session, f: StatsFilter, template: str, *,
                    recheck_hours: float | None = None, limit: int | None = None) -> list[Target]:
    """One profile URL per (source, account), from ``template`` (``{account}`` is replaced
    by the URL-quoted account name)."""
    from urllib.parse import quote

    if "{account}" not in template:
        raise InvalidInput("--url-template must contain {account}")
    skip = _recent(session, "account", recheck_hours)
    seen: set[tuple[str, str]] = set()
    out: list[Target] = []
    for item in stream_items(session, f):
        if not item.account or (item.source, item.account) in seen:
            continue
        seen.add((item.source, item.account))
        if (item.source, item.account) in skip:
            continue
        url = template.replace("{account}", quote(item.account, safe=""))
        out.append(Target("account", url, item.source, item.account))
        if limit and len(out) >= limit:
            break
    return out


def _recent(session: Session, subject: str, hours: float | None) -> set[Any]:
    """Subjects already gone, or checked within ``hours``."""
    from datetime import timedelta

    cols = ((LivenessObservation.item_id,) if subject == "item"
            else (LivenessObservation.source, LivenessObservation.account))
    cond = LivenessObservation.status == "gone"
    if hours is not None:
        cond = cond | (LivenessObservation.checked_at >= utcnow() - timedelta(hours=hours))
    rows = session.execute(select(*cols).where(LivenessObservation.subject == subject, cond)
                           .group_by(*cols))
    return {r[0] if subject == "item" else (r[0], r[1]) for r in rows}


def store(session: Session, observations: Sequence[Observation]) -> None:
    for o in observations:
        t = o.target
        session.add(LivenessObservation(
            subject=t.subject, item_id=t.item_id, source=t.source, account=t.account,
            url=t.url, status=o.status, http_status=o.http_status, detail=o.detail,
            checked_at=o.checked_at))


def run_checks(app: Any, targets: Sequence[Target], p: Politeness, *, actor: str = "cli",
               transport: httpx.AsyncBaseTransport | None = None,
               resolver: Resolver | None = None) -> Counter[str]:
    """Check ``targets`` in batches, storing each batch's observations in one transaction
    with an audit event; returns the counts per status."""
    p.validate()
    totals: Counter[str] = Counter()
    for start in range(0, len(targets), BATCH):
        batch = targets[start:start + BATCH]
        observations = asyncio.run(check_targets(batch, p, transport, resolver))
        counts = Counter(o.status for o in observations)
        with app.transaction() as session:
            store(session, observations)
            record(session, LivenessChecked(batch[0].subject, len(observations),
                                            counts["online"], counts["gone"], counts["error"]),
                   actor)
        totals.update(counts)
    return totals


def latest(session: Session, limit: int = 50) -> list[dict[str, Any]]:
    rows = session.execute(select(LivenessObservation)
                           .order_by(LivenessObservation.id.desc()).limit(limit)).scalars()
    return [{"subject": r.subject, "item_id": r.item_id, "source": r.source,
             "account": r.account, "url": r.url, "status": r.status,
             "http_status": r.http_status, "detail": r.detail,
             "checked_at": r.checked_at.isoformat()} for r in rows]


def summary(session: Session) -> dict[str, int]:
    rows = session.execute(select(LivenessObservation.status, func.count())
                           .group_by(LivenessObservation.status))
    return {status: int(n) for status, n in rows}
