"""Survival: how long content and accounts stay up, as Kaplan–Meier curves (``lifelines``)
with censoring, medians, and a log-rank comparison between groups ("differential
disruption") or platforms.

Items
    start: the item's time (posted, else ingested).
    event (removal), the earliest of
      * Warding's first *violating* decision on it: the time its removal action was done
        (``actions.status = done``), else the decision's time;
      * the first liveness observation that found its URL ``gone``. The removal happened
        between the last ``online`` check and this one; the check time is used (an upper
        bound), as researchers re-checking by hand do.
    censored: at ``as_of`` (default: now) when neither happened. ``error`` observations
    say nothing and are ignored.

Accounts
    start: the account's first item.
    event: the first ``gone`` observation of the account's profile URL
    (``warding liveness check --accounts``). Optionally (``inactive_days``) an
    *activity proxy*: an account whose last item is more than ``inactive_days`` before
    ``as_of`` counts as gone at its last item. That proxy is how researchers read
    collections without re-checks; it is labelled as such in every output.
    censored: at ``as_of`` otherwise.

Durations are in days. Memory: one (duration, event, group) triple per item or account.
"""

from __future__ import annotations

import math
import warnings
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from warding.analytics.common import (
    NONE_KEY,
    ItemFacts,
    StatsFilter,
    check_choice,
    stream_items,
)
from warding.db.models import Action, Case, Decision, utcnow
from warding.db.models_analytics import LivenessObservation

UNITS = ("item", "account")
SURVIVAL_SPLITS = ("none", "source", "label", "lang", "category", "outcome")
MAX_CURVE_POINTS = 200


@dataclass(frozen=True)
class Group:
    key: str
    n: int
    events: int
    censored: int
    median_days: float | None
    curve: list[tuple[float, float, int]]  # (t_days, survival, at_risk)

    def as_json(self) -> dict[str, Any]:
        return {"key": self.key, "n": self.n, "events": self.events, "censored": self.censored,
                "median_days": self.median_days,
                "curve": [{"t_days": t, "survival": s, "at_risk": r} for t, s, r in self.curve]}


@dataclass(frozen=True)
class Survival:
    unit: str
    split_by: str
    as_of: datetime
    events_from: list[str]
    groups: list[Group]
    logrank: dict[str, Any] | None
    filter: StatsFilter

    def as_json(self) -> dict[str, Any]:
        return {"unit": self.unit, "split_by": self.split_by, "as_of": self.as_of.isoformat(),
                "events_from": self.events_from, "groups": [g.as_json() for g in self.groups],
                "logrank": self.logrank, "filter": self.filter.as_json()}

    def rows(self) -> list[dict[str, Any]]:
        return [{"key": g.key, "t_days": t, "survival": s, "at_risk": r}
                for g in self.groups for t, s, r in g.curve]


def parse_as_of(value: str | None) -> datetime | None:
    """``YYYY-MM-DD`` (end of that day, UTC) or an ISO timestamp."""
    if not value:
        return None
    from warding.errors import InvalidInput

    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), time.max, tzinfo=UTC)
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"--as-of: {value!r} is not a date or an ISO timestamp") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _decision_removals(session: Session) -> dict[int, datetime]:
    """item id → when Warding removed it (first violating decision; its done action's time)."""
    done = dict(session.execute(
        select(Action.decision_id, func.min(Action.updated_at))
        .where(Action.status == "done").group_by(Action.decision_id)).all())
    removed: dict[int, datetime] = {}
    rows = session.execute(
        select(Case.item_id, Decision.id, Decision.created_at)
        .join(Decision, Decision.case_id == Case.id)
        .where(Decision.violating.is_(True), Decision.kind != "escalation")
        .order_by(Decision.id))
    for item_id, decision_id, created_at in rows:
        when = _aware(done.get(decision_id) or created_at)
        if item_id not in removed or when < removed[item_id]:
            removed[item_id] = when
    return removed


def _liveness(session: Session, subject: str) -> tuple[dict[Any, datetime], dict[Any, datetime]]:
    """(first ``gone`` time, last ``online`` time) per item id or (source, account)."""
    key_cols = ((LivenessObservation.item_id,) if subject == "item"
                else (LivenessObservation.source, LivenessObservation.account))
    gone: dict[Any, datetime] = {}
    online: dict[Any, datetime] = {}
    for status, agg, target in (("gone", func.min, gone), ("online", func.max, online)):
        stmt = (select(*key_cols, agg(LivenessObservation.checked_at))
                .where(LivenessObservation.subject == subject, LivenessObservation.status == status)
                .group_by(*key_cols))
        for row in session.execute(stmt):
            key = row[0] if subject == "item" else (row[0], row[1])
            target[key] = _aware(row[-1])
    return gone, online


def _days(start: datetime, end: datetime) -> float:
    return max((end - start).total_seconds() / 86400.0, 0.0)


def survival(session: Session, *, unit: str = "item", split_by: str = "none",
             f: StatsFilter | None = None, as_of: datetime | None = None,
             inactive_days: float | None = None, group_end: bool = False,
             facts: ItemFacts | None = None) -> Survival:
    """``group_end``: censor (and measure silence) at the latest item of each group instead
    of ``as_of``, for collections whose groups were gathered at different times."""
    check_choice(unit, UNITS, "--unit")
    check_choice(split_by, SURVIVAL_SPLITS, "--split-by")
    f = f or StatsFilter()
    as_of = as_of or utcnow()
    if facts is None:
        facts = ItemFacts.load(session)
    if unit == "item":
        data, sources = _items(session, f, facts, split_by, as_of, group_end)
    else:
        data, sources = _accounts(session, f, facts, split_by, as_of, inactive_days, group_end)
    if group_end:
        sources.append("censored at the end of each group's data")
    return _fit(unit, split_by, as_of, sources, data, f)


