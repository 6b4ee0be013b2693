"""``warding stats …``: measure the ecosystem (volume, spread, outlinks, survival,
carriers), annotate events, re-check liveness, and write the analysis report.

Every measure prints a short table by default, or ``--json``, ``--csv`` (stdout) or
``--parquet PATH``; ``--chart PATH`` (``.png`` or ``.svg``) also draws it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from warding.cli.common import emit_json, err_console, friendly_errors, get_app

app = typer.Typer(help="Measure volume, spread, outlinks, survival and carriers.",
                  no_args_is_help=True)
event_app = typer.Typer(help="Dated event annotations shown on the charts.", no_args_is_help=True)
app.add_typer(event_app, name="event")

Sources = Annotated[list[str] | None, typer.Option("--source", help="Only these sources (repeat).")]
Since = Annotated[str | None, typer.Option("--since", help="From this day (YYYY-MM-DD).")]
Until = Annotated[str | None, typer.Option("--until", help="Up to this day, inclusive.")]
Labels = Annotated[list[str] | None, typer.Option("--label", help="Only items with this label (repeat).")]
Langs = Annotated[list[str] | None, typer.Option("--lang", help="Only this language (repeat).")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]
AsCsv = Annotated[bool, typer.Option("--csv", help="Print CSV rows.")]
Parquet = Annotated[Path | None, typer.Option("--parquet", help="Write the rows to a Parquet file.")]
Chart = Annotated[Path | None, typer.Option("--chart", help="Also draw a chart (.png or .svg).")]
By = Annotated[str, typer.Option("--by", help="day, week (from Monday) or month.")]


def _filter(source: list[str] | None, since: str | None, until: str | None,
            label: list[str] | None, lang: list[str] | None) -> Any:
    from warding.analytics.common import StatsFilter, parse_day

    return StatsFilter(sources=tuple(source or ()), since=parse_day(since, "--since"),
                       until=parse_day(until, "--until"), labels=tuple(label or ()),
                       langs=tuple(lang or ()))


def _output(result: Any, as_json: bool, as_csv: bool, parquet: Path | None,
            text: Callable[[], None]) -> None:
    from warding.analytics.export import write_csv, write_parquet

    if sum([as_json, as_csv]) > 1:
        err_console().print("[red]error:[/red] give only one of --json and --csv")
        raise typer.Exit(2)
    if parquet is not None:
        n = write_parquet(result.rows(), parquet)
        err_console().print(escape(f"{n} rows written to {parquet}"))
    if as_json:
        emit_json(result.as_json())
    elif as_csv:
        write_csv(result.rows(), sys.stdout)
    elif parquet is None:
        text()


def _events(session: Any) -> list[tuple[Any, str]]:
    from warding.analytics.annotations import list_events

    return [(e.day, e.label) for e in list_events(session)]


@app.command()
def volume(
    ctx: typer.Context,
    by: By = "week",
    split_by: Annotated[str, typer.Option("--split-by", help="source, label, lang, category or outcome.")] = "source",
    fill_gaps: Annotated[bool, typer.Option("--fill-gaps", help="List empty periods with count 0.")] = False,
    source: Sources = None, since: Since = None, until: Until = None, label: Labels = None,
    lang: Langs = None, as_json: AsJson = False, as_csv: AsCsv = False, parquet: Parquet = None,
    chart: Chart = None,
) -> None:
    """Items per day, week or month, one series per source (or label, lang, category, outcome)."""
    from warding.analytics import charts
    from warding.analytics.volume import volume as measure

    w = get_app(ctx)
    with friendly_errors(), w.transaction() as session:
        f = _filter(source, since, until, label, lang)
        result = measure(session, by=by, split_by=split_by, f=f, fill_gaps=fill_gaps)
        events = _events(session)
        if chart is not None:
            charts.volume_chart(result, chart, events)

    def text() -> None:
        for s in result.series:
            typer.echo(f"{s.key}\t{s.total} items in {len(s.points)} {by}s")
            for p, c in s.points:
                typer.echo(f"  {p.isoformat()}\t{c}")

    _output(result, as_json, as_csv, parquet, text)


@app.command()
def outlinks(
    ctx: typer.Context,
    limit: Annotated[int | None, typer.Option("--limit", help="Only the top N domains.")] = None,
    no_group: Annotated[bool, typer.Option("--no-group", help="Do not group short-link and mirror domains.")] = False,
    by: Annotated[str | None, typer.Option("--by", help="Also give the top domains per day, week or month.")] = None,
    source: Sources = None, since: Since = None, until: Until = None, label: Labels = None,
    lang: Langs = None, as_json: AsJson = False, as_csv: AsCsv = False, parquet: Parquet = None,
    chart: Chart = None,
) -> None:
    """Registered domains the items link to, by number of items linking to each."""
    from warding.analytics import charts
    from warding.analytics.outlinks import outlinks as measure

    w = get_app(ctx)
    with friendly_errors(), w.transaction() as session:
        f = _filter(source, since, until, label, lang)
        result = measure(session, f=f, group=not no_group, limit=limit, by=by)
        if chart is not None:
            charts.outlinks_chart(result, chart)

    def text() -> None:
        typer.echo(f"{result.items_with_links} of {result.items} items link out")
        for d in result.domains:
            typer.echo(f"{d.count}\t{d.share:.1%}\t{d.domain}")

    _output(result, as_json, as_csv, parquet, text)


@app.command()
def spread(
    ctx: typer.Context,
    min_size: Annotated[int, typer.Option("--min-size", help="Smallest cluster listed.")] = 2,
    limit: Annotated[int, typer.Option("--limit", help="Only the N largest clusters (0: all).")] = 20,
    by: Annotated[str, typer.Option("--by", help="Timeline period: day, week or month.")] = "day",
    pdq_threshold: Annotated[int | None, typer.Option("--pdq-threshold", help="PDQ Hamming distance (default 31).")] = None,
    text_threshold: Annotated[int | None, typer.Option("--text-threshold", help="text_near Hamming distance (default 6).")] = None,
    source: Sources = None, since: Since = None, until: Until = None, label: Labels = None,
    lang: Langs = None, as_json: AsJson = False, as_csv: AsCsv = False, parquet: Parquet = None,
    chart: Chart = None,
) -> None:
    """Clusters of the same item across sources and accounts, largest first."""
    from warding.analytics import charts
    from warding.analytics.spread import spread as measure

    thresholds = {k: v for k, v in (("pdq", pdq_threshold), ("text_near", text_threshold))
                  if v is not None}
    w = get_app(ctx)
    with friendly_errors(), w.transaction() as session:
        f = _filter(source, since, until, label, lang)
        result = measure(session, f=f, min_size=min_size, limit=limit or None, by=by,
                         thresholds=thresholds)
        if chart is not None:
            charts.spread_chart(result, chart)

    def text() -> None:
        typer.echo(f"{result.clusters_total} clusters hold {result.items_clustered} of "
                   f"{result.items_considered} items")
        for c in result.clusters:
            typer.echo(f"#{c.rank}\t{c.items} items\t{c.accounts} accounts\t"
                       f"{len(c.sources)} sources\t{c.first_seen:%Y-%m-%d} → {c.last_seen:%Y-%m-%d}"
                       f"\t{','.join(c.linked_by)}")

    _output(result, as_json, as_csv, parquet, text)


@app.command()
def survival(
    ctx: typer.Context,
    unit: Annotated[str, typer.Option("--unit", help="item or account.")] = "item",
    split_by: Annotated[str, typer.Option("--split-by", help="none, source, label, lang, category or outcome.")] = "none",
    as_of: Annotated[str | None, typer.Option("--as-of", help="Censoring time (YYYY-MM-DD or ISO); default now.")] = None,
    inactive_days: Annotated[float | None, typer.Option("--inactive-days", help="Accounts: count one silent this long before --as-of as gone (activity proxy).")] = None,
    group_end: Annotated[bool, typer.Option("--group-end", help="Censor at each group's latest item instead of --as-of.")] = False,
    source: Sources = None, since: Since = None, until: Until = None, label: Labels = None,
    lang: Langs = None, as_json: AsJson = False, as_csv: AsCsv = False, parquet: Parquet = None,
    chart: Chart = None,
) -> None:
    """Kaplan–Meier survival of items or accounts, medians and a log-rank comparison."""
    from warding.analytics import charts
    from warding.analytics.survival import parse_as_of
    from warding.analytics.survival import survival as measure

    w = get_app(ctx)
    with friendly_errors(), w.transaction() as session:
        f = _filter(source, since, until, label, lang)
        result = measure(session, unit=unit, split_by=split_by, f=f, as_of=parse_as_of(as_of),
                         inactive_days=inactive_days, group_end=group_end)
        if chart is not None:
            charts.survival_chart(result, chart)

    def text() -> None:
        for g in result.groups:
            median = f"{g.median_days:.2f} days" if g.median_days is not None else "not reached"
            typer.echo(f"{g.key}\tn={g.n}\tremoved={g.events}\tcensored={g.censored}\t"
                       f"median {median}")
        if result.logrank:
            typer.echo(f"{result.logrank['test']}: statistic {result.logrank['statistic']:.3f}, "
                       f"p = {result.logrank['p_value']}")

    _output(result, as_json, as_csv, parquet, text)


@app.command()
def carriers(
    ctx: typer.Context,
    level: Annotated[str, typer.Option("--level", help="account or source.")] = "account",
    limit: Annotated[int | None, typer.Option("--limit", help="Only the N largest carriers.")] = None,
    pseudonymise: Annotated[bool, typer.Option("--pseudonymise", help="Replace account names by group-NN ids.")] = False,
    source: Sources = None, since: Since = None, until: Until = None, label: Labels = None,
    lang: Langs = None, as_json: AsJson = False, as_csv: AsCsv = False, parquet: Parquet = None,
    chart: Chart = None,
) -> None:
    """Per account or source: items carried, active period, share of violating items."""
    from warding.analytics import charts
    from warding.analytics.carriers import carriers as measure

    w = get_app(ctx)
    with friendly_errors(), w.transaction() as session:
        f = _filter(source, since, until, label, lang)
        result = measure(session, level=level, f=f, limit=limit, pseudonymise=pseudonymise)
        if chart is not None:
            charts.carriers_chart(result, chart)

    def text() -> None:
        for c in result.carriers:
            typer.echo(f"{c.carrier}\t{c.source}\t{c.group}\t{c.items} items\t"
                       f"{c.first_seen:%Y-%m-%d} → {c.last_seen:%Y-%m-%d}\t"
                       f"violating {c.violating_share:.0%} ({c.decided} decided)")

    _output(result, as_json, as_csv, parquet, text)


@app.command()
def report(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", help="Markdown file to write; charts go beside it.")],
    title: Annotated[str, typer.Option("--title", help="Report title.")] = "Analysis",
    split_by: Annotated[str, typer.Option("--split-by", help="Grouping of the volume and survival charts.")] = "label",
    inactive_days: Annotated[float, typer.Option("--inactive-days", help="Account survival activity proxy, in days.")] = 30.0,
    show_accounts: Annotated[bool, typer.Option("--show-accounts", help="Print account names instead of pseudonyms.")] = False,
    note: Annotated[list[str] | None, typer.Option("--note", help="A note on the data, shown under Data (repeatable).")] = None,
    command: Annotated[str | None, typer.Option("--command", help="The command that made the report, quoted in it.")] = None,
    source: Sources = None, since: Since = None, until: Until = None, label: Labels = None,
    lang: Langs = None,
) -> None:
    """Write a Markdown report with PNG charts: volume, outlinks, spread, carriers, survival."""
    from warding.analytics.report import write_report

    w = get_app(ctx)
    with friendly_errors(), w.transaction() as session:
        f = _filter(source, since, until, label, lang)
        written = write_report(session, out, title=title, split_by=split_by, f=f,
                               inactive_days=inactive_days, pseudonymise=not show_accounts,
                               notes=note, command=command)
    err_console().print(escape(f"report written: {out} ({len(written) - 1} charts)"))


@app.command()
def liveness(
    ctx: typer.Context,
    accounts: Annotated[bool, typer.Option("--accounts", help="Check account profile URLs (needs --url-template) instead of item URLs.")] = False,
    url_template: Annotated[str | None, typer.Option("--url-template", help="Profile URL with {account}, e.g. https://platform.example/{account}.")] = None,
    limit: Annotated[int | None, typer.Option("--limit", help="Check at most N URLs.")] = None,
    recheck_hours: Annotated[float | None, typer.Option("--recheck-hours", help="Skip URLs checked within this many hours.")] = 24.0,
    concurrency: Annotated[int, typer.Option("--concurrency", help="Requests at once (1-32).")] = 4,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds per request.")] = 10.0,
    rate: Annotated[float, typer.Option("--rate", help="Requests per second per host.")] = 1.0,
    allow_private: Annotated[bool, typer.Option("--allow-private", help="Allow local and private addresses.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List what would be checked; contact nothing.")] = False,
    source: Sources = None, since: Since = None, until: Until = None, label: Labels = None,
    lang: Langs = None, as_json: AsJson = False,
) -> None:
    """Re-check item (or account) URLs now and record online / gone / error with the time."""
    from warding.analytics import liveness as lv

    w = get_app(ctx)
    politeness = lv.Politeness(concurrency=concurrency, timeout=timeout, rate=rate,
                               allow_private=allow_private)
    with friendly_errors():
        politeness.validate()
        with w.transaction() as session:
            f = _filter(source, since, until, label, lang)
            if accounts:
                if not url_template:
                    from warding.errors import InvalidInput

                    raise InvalidInput("--accounts needs --url-template")
                targets = lv.account_targets(session, f, url_template,
                                             recheck_hours=recheck_hours, limit=limit)
            else:
                targets = lv.item_targets(session, f, recheck_hours=recheck_hours, limit=limit)
        if dry_run:
            if as_json:
                emit_json({"targets": [{"subject": t.subject, "url": t.url, "item_id": t.item_id}
                                       for t in targets]})
            else:
                for t in targets:
                    typer.echo(t.url)
            return
        counts = lv.run_checks(w, targets, politeness, actor="cli")
    out = {"checked": len(targets), "online": counts["online"], "gone": counts["gone"],
           "error": counts["error"]}
    if as_json:
        emit_json(out)
    else:
        typer.echo(", ".join(f"{k}: {v}" for k, v in out.items()))


@event_app.command("add")
def event_add(
    ctx: typer.Context,
    day: Annotated[str, typer.Argument(help="The day (YYYY-MM-DD).")],
    label: Annotated[str, typer.Argument(help="A short label shown on the charts.")],
    note: Annotated[str, typer.Option("--note", help="A longer note (source, context).")] = "",
    as_json: AsJson = False,
) -> None:
    """Add a dated event (a battle, an attack, a takedown campaign) to the charts."""
    from warding.analytics.annotations import add_event
    from warding.analytics.annotations import as_json as event_json
    from warding.analytics.common import parse_day

    w = get_app(ctx)
    with friendly_errors(), w.transaction() as session:
        parsed = parse_day(day, "DAY")
        if parsed is None:
            from warding.errors import InvalidInput

            raise InvalidInput("DAY is required (YYYY-MM-DD)")
        out = event_json(add_event(session, parsed, label, note, actor="cli"))
    if as_json:
        emit_json(out)
    else:
        typer.echo(f"event {out['id']} added: {out['day']} {out['label']}")


@event_app.command("list")
def event_list(ctx: typer.Context, as_json: AsJson = False) -> None:
    """List the event annotations by day."""
    from warding.analytics.annotations import as_json as event_json
    from warding.analytics.annotations import list_events

    w = get_app(ctx)
    with friendly_errors(), w.transaction() as session:
        events = [event_json(e) for e in list_events(session)]
    if as_json:
        emit_json({"events": events})
    else:
        for e in events:
            typer.echo(f"{e['id']}\t{e['day']}\t{e['label']}")


@event_app.command("remove")
def event_remove(
    ctx: typer.Context,
    annotation_id: Annotated[int, typer.Argument(help="The event's id (see `stats event list`).")],
) -> None:
    """Remove an event annotation."""
    from warding.analytics.annotations import remove_event

    w = get_app(ctx)
    with friendly_errors(), w.transaction() as session:
        remove_event(session, annotation_id, actor="cli")
    typer.echo(f"event {annotation_id} removed")


# -- incidents (issue 20, docs/incidents.md) ------------------------------------------------
from warding.cli.incident import stats_incident as _stats_incident

app.command("incident")(_stats_incident)
