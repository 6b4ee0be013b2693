"""Activity of carriers: per source, or per account (within its source), the items it
carried, its active period (first to last item) and the share of its items that a
reviewer decided were violating.

Carriers are described only by what they carry: there is no person-level score here,
and none should be added. For documents that leave the machine, ``pseudonymise``
replaces account names by ``<group>-NN`` ids ranked by volume: readable, stable within
one output, and not reversible from the output alone.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from warding.analytics.common import ItemFacts, StatsFilter, check_choice, stream_items

CARRIER_LEVELS = ("account", "source")


@dataclass
class _Acc:
    source: str
    name: str
    items: int = 0
    first: datetime | None = None
    last: datetime | None = None
    violating: int = 0
    decided: int = 0
    groups: Counter[str] = field(default_factory=Counter)
    active_days: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Carrier:
    carrier: str
    source: str
    group: str
    items: int
    first_seen: datetime
    last_seen: datetime
    days_active: int
    decided: int
    violating: int

    @property
    def active_period_days(self) -> float:
        return round((self.last_seen - self.first_seen).total_seconds() / 86400, 3)

    @property
    def violating_share(self) -> float:
        return round(self.violating / self.items, 6) if self.items else 0.0

    def as_json(self) -> dict[str, Any]:
        return {"carrier": self.carrier, "source": self.source, "group": self.group,
                "items": self.items, "first_seen": self.first_seen.isoformat(),
                "last_seen": self.last_seen.isoformat(),
                "active_period_days": self.active_period_days, "days_active": self.days_active,
                "decided": self.decided, "violating": self.violating,
                "violating_share": self.violating_share}


@dataclass(frozen=True)
class Carriers:
    level: str
    carriers: list[Carrier]
    total: int
    pseudonymised: bool
    filter: StatsFilter

    def as_json(self) -> dict[str, Any]:
        return {"level": self.level, "carriers": [c.as_json() for c in self.carriers],
                "total": self.total, "pseudonymised": self.pseudonymised,
                "filter": self.filter.as_json()}

    def rows(self) -> list[dict[str, Any]]:
        return [c.as_json() for c in self.carriers]


def carriers(session: Session, *, level: str = "account", f: StatsFilter | None = None,
             limit: int | None = None, pseudonymise: bool = False,
             facts: ItemFacts | None = None) -> Carriers:
    """Carriers by items carried (largest first, then earliest). ``group`` is the label
    most of a carrier's items have (see :meth:`ItemFacts.labels`). ``violating_share`` is
    violating items over all its items (``decided`` says how many were reviewed at all)."""
    check_choice(level, CARRIER_LEVELS, "--level")
    f = f or StatsFilter()
    facts = facts or ItemFacts.load(session)
    accs: dict[tuple[str, str], _Acc] = {}
    for item in stream_items(session, f, facts=facts):
        if level == "source":
            ident = (item.source, item.source)
        elif item.account:
            ident = (item.source, item.account)
        else:
            continue
        acc = accs.get(ident)
        if acc is None:
            acc = accs[ident] = _Acc(source=ident[0], name=ident[1])
        acc.items += 1
        acc.first = item.time if acc.first is None else min(acc.first, item.time)
        acc.last = item.time if acc.last is None else max(acc.last, item.time)
        acc.active_days.add(item.time.date().isoformat())
        outcome = facts.outcome.get(item.id)
        if outcome in ("violating", "not_violating"):
            acc.decided += 1
            acc.violating += outcome == "violating"
        for label in facts.labels(item):
            acc.groups[label] += 1
    ranked = sorted(accs.values(), key=lambda a: (-a.items, a.first, a.source, a.name))
    out: list[Carrier] = []
    per_group: Counter[str] = Counter()
    for a in ranked:
        assert a.first is not None and a.last is not None
        group = min(a.groups.items(), key=lambda kv: (-kv[1], kv[0]))[0]
        name = a.name
        if pseudonymise and level == "account":
            per_group[group] += 1
            name = f"{group}-{per_group[group]:02d}"
        out.append(Carrier(carrier=name, source=a.source, group=group, items=a.items,
                           first_seen=a.first, last_seen=a.last, days_active=len(a.active_days),
                           decided=a.decided, violating=a.violating))
    return Carriers(level=level, carriers=out[:limit] if limit else out, total=len(out),
                    pseudonymised=pseudonymise and level == "account", filter=f)
