"""Volume over time: items per day, week (starting Monday) or month, split by source,
label (account group or bank ``group``), language, category or decision outcome.

The items are streamed and counted into a ``{(key, period): count}`` counter, so memory
grows with keys × periods, never with items.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from warding.analytics.common import (
    PERIODS,
    SPLITS,
    ItemFacts,
    StatsFilter,
    check_choice,
    period_start,
    periods_between,
    stream_items,
)


@dataclass(frozen=True)
class Series:
    key: str
    points: list[tuple[date, int]]

    @property
    def total(self) -> int:
        return sum(c for _, c in self.points)

    def as_json(self) -> dict[str, Any]:
        return {"key": self.key,
                "points": [{"period": p.isoformat(), "count": c} for p, c in self.points]}


@dataclass(frozen=True)
class Volume:
    by: str
    split_by: str
    series: list[Series]
    filter: StatsFilter

    def as_json(self) -> dict[str, Any]:
        return {"by": self.by, "split_by": self.split_by,
                "series": [s.as_json() for s in self.series], "filter": self.filter.as_json()}

    def rows(self) -> list[dict[str, Any]]:
        """Flat rows (key, period, count) for CSV and Parquet."""
        return [{"key": s.key, "period": p.isoformat(), "count": c}
                for s in self.series for p, c in s.points]


def volume(session: Session, *, by: str = "week", split_by: str = "source",
           f: StatsFilter | None = None, fill_gaps: bool = False,
           facts: ItemFacts | None = None) -> Volume:
    """Items per period and key. Series are ordered by total (largest first, then key);
    points by period, ascending. ``fill_gaps`` adds zero-count periods between a
    series' first and last period (charts want them; the default lists only periods
    with items)."""
    check_choice(by, PERIODS, "--by")
    check_choice(split_by, SPLITS, "--split-by")
    f = f or StatsFilter()
    if facts is None and (split_by in ("label", "category", "outcome") or f.labels):
        facts = ItemFacts.load(session)
    counts: Counter[tuple[str, date]] = Counter()
    for item in stream_items(session, f, facts=facts):
        start = period_start(item.time.date(), by)
        keys = facts.keys(item, split_by) if facts else _plain_key(item.source, item.lang,
                                                                    split_by)
        for key in keys:
            counts[(key, start)] += 1
    per_key: dict[str, dict[date, int]] = {}
    for (key, start), count in counts.items():
        per_key.setdefault(key, {})[start] = count
    series = []
    for key, points in per_key.items():
        if fill_gaps:
            days = list(periods_between(min(points), max(points), by))
            ordered = [(d, points.get(d, 0)) for d in days]
        else:
            ordered = sorted(points.items())
        series.append(Series(key, ordered))
    series.sort(key=lambda s: (-s.total, s.key))
    return Volume(by=by, split_by=split_by, series=series, filter=f)


def _plain_key(source: str, lang: str | None, split_by: str) -> list[str]:
    if split_by == "source":
        return [source]
    return [lang or "(none)"]
