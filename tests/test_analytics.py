"""Each measure against hand-computed answers on small neutral fixtures
(tests/analytics_fixtures.py), through the CLI contract and the services."""

from __future__ import annotations

import csv
import re
import io
import socket
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.analytics_fixtures import GARDEN, write_posts
from tests.cli_helpers import CLI
from warding.analytics.common import StatsFilter, period_start
from warding.analytics.outlinks import SHORT_LINKS, domain_group
from warding.app import Warding
from warding.db.models import Case, ContentItem, Decision
from warding.db.models_analytics import LivenessObservation


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> CLI:
    """Ten posts scanned into two sources; a bank (group "garden-bank", category
    "other") matches the GARDEN text, so p1, p2, p4 and p9 get cases."""
    tmp = tmp_path_factory.mktemp("analytics")
    forum, board = write_posts(tmp / "posts")
    c = CLI(tmp)
    c.run("init")
    c.run("bank", "create", "known")
    c.run("bank", "add", "known", "--text", GARDEN, "--label", "group=garden-bank",
          "--label", "category=other")
    assert c.json("scan", str(forum), "--source", "forum", "--json")["items"] == 7
    assert c.json("scan", str(board), "--source", "board", "--json")["items"] == 3
    cases = c.json("case", "list", "--json")["cases"]
    by_ext = {x["item"]["external_id"]: x["id"] for x in cases}
    assert sorted(by_ext) == ["p1", "p2", "p4", "p9"]
    c.run("case", "decide", str(by_ext["p1"]), "--violating", "--reason", "test",
          "--category", "instruction")
    c.run("case", "decide", str(by_ext["p2"]), "--not-violating", "--reason", "test")
    return c


def _points(series: dict[str, Any]) -> dict[str, int]:
    return {p["period"]: p["count"] for p in series["points"]}


def test_weeks_start_on_monday() -> None:
    assert period_start(date(2026, 1, 11), "week") == date(2026, 1, 5)  # a Sunday
    assert period_start(date(2026, 1, 12), "week") == date(2026, 1, 12)  # a Monday
    assert period_start(date(2026, 2, 28), "month") == date(2026, 2, 1)


def test_volume_by_week_per_source(cli: CLI) -> None:
    out = cli.json("stats", "volume", "--by", "week", "--json")
    assert [s["key"] for s in out["series"]] == ["forum", "board"]
    forum, board = out["series"]
    assert forum["points"] == [{"period": "2026-01-05", "count": 3},
                               {"period": "2026-01-12", "count": 2},
                               {"period": "2026-01-19", "count": 2}]
    assert board["points"] == [{"period": "2026-01-05", "count": 1},
                               {"period": "2026-01-12", "count": 1},
                               {"period": "2026-02-02", "count": 1}]


def test_volume_fill_gaps_and_month(cli: CLI) -> None:
    out = cli.json("stats", "volume", "--by", "week", "--fill-gaps", "--source", "board", "--json")
    assert _points(out["series"][0]) == {"2026-01-05": 1, "2026-01-12": 1, "2026-01-19": 0,
                                         "2026-01-26": 0, "2026-02-02": 1}
    month = cli.json("stats", "volume", "--by", "month", "--json")
    assert {s["key"]: _points(s) for s in month["series"]} == {
        "forum": {"2026-01-01": 7}, "board": {"2026-01-01": 2, "2026-02-01": 1}}


def test_volume_split_by_label_category_outcome(cli: CLI) -> None:
    labels = cli.json("stats", "volume", "--by", "week", "--split-by", "label", "--json")
    # Bank groups win over the data set's own label: p1, p2, p4, p9 are "garden-bank".
    assert {s["key"]: _points(s) for s in labels["series"]} == {
        "garden-bank": {"2026-01-05": 2, "2026-01-12": 2},
        "beta": {"2026-01-12": 1, "2026-01-19": 2},
        "(none)": {"2026-01-05": 1, "2026-02-02": 1},
        "alpha": {"2026-01-05": 1},
    }
    outcome = cli.json("stats", "volume", "--by", "month", "--split-by", "outcome", "--json")
    assert {s["key"]: sum(p["count"] for p in s["points"]) for s in outcome["series"]} == {
        "no_case": 6, "pending": 2, "violating": 1, "not_violating": 1}
    cats = cli.json("stats", "volume", "--by", "month", "--split-by", "category", "--json")
    totals = {s["key"]: sum(p["count"] for p in s["points"]) for s in cats["series"]}
    # p1 decided violating (instruction); p2, p4, p9 keep the bank label; the rest none.
    assert totals == {"(none)": 6, "other": 3, "instruction": 1}