def _items(session: Session, f: StatsFilter, facts: ItemFacts, split_by: str,
           as_of: datetime, group_end: bool) -> tuple[list[tuple[float, bool, str]], list[str]]:
    removed = _decision_removals(session)
    gone, _online = _liveness(session, "item")
    rows: list[tuple[datetime, datetime | None, str]] = []
    ends: dict[str, datetime] = {}
    for item in stream_items(session, f, facts=facts):
        candidates = [t for t in (removed.get(item.id), gone.get(item.id)) if t is not None]
        key = "all" if split_by == "none" else facts.keys(item, split_by)[0]
        rows.append((item.time, min(candidates) if candidates else None, key))
        ends[key] = max(ends.get(key, item.time), item.time)
    data = []
    for start, end, key in rows:
        limit = ends[key] if group_end else as_of
        if end is not None and end <= limit:
            data.append((_days(start, end), True, key))
        else:
            data.append((_days(start, limit), False, key))
    return data, ["decisions", "actions", "liveness"]


@dataclass
class _Account:
    first: datetime
    last: datetime
    keys: Counter[str]


def _accounts(session: Session, f: StatsFilter, facts: ItemFacts, split_by: str,
              as_of: datetime, inactive_days: float | None, group_end: bool,
              ) -> tuple[list[tuple[float, bool, str]], list[str]]:
    accounts: dict[tuple[str, str], _Account] = {}
    for item in stream_items(session, f, facts=facts):
        if not item.account:
            continue
        key = "all" if split_by == "none" else facts.keys(item, split_by)[0]
        acc = accounts.get((item.source, item.account))
        if acc is None:
            accounts[(item.source, item.account)] = _Account(item.time, item.time, Counter([key]))
        else:
            acc.first, acc.last = min(acc.first, item.time), max(acc.last, item.time)
            acc.keys[key] += 1
    gone, _online = _liveness(session, "account")
    groups = {ident: min(acc.keys.items(), key=lambda kv: (-kv[1], kv[0]))[0]
              for ident, acc in accounts.items()}
    ends: dict[str, datetime] = {}
    for ident, acc in accounts.items():
        ends[groups[ident]] = max(ends.get(groups[ident], acc.last), acc.last)
    data = []
    for ident, acc in accounts.items():
        group = groups[ident]
        limit = ends[group] if group_end else as_of
        end = gone.get(ident)
        if end is not None and end > limit:
            end = None
        if end is None and inactive_days is not None and _days(acc.last, limit) > inactive_days:
            end = acc.last
        if end is not None:
            data.append((_days(acc.first, end), True, group))
        else:
            data.append((_days(acc.first, limit), False, group))
    sources = ["liveness"]
    if inactive_days is not None:
        sources.append(f"activity proxy: no item in the {inactive_days:g} days before the end")
    return data, sources


def _fit(unit: str, split_by: str, as_of: datetime, sources: list[str],
         data: list[tuple[float, bool, str]], f: StatsFilter) -> Survival:
    from lifelines import KaplanMeierFitter
    from lifelines.statistics import multivariate_logrank_test

    by_key: dict[str, tuple[list[float], list[bool]]] = {}
    for duration, event, key in data:
        d, e = by_key.setdefault(key or NONE_KEY, ([], []))
        d.append(duration)
        e.append(event)
    groups = []
    for key in sorted(by_key, key=lambda k: (-len(by_key[k][0]), k)):
        durations, events = by_key[key]
        kmf = KaplanMeierFitter()
        with warnings.catch_warnings():
            # lifelines warns about its own pandas use; the numbers are unaffected.
            warnings.simplefilter("ignore", FutureWarning)
            kmf.fit(durations, event_observed=events, label=key)
        median = float(kmf.median_survival_time_)
        table = kmf.event_table
        sf = kmf.survival_function_[key]
        curve = [(round(float(t), 6), round(float(s), 6), int(table.loc[t, "at_risk"]))
                 for t, s in sf.items()]
        groups.append(Group(key=key, n=len(durations), events=int(sum(events)),
                            censored=len(durations) - int(sum(events)),
                            median_days=round(median, 6) if math.isfinite(median) else None,
                            curve=_thin(curve)))
    logrank = None
    if len(by_key) >= 2:
        durations = [d for d, _, _ in data]
        events = [e for _, e, _ in data]
        keys = [k or NONE_KEY for _, _, k in data]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            result = multivariate_logrank_test(durations, keys, events)
        p = float(result.p_value)
        logrank = {"test": "log-rank" if len(by_key) == 2 else "multivariate log-rank",
                   "groups": len(by_key), "statistic": round(float(result.test_statistic), 6),
                   "p_value": p if math.isfinite(p) else None}
    return Survival(unit=unit, split_by=split_by, as_of=as_of, events_from=sources,
                    groups=groups, logrank=logrank, filter=f)


def _thin(curve: list[tuple[float, float, int]]) -> list[tuple[float, float, int]]:
    """At most ``MAX_CURVE_POINTS`` evenly spaced steps, always keeping the first and the
    last (for output size; medians and tests use the full fit)."""
    if len(curve) <= MAX_CURVE_POINTS:
        return curve
    step = len(curve) / (MAX_CURVE_POINTS - 1)
    picks = sorted({min(int(i * step), len(curve) - 1) for i in range(MAX_CURVE_POINTS)})
    if picks[-1] != len(curve) - 1:
        picks.append(len(curve) - 1)
    return [curve[i] for i in picks]
