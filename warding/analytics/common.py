"""What every measure shares: filters, time buckets, the split keys of an item, and a
streamed read of the items.

Large data: the item table is never loaded whole. :func:`stream_items` reads it with
``yield_per`` (a server-side cursor on PostgreSQL, chunked fetches on SQLite) and the
measures aggregate as rows pass. The side facts an item's keys need (bank match labels,
the latest decision) are read once into dictionaries keyed by item id; they only hold
the matched and the reviewed items, which are a small share of everything scanned.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Select, and_, func, select, type_coerce
from sqlalchemy.orm import Session

from warding.db.models import BankEntry, Case, ContentItem, Decision, Match, UTCDateTime
from warding.errors import InvalidInput

Period = Literal["day", "week", "month"]
PERIODS: tuple[str, ...] = ("day", "week", "month")
SPLITS: tuple[str, ...] = ("source", "label", "lang", "category", "outcome")
NONE_KEY = "(none)"
YIELD_PER = 2000
OUTCOMES = ("violating", "not_violating", "pending", "no_case")


@dataclass(frozen=True)
class StatsFilter:
    """Which items a measure counts. Dates are inclusive days (UTC) of the item's time."""

    sources: tuple[str, ...] = ()
    since: date | None = None
    until: date | None = None
    labels: tuple[str, ...] = ()
    langs: tuple[str, ...] = ()
    accounts: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {"sources": list(self.sources), "since": _iso(self.since),
                "until": _iso(self.until), "labels": list(self.labels),
                "langs": list(self.langs), "accounts": list(self.accounts)}


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d else None


def parse_day(value: str | None, name: str) -> date | None:
    """A ``YYYY-MM-DD`` option value, or a clear error naming the option."""
    if value is None or not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(f"{name}: {value!r} is not a date (use YYYY-MM-DD)") from None


def check_choice(value: str, choices: tuple[str, ...], name: str) -> str:
    if value not in choices:
        raise InvalidInput(f"{name}: unknown value {value!r}; use one of {', '.join(choices)}")
    return value


def period_start(day: date, by: str) -> date:
    """The first day of the period holding ``day``; weeks start on Monday (ISO 8601)."""
    if by == "day":
        return day
    if by == "week":
        return day - timedelta(days=day.weekday())
    if by == "month":
        return day.replace(day=1)
    raise InvalidInput(f"--by: unknown period {by!r}; use one of {', '.join(PERIODS)}")


def next_period(start: date, by: str) -> date:
    if by == "day":
        return start + timedelta(days=1)
    if by == "week":
        return start + timedelta(days=7)
    return (start.replace(day=28) + timedelta(days=4)).replace(day=1)


def periods_between(first: date, last: date, by: str) -> Iterator[date]:
    """Every period start from ``first``'s period to ``last``'s, for gap-free charts."""
    current = period_start(first, by)
    while current <= last:
        yield current
        current = next_period(current, by)


def item_time(posted_at: datetime | None, ingested_at: datetime) -> datetime:
    """When an item was first seen: its posting time, else when Warding ingested it."""
    value = posted_at or ingested_at
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class ItemRow:
    """The columns the measures read from one item (never its text)."""

    id: int
    source: str
    account: str | None
    time: datetime
    lang: str | None
    url: str | None
    outlinks: list[Any]
    meta_label: str | None


def label_column() -> Any:
    """The item's own ``group``/``label`` metadata field, extracted by the database
    (``json_extract`` on SQLite, ``->>`` on PostgreSQL): decoding every item's metadata
    in Python would cost more than the rest of a measure."""
    meta = ContentItem.meta
    return func.coalesce(func.nullif(func.trim(meta["group"].as_string()), ""),
                         func.nullif(func.trim(meta["label"].as_string()), ""))


def _time_column() -> Any:
    """An item's time in SQL: posted, else ingested (see :func:`item_time`)."""
    return type_coerce(func.coalesce(ContentItem.posted_at, ContentItem.ingested_at),
                       UTCDateTime())


def _filtered(stmt: Select[Any], f: StatsFilter) -> Select[Any]:
    conds = []
    if f.sources:
        conds.append(ContentItem.source.in_(f.sources))
    if f.accounts:
        conds.append(ContentItem.account.in_(f.accounts))
    if f.langs:
        conds.append(ContentItem.lang.in_(f.langs))
    if f.since:
        start = datetime(f.since.year, f.since.month, f.since.day, tzinfo=UTC)
        conds.append(_time_column() >= start)
    if f.until:
        end = datetime(f.until.year, f.until.month, f.until.day, tzinfo=UTC) + timedelta(days=1)
        conds.append(_time_column() < end)
    return stmt.where(and_(*conds)) if conds else stmt