def test_volume_filters(cli: CLI) -> None:
    out = cli.json("stats", "volume", "--by", "week", "--since", "2026-01-12",
                   "--until", "2026-01-20", "--label", "beta", "--json")
    assert [(s["key"], _points(s)) for s in out["series"]] == [
        ("forum", {"2026-01-12": 1, "2026-01-19": 1})]


def test_volume_bad_options_are_clear(cli: CLI) -> None:
    result = cli.run("stats", "volume", "--by", "fortnight", code=1)
    assert "--by" in result.stderr and "fortnight" in result.stderr
    result = cli.run("stats", "volume", "--since", "yesterday", code=1)
    assert "--since" in result.stderr


def test_outlinks(cli: CLI) -> None:
    out = cli.json("stats", "outlinks", "--json")
    assert out["domains"] == [
        {"domain": "example.org", "count": 2, "share": round(2 / 7, 6)},
        {"domain": SHORT_LINKS, "count": 2, "share": round(2 / 7, 6)},
        {"domain": "archive.today", "count": 1, "share": round(1 / 7, 6)},
        {"domain": "example.co.uk", "count": 1, "share": round(1 / 7, 6)},
        {"domain": "youtube.com", "count": 1, "share": round(1 / 7, 6)},
    ]
    assert out["items"] == 10 and out["items_with_links"] == 7
    raw = cli.json("stats", "outlinks", "--no-group", "--limit", "3", "--json")
    assert [d["domain"] for d in raw["domains"]] == ["example.org", "archive.ph", "bit.ly"]


def test_outlinks_over_time(cli: CLI) -> None:
    out = cli.json("stats", "outlinks", "--by", "week", "--json")
    series = {s["key"]: _points(s) for s in out["series"]}
    assert series["example.org"] == {"2026-01-05": 1, "2026-02-02": 1}
    assert series[SHORT_LINKS] == {"2026-01-05": 2}


def test_domain_grouping() -> None:
    assert domain_group("https://news.bbc.co.uk/x") == "bbc.co.uk"
    assert domain_group("https://m.youtube.com/watch") == "youtube.com"
    assert domain_group("youtu.be/abc") == "youtube.com"
    assert domain_group("https://archive.is/abc") == "archive.today"
    assert domain_group("https://t.me/channel") == "telegram.org"
    assert domain_group("https://bit.ly/x") == SHORT_LINKS
    assert domain_group("https://someone.blogspot.com/") == "blogspot.com"
    assert domain_group("http://192.0.2.1/x") == "192.0.2.1"
    assert domain_group("https://t.c") is None  # cut short by the platform: no domain
    assert domain_group("not a url at all") is None


def test_public_suffix_list_is_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    from warding.analytics import outlinks

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the public suffix list tried to use the network")

    outlinks._psl.cache_clear()
    outlinks.registered_domain.cache_clear()
    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    assert outlinks.registered_domain("a.b.example.co.uk") == "example.co.uk"


def test_spread(cli: CLI) -> None:
    out = cli.json("stats", "spread", "--json")
    assert out["clusters_total"] == 2 and out["items_clustered"] == 7
    assert out["items_considered"] == 10
    garden, fence = out["clusters"]
    assert (garden["items"], garden["accounts"], garden["sources"]) == (4, 4, 2)
    assert garden["source_names"] == ["board", "forum"]
    assert garden["first_seen"].startswith("2026-01-05T09:00")
    assert garden["last_seen"].startswith("2026-01-14T18:00")
    assert garden["linked_by"] == ["text_near"]
    assert garden["timeline"] == [{"period": "2026-01-05", "count": 1},
                                  {"period": "2026-01-07", "count": 1},
                                  {"period": "2026-01-12", "count": 1},
                                  {"period": "2026-01-14", "count": 1}]
    assert (fence["items"], fence["accounts"], fence["sources"]) == (3, 2, 1)
    weekly = cli.json("stats", "spread", "--by", "week", "--min-size", "4", "--json")
    assert [c["items"] for c in weekly["clusters"]] == [4]
    assert weekly["clusters"][0]["timeline"] == [{"period": "2026-01-05", "count": 2},
                                                 {"period": "2026-01-12", "count": 2}]
    only_board = cli.json("stats", "spread", "--source", "board", "--json")
    assert only_board["clusters"] == []  # p9 alone in board


