"""Statistics: the console dashboard (``/stats/…``) and its JSON API (``/api/stats/…``).

The dashboard draws server-side SVG charts with hover titles (see
:mod:`warding.analytics.svg`) and filter forms; it loads nothing from elsewhere and runs
no script, so the console's strict Content-Security-Policy holds. Both need the
``view_stats`` permission.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from warding.analytics import svg
from warding.analytics.annotations import add_event, as_json, list_events, remove_event
from warding.analytics.carriers import carriers
from warding.analytics.common import PERIODS, SPLITS, StatsFilter, parse_day
from warding.analytics.outlinks import outlinks
from warding.analytics.spread import spread
from warding.analytics.survival import SURVIVAL_SPLITS, UNITS, parse_as_of, survival
from warding.analytics.volume import volume
from warding.db.models import User
from warding.errors import InvalidInput, WardingError
from warding.web.deps import SessionDep, require
from warding.web.templating import flash, render

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/stats", tags=["stats"])

Analyst = Annotated[User, Depends(require("view_stats"))]
MEASURES = ("volume", "outlinks", "spread", "survival", "carriers")
Text = Annotated[str, Query(max_length=200)]


@dataclass(frozen=True)
class Params:
    """The dashboard's and the API's query parameters, validated once."""

    by: str
    split_by: str
    source: str
    label: str
    lang: str
    since: str
    until: str
    unit: str
    inactive_days: str
    as_of: str
    group_end: bool
    pseudonymise: bool
    limit: int

    def filter(self) -> StatsFilter:
        return StatsFilter(
            sources=tuple(s.strip() for s in self.source.split(",") if s.strip()),
            labels=tuple(s.strip() for s in self.label.split(",") if s.strip()),
            langs=tuple(s.strip() for s in self.lang.split(",") if s.strip()),
            since=parse_day(self.since, "since"), until=parse_day(self.until, "until"))

    def inactive(self) -> float | None:
        if not self.inactive_days.strip():
            return None
        try:
            value = float(self.inactive_days)
        except ValueError:
            raise InvalidInput(f"inactive_days: {self.inactive_days!r} is not a number") from None
        if value < 0:
            raise InvalidInput("inactive_days must not be negative")
        return value

    def form(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def params(
    by: Text = "week", split_by: Text = "source", source: Text = "", label: Text = "",
    lang: Text = "", since: Text = "", until: Text = "", unit: Text = "item",
    inactive_days: Text = "", as_of: Text = "", group_end: bool = False,
    pseudonymise: bool = False, limit: Annotated[int, Query(ge=1, le=500)] = 20,
) -> Params:
    if by not in PERIODS:
        raise InvalidInput(f"by: unknown period {by!r}; use one of {', '.join(PERIODS)}")
    return Params(by, split_by, source, label, lang, since, until, unit, inactive_days, as_of,
                  group_end, pseudonymise, limit)


ParamsDep = Annotated[Params, Depends(params)]


def compute(session: Session, measure: str, p: Params, *, fill_gaps: bool = False) -> Any:
    f = p.filter()
    if measure == "volume":
        return volume(session, by=p.by, split_by=p.split_by, f=f, fill_gaps=fill_gaps)
    if measure == "outlinks":
        return outlinks(session, f=f, limit=p.limit)
    if measure == "spread":
        return spread(session, f=f, limit=p.limit, by=p.by)
    if measure == "survival":
        split = p.split_by if p.split_by in SURVIVAL_SPLITS else "none"
        return survival(session, unit=p.unit, split_by=split, f=f, as_of=parse_as_of(p.as_of),
                        inactive_days=p.inactive(), group_end=p.group_end)
    if measure == "carriers":
        return carriers(session, f=f, limit=p.limit, pseudonymise=p.pseudonymise)
    raise InvalidInput(f"unknown measure {measure!r}; use one of {', '.join(MEASURES)}")


def chart(measure: str, result: Any, events: list[tuple[Any, str]]) -> Any:
    """The measure's SVG chart (markup, escaped)."""
    if measure == "volume":
        lines = [svg.Line(s.key, [(d, float(c)) for d, c in s.points]) for s in result.series[:8]]
        return svg.line_chart(lines, label=f"Items per {result.by} by {result.split_by}",
                              y_label=f"items per {result.by}", events=events)
    if measure == "outlinks":
        return svg.hbar_chart(
            [(d.domain, float(d.count), f"{d.domain}: {d.count:,} items ({d.share:.1%})")
             for d in result.domains], label="Top outlink domains")
    if measure == "spread":
        return svg.gantt_chart(
            [svg.Span(f"#{c.rank} ({c.items} items)", c.first_seen, c.last_seen,
                      f"cluster {c.rank}: {c.items} items, {c.accounts} accounts, "
                      f"{len(c.sources)} sources, {c.first_seen:%Y-%m-%d} to "
                      f"{c.last_seen:%Y-%m-%d}, linked by {', '.join(c.linked_by)}",
                      ", ".join(c.sources), c.timeline) for c in result.clusters],
            label="Largest spread clusters")
    if measure == "survival":
        return svg.step_chart([(g.key, g.curve) for g in result.groups],
                              label=f"Kaplan–Meier survival of {result.unit}s")
    return svg.gantt_chart(
        [svg.Span(c.carrier, c.first_seen, c.last_seen,
                  f"{c.carrier} ({c.source}): {c.items:,} items, {c.first_seen:%Y-%m-%d} to "
                  f"{c.last_seen:%Y-%m-%d}, violating {c.violating_share:.0%} of items "
                  f"({c.decided} decided)", c.group) for c in result.carriers],
        label="Active periods of carriers")