def stream_items(session: Session, f: StatsFilter, *, with_links: bool = False,
                 facts: ItemFacts | None = None) -> Iterator[ItemRow]:
    """Every item the filter selects, in id order, streamed ``YIELD_PER`` rows at a time.

    Read through the session's connection (Core, not the ORM: several times faster per
    row) with a server-side cursor on PostgreSQL. A label filter needs the item's labels,
    so pass ``facts`` when ``f.labels`` is set."""
    cols = [ContentItem.id, ContentItem.source, ContentItem.account, _time_column().label("time"),
            ContentItem.lang, ContentItem.url, label_column().label("meta_label")]
    if with_links:
        cols.append(ContentItem.outlinks)
    stmt = _filtered(select(*cols), f).order_by(ContentItem.id)
    if f.labels and facts is None:
        raise ValueError("a label filter needs the item facts")
    wanted = set(f.labels)
    result = session.connection().execute(stmt.execution_options(yield_per=YIELD_PER))
    for row in result:
        item = ItemRow(id=row[0], source=row[1], account=row[2], time=row[3], lang=row[4],
                       url=row[5], outlinks=list(row[7] or []) if with_links else [],
                       meta_label=row[6])
        if wanted and facts is not None and not wanted.intersection(facts.labels(item)):
            continue
        yield item


@dataclass
class ItemFacts:
    """Bank labels and review outcomes of the items that have any (read once)."""

    groups: dict[int, set[str]] = field(default_factory=dict)
    categories: dict[int, set[str]] = field(default_factory=dict)
    outcome: dict[int, str] = field(default_factory=dict)
    decided_category: dict[int, str] = field(default_factory=dict)
    removed_at: dict[int, datetime] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session) -> ItemFacts:
        facts = cls()
        rows = session.execute(
            select(Match.item_id, BankEntry.labels).join(BankEntry, BankEntry.id == Match.entry_id)
            .execution_options(yield_per=YIELD_PER))
        for item_id, labels in rows:
            if not isinstance(labels, dict):
                continue
            group, category = labels.get("group"), labels.get("category")
            if isinstance(group, str) and group:
                facts.groups.setdefault(item_id, set()).add(group)
            if isinstance(category, str) and category:
                facts.categories.setdefault(item_id, set()).add(category)
        for item_id in session.execute(select(Case.item_id)).scalars():
            facts.outcome[item_id] = "pending"  # a case, no decision (yet)
        decisions = session.execute(
            select(Case.item_id, Decision.violating, Decision.category, Decision.created_at)
            .join(Decision, Decision.case_id == Case.id)
            .where(Decision.kind != "escalation").order_by(Decision.id))
        for item_id, violating, category, created_at in decisions:
            # Decisions are read in order: the last one (an appeal supersedes) wins.
            facts.outcome[item_id] = "violating" if violating else "not_violating"
            if violating:
                facts.decided_category[item_id] = category or NONE_KEY
                facts.removed_at.setdefault(item_id, created_at)
            else:
                facts.decided_category.pop(item_id, None)
        return facts

    def labels(self, item: ItemRow) -> list[str]:
        """The item's groups: its bank matches' ``group`` labels, else the data set's own
        ``group``/``label`` field, else ``(none)``. A match with two groups counts in both."""
        groups = self.groups.get(item.id)
        if groups:
            return sorted(groups)
        return [item.meta_label or NONE_KEY]

    def keys(self, item: ItemRow, split_by: str) -> list[str]:
        """The series an item counts in for ``split_by``."""
        if split_by == "source":
            return [item.source]
        if split_by == "lang":
            return [item.lang or NONE_KEY]
        if split_by == "label":
            return self.labels(item)
        if split_by == "outcome":
            return [self.outcome.get(item.id, "no_case")]
        if split_by == "category":
            decided = self.decided_category.get(item.id)
            if decided:
                return [decided]
            return sorted(self.categories.get(item.id) or {NONE_KEY})
        raise InvalidInput(f"--split-by: unknown key {split_by!r}; use one of {', '.join(SPLITS)}")