def test_spread_by_media_hash(wapp: Warding) -> None:
    """Identical media files link items that share no text."""
    from warding.analytics.spread import spread

    with wapp.transaction() as session:
        for i, (source, account) in enumerate([("s1", "x"), ("s2", "y"), ("s2", "z")]):
            item = ContentItem(source=source, external_id=f"m{i}", kind="file", account=account,
                               posted_at=datetime(2026, 3, 1 + i, tzinfo=UTC), input_ref="t")
            session.add(item)
            session.flush()
            from warding.db.models import Signal

            value = "ab" * 32 if i < 2 else "cd" * 32
            session.add(Signal(item_id=item.id, signal_type="sha256", value=value, origin="media"))
    with wapp.transaction() as session:
        out = spread(session)
    assert [(c.items, c.accounts, c.sources, c.linked_by) for c in out.clusters] == [
        (2, 2, ["s1", "s2"], ["sha256"])]


def test_carriers(cli: CLI) -> None:
    out = cli.json("stats", "carriers", "--json")
    rows = {c["carrier"]: c for c in out["carriers"]}
    assert out["total"] == 6
    # Most items first, then the earliest: a1, b1, a3 and a4 carry 2 items each.
    assert [c["carrier"] for c in out["carriers"]] == ["a1", "b1", "a3", "a4", "a2", "b2"]
    a1 = rows["a1"]
    assert (a1["items"], a1["decided"], a1["violating"], a1["violating_share"]) == (2, 1, 1, 0.5)
    assert a1["first_seen"].startswith("2026-01-05T09:00")
    assert a1["last_seen"].startswith("2026-01-11T23:30")
    assert a1["active_period_days"] == round((6 * 24 + 14.5) / 24, 3)
    assert a1["days_active"] == 2
    assert rows["a2"]["violating_share"] == 0.0 and rows["a2"]["decided"] == 1
    sources = cli.json("stats", "carriers", "--level", "source", "--json")
    assert [(c["carrier"], c["items"], c["violating"]) for c in sources["carriers"]] == [
        ("forum", 7, 1), ("board", 3, 0)]


def test_carriers_pseudonymised(cli: CLI) -> None:
    out = cli.json("stats", "carriers", "--pseudonymise", "--json")
    names = [c["carrier"] for c in out["carriers"]]
    assert not {"a1", "a2", "a3", "a4", "b1", "b2"} & set(names)
    assert out["pseudonymised"] is True
    assert all(n.startswith(c["group"] + "-") for n, c in zip(names, out["carriers"], strict=True))


def test_csv_and_parquet(cli: CLI, tmp_path: Path) -> None:
    text = cli.run("stats", "volume", "--by", "week", "--csv").stdout
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0] == {"key": "forum", "period": "2026-01-05", "count": "3"}
    assert len(rows) == 6
    import pyarrow.parquet as pq

    path = tmp_path / "outlinks.parquet"
    cli.run("stats", "outlinks", "--parquet", str(path))
    table = pq.read_table(path).to_pylist()
    assert table[0] == {"domain": "example.org", "count": 2, "share": round(2 / 7, 6)}
    empty = tmp_path / "empty.parquet"
    cli.run("stats", "spread", "--source", "nowhere", "--parquet", str(empty))
    assert pq.read_table(empty).num_rows == 0


def test_events_and_charts(cli: CLI, tmp_path: Path) -> None:
    added = cli.json("stats", "event", "add", "2026-01-12", "Neutral test event", "--json")
    assert cli.json("stats", "event", "list", "--json")["events"] == [added]
    cli.run("stats", "event", "add", "2026-13-01", "bad", code=1)
    for measure, name in (("volume", "v.png"), ("outlinks", "o.svg"), ("spread", "s.png"),
                          ("carriers", "c.svg"), ("survival", "k.png")):
        path = tmp_path / name
        cli.run("stats", measure, "--chart", str(path))
        data = path.read_bytes()
        assert data.startswith(b"\x89PNG") if name.endswith(".png") else b"<svg" in data[:400]
    svg_text = (tmp_path / "o.svg").read_text(encoding="utf-8")
    assert GARDEN not in svg_text and "example.org" in svg_text
    cli.run("stats", "event", "remove", str(added["id"]))
    assert cli.json("stats", "event", "list", "--json")["events"] == []
    audit = cli.json("audit", "verify", "--json")
    assert audit["ok"] is True