@router.get("/stats")
def dashboard_home() -> Response:
    return RedirectResponse("/stats/volume", status_code=303)


@router.get("/stats/{measure}")
def dashboard(measure: str, request: Request, session: SessionDep, user: Analyst,
              p: ParamsDep) -> Response:
    if measure not in MEASURES:
        raise InvalidInput(f"unknown measure {measure!r}; use one of {', '.join(MEASURES)}")
    error = None
    result = None
    markup = None
    events = list_events(session)
    try:
        result = compute(session, measure, p, fill_gaps=True)
        markup = chart(measure, result, [(e.day, e.label) for e in events])
    except WardingError as exc:
        error = str(exc)
    return render(request, "stats.html", {
        "active": "stats", "measure": measure, "measures": MEASURES, "result": result,
        "chart": markup, "error": error, "form": p.form(), "periods": PERIODS,
        "splits": SPLITS if measure != "survival" else SURVIVAL_SPLITS, "units": UNITS,
        "events": [as_json(e) for e in events],
    }, status_code=422 if error else 200)


@router.post("/stats/events")
def dashboard_add_event(
    request: Request, session: SessionDep, user: Analyst,
    day: Annotated[str, Form(max_length=10)] = "",
    label: Annotated[str, Form(max_length=200)] = "",
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    try:
        parsed = parse_day(day, "day")
        if parsed is None:
            raise InvalidInput("give the event's day (YYYY-MM-DD)")
        add_event(session, parsed, label, note, actor=user.username)
    except WardingError as exc:
        flash(request, str(exc), "error")
    else:
        flash(request, f"Event added: {day} {label}.")
    return RedirectResponse("/stats/volume", status_code=303)


@router.post("/stats/events/{annotation_id}/remove")
def dashboard_remove_event(annotation_id: int, request: Request, session: SessionDep,
                           user: Analyst) -> Response:
    try:
        remove_event(session, annotation_id, actor=user.username)
    except WardingError as exc:
        flash(request, str(exc), "error")
    else:
        flash(request, f"Event {annotation_id} removed.")
    return RedirectResponse("/stats/volume", status_code=303)


@api.get("/events")
def api_events(session: SessionDep, user: Analyst) -> dict[str, Any]:
    """The event annotations, by day."""
    return {"events": [as_json(e) for e in list_events(session)]}


@api.get("/{measure}")
def api_measure(measure: str, session: SessionDep, user: Analyst, p: ParamsDep) -> Any:
    """A measure as JSON: the same document as ``warding stats MEASURE --json``."""
    return compute(session, measure, p).as_json()