# -- survival -------------------------------------------------------------------------
DAY0 = datetime(2026, 3, 2, tzinfo=UTC)


def _day(n: float) -> datetime:
    return DAY0 + timedelta(days=n)


@pytest.fixture
def surv_app(wapp: Warding) -> Warding:
    """Five items: i1 removed by decision at day 2; i2 gone (liveness) at day 4; i3 never;
    i4 decided at day 6 but gone at day 5; i5 (source board, posted day 1) gone at day 3."""
    with wapp.transaction() as session:
        def item(ext: str, source: str, account: str, posted: float) -> ContentItem:
            row = ContentItem(source=source, external_id=ext, kind="post", account=account,
                              posted_at=_day(posted), input_ref="t", text="placeholder")
            session.add(row)
            session.flush()
            return row

        def decided(row: ContentItem, day: float) -> None:
            case = Case(item_id=row.id, status="decided", reasons=[])
            session.add(case)
            session.flush()
            session.add(Decision(case_id=case.id, violating=True, reason="test",
                                 created_at=_day(day)))

        def seen(row: ContentItem | None, status: str, day: float, *, source: str = "forum",
                 account: str | None = None) -> None:
            session.add(LivenessObservation(
                subject="item" if row else "account", item_id=row.id if row else None,
                source=row.source if row else source, account=row.account if row else account,
                url="https://example.org/x", status=status, checked_at=_day(day)))

        i1 = item("i1", "forum", "a1", 0)
        i2 = item("i2", "forum", "a1", 0)
        i3 = item("i3", "forum", "a2", 0)
        i4 = item("i4", "forum", "a3", 0)
        i5 = item("i5", "board", "b1", 1)
        item("i6", "forum", "a3", 9)
        decided(i1, 2)
        seen(i2, "online", 1)
        seen(i2, "gone", 4)
        seen(i3, "error", 3)
        seen(i3, "online", 8)
        decided(i4, 6)
        seen(i4, "gone", 5)
        seen(i5, "gone", 3)
        seen(None, "gone", 8, account="a1")
    return wapp


def test_item_survival_kaplan_meier(surv_app: Warding) -> None:
    from warding.analytics.survival import survival

    with surv_app.transaction() as session:
        out = survival(session, unit="item", as_of=_day(10),
                       f=StatsFilter(until=date(2026, 3, 5)))  # i6 (day 9) left out
    (g,) = out.groups
    assert (g.n, g.events, g.censored) == (5, 4, 1)
    # Durations: i1 2, i2 4, i3 10 (censored), i4 5, i5 2. KM: S(2)=3/5, S(4)=2/5, S(5)=1/5.
    assert [(t, round(s, 6)) for t, s, _ in g.curve] == [(0.0, 1.0), (2.0, 0.6), (4.0, 0.4),
                                                         (5.0, 0.2), (10.0, 0.2)]
    assert [r for _, _, r in g.curve] == [5, 5, 3, 2, 1]
    assert g.median_days == 4.0
    assert out.logrank is None


def test_item_survival_by_source_with_logrank(surv_app: Warding) -> None:
    from warding.analytics.survival import survival

    with surv_app.transaction() as session:
        out = survival(session, unit="item", split_by="source", as_of=_day(10),
                       f=StatsFilter(until=date(2026, 3, 5)))
    groups = {g.key: g for g in out.groups}
    forum, board = groups["forum"], groups["board"]
    # forum: 2, 4, 5 events and 10 censored: S = 3/4, 1/2, 1/4 → median 4.
    assert [round(s, 6) for _, s, _ in forum.curve] == [1.0, 0.75, 0.5, 0.25, 0.25]
    assert forum.median_days == 4.0
    assert (board.n, board.events, board.median_days) == (1, 1, 2.0)
    assert out.logrank is not None and out.logrank["test"] == "log-rank"
    assert 0.0 <= out.logrank["p_value"] <= 1.0
    from lifelines.statistics import logrank_test

    expected = logrank_test([2, 4, 10, 5], [2], [1, 1, 0, 1], [1])
    assert out.logrank["p_value"] == pytest.approx(float(expected.p_value))


def test_item_survival_censors_before_later_events(surv_app: Warding) -> None:
    from warding.analytics.survival import survival

    with surv_app.transaction() as session:
        out = survival(session, unit="item", as_of=_day(3), f=StatsFilter(until=date(2026, 3, 5)))
    (g,) = out.groups
    # By day 3 only i1 (day 2) and i5 (posted day 1, gone day 3: 2 days) were removed.
    assert (g.events, g.censored) == (2, 3)


def test_account_survival_liveness_and_activity_proxy(surv_app: Warding) -> None:
    from warding.analytics.survival import survival

    with surv_app.transaction() as session:
        plain = survival(session, unit="account", as_of=_day(10))
        proxy = survival(session, unit="account", as_of=_day(10), inactive_days=5)
    (g,) = plain.groups
    # a1 gone at day 8 (event); a2, a3 (last item day 9), b1 censored at day 10.
    assert (g.n, g.events, g.censored) == (4, 1, 3)
    (p,) = proxy.groups
    # With the proxy a2 (silent since day 0) and b1 (since day 1) are gone at their last item.
    assert (p.n, p.events, p.censored) == (4, 3, 1)
    assert any("activity proxy" in s for s in proxy.events_from)


def test_survival_cli_json(cli: CLI) -> None:
    out = cli.json("stats", "survival", "--split-by", "source", "--json")  # as of now
    assert out["unit"] == "item" and out["split_by"] == "source"
    groups = {g["key"]: g for g in out["groups"]}
    assert groups["forum"]["events"] == 1 and groups["board"]["events"] == 0  # p1 violating
    assert {"t_days", "survival", "at_risk"} == set(groups["forum"]["curve"][0])
    acc = cli.json("stats", "survival", "--unit", "account", "--group-end",
                   "--inactive-days", "3", "--json")
    assert acc["unit"] == "account" and sum(g["n"] for g in acc["groups"]) == 6


@pytest.mark.postgres
def test_measures_on_postgresql(pg_app: Warding, tmp_path: Path) -> None:
    """The same answers on PostgreSQL (server-side cursors, its JSON and date types)."""
    from warding.analytics.carriers import carriers
    from warding.analytics.outlinks import outlinks
    from warding.analytics.spread import spread
    from warding.analytics.survival import survival
    from warding.analytics.volume import volume
    from warding.pipeline.scan import scan_paths

    forum, board = write_posts(tmp_path / "posts")
    scan_paths(pg_app, [forum], "forum", actor="test")
    scan_paths(pg_app, [board], "board", actor="test")
    with pg_app.transaction() as session:
        vol = volume(session, by="week")
        assert [(s.key, [c for _, c in s.points]) for s in vol.series] == [
            ("forum", [3, 2, 2]), ("board", [1, 1, 1])]
        assert [(d.domain, d.count) for d in outlinks(session).domains][:2] == [
            ("example.org", 2), (SHORT_LINKS, 2)]
        assert [c.items for c in spread(session).clusters] == [4, 3]
        assert survival(session, unit="account", split_by="source").groups[0].n == 4
        assert carriers(session).total == 6


def test_report(cli: CLI, tmp_path: Path) -> None:
    out = tmp_path / "docs" / "report.md"
    cli.run("stats", "report", "--out", str(out), "--title", "Fixture report",
            "--note", "A neutral note.", "--command", "make analysis")
    text = out.read_text(encoding="utf-8")
    for heading in ("## Weekly volume by label", "## Top outlink domains",
                    "## Largest spread clusters", "## Account activity periods",
                    "## Account survival"):
        assert heading in text
    assert "Generated by `make analysis`" in text and "- A neutral note." in text
    assert "| garden-bank | 4 |" in text  # volume table: the bank group's 4 items
    assert "| 1 | example.org | 2 | 28.6% |" in text
    charts = sorted(p.name for p in (tmp_path / "docs" / "report").iterdir())
    assert charts == ["carriers-activity.png", "outlinks-top.png", "spread-clusters.png",
                      "survival-accounts.png", "volume-weekly.png"]
    # Aggregates only: no text, no account name (pseudonyms instead).
    assert GARDEN not in text
    assert not re.search(r"\b(a[1-4]|b[12])\b", text)


def test_report_on_an_empty_database(wapp: Warding, tmp_path: Path) -> None:
    from warding.analytics.report import write_report

    with wapp.transaction() as session:
        paths = write_report(session, tmp_path / "empty.md")
    assert len(paths) == 6 and all(p.exists() for p in paths)
