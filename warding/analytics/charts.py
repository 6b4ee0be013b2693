"""PNG and SVG charts of the measures, drawn with matplotlib's Agg canvas.

Only aggregate figures are drawn (counts, domains, cluster sizes, carrier ids, curves),
never an item's text. Figures are built with ``matplotlib.figure.Figure`` (no pyplot,
so no global state and no GUI backend); output is deterministic for the same data
(SVG ids salted with a constant, no dates in the metadata) so committed charts only
change when the figures do.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from warding.analytics.carriers import Carriers
from warding.analytics.outlinks import Outlinks
from warding.analytics.spread import Spread
from warding.analytics.survival import Survival
from warding.analytics.volume import Volume
from warding.errors import InvalidInput

FORMATS = ("png", "svg")
PALETTE = ("#0b4f8a", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#7f7f7f",
           "#8c564b", "#332288", "#999933")  # colour-blind-safe (Okabe–Ito / Tol)


def _figure(width: float = 9.0, height: float = 4.5) -> Any:
    import matplotlib

    matplotlib.rcParams["svg.hashsalt"] = "warding"
    matplotlib.rcParams["svg.fonttype"] = "none"  # text stays text: smaller, searchable
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def save(fig: Any, path: Path) -> Path:
    fmt = path.suffix.lstrip(".").lower()
    if fmt not in FORMATS:
        raise InvalidInput(f"{path}: charts are written as {' or '.join(FORMATS)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    metadata: dict[str, Any] = {"Date": None} if fmt == "svg" else {"Software": None}
    fig.savefig(str(path), format=fmt, metadata=metadata)
    return path


def _dt(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


def _events(ax: Any, events: Sequence[tuple[date, str]], lo: date | None, hi: date | None) -> None:
    shown = [(d, label) for d, label in events
             if (lo is None or d >= lo) and (hi is None or d <= hi)]
    for i, (day, label) in enumerate(shown):
        ax.axvline(_dt(day), color="#444", linestyle="--", linewidth=0.9)
        ax.annotate(label, xy=(_dt(day), 0.0), xycoords=("data", "axes fraction"),
                    xytext=(3, 4 + 11 * (i % 3)), textcoords="offset points", fontsize=8,
                    color="#222")


def volume_chart(v: Volume, path: Path, events: Sequence[tuple[date, str]] = (),
                 top: int = 8, title: str | None = None, facet: bool = False) -> Path:
    """Step lines, one per series (the ``top`` largest), gaps filled with zeros.
    ``facet`` draws one panel per series, each over its own period (for groups
    collected at different times, which one shared axis would squash)."""
    from warding.analytics.common import next_period, periods_between

    series = [s for s in v.series[:top] if s.points]
    panels = len(series) if facet and series else 1
    fig = _figure(height=4.5 if panels == 1 else 2.4 * panels + 0.6)
    axes = [fig.add_subplot(panels, 1, i + 1) for i in range(panels)]
    spans: list[list[date]] = [[] for _ in axes]
    for i, s in enumerate(series):
        ax_i = i if facet else 0
        pts = dict(s.points)
        days = list(periods_between(min(pts), max(pts), v.by))
        spans[ax_i] += [days[0], days[-1]]
        xs = [_dt(d) for d in [*days, next_period(days[-1], v.by)]]  # close the last step
        ys = [pts.get(d, 0) for d in days]
        axes[ax_i].plot(xs, [*ys, ys[-1]],
                        label=f"{s.key} ({s.total:,} items)", color=PALETTE[i % len(PALETTE)],
                        linewidth=1.4, drawstyle="steps-post")
    for ax, span in zip(axes, spans, strict=True):
        _events(ax, events, min(span) if span else None, max(span) if span else None)
        ax.set_ylabel(f"items per {v.by}")
        ax.set_ylim(bottom=0)
        ax.grid(True, alpha=0.3)
        if span:
            ax.legend(loc="upper left", fontsize=8, frameon=False)
    axes[0].set_title(title or f"Volume per {v.by}, by {v.split_by}")
    return save(fig, path)


def outlinks_chart(o: Outlinks, path: Path, top: int = 15, title: str | None = None) -> Path:
    fig = _figure(height=max(2.5, 0.32 * min(top, len(o.domains)) + 1.2))
    ax = fig.add_subplot()
    rows = o.domains[:top][::-1]
    ax.barh([d.domain for d in rows], [d.count for d in rows], color=PALETTE[0])
    for y, d in enumerate(rows):
        ax.annotate(f"{d.count:,} ({d.share:.1%})", xy=(d.count, y), xytext=(3, 0),
                    textcoords="offset points", va="center", fontsize=8)
    ax.set_xlabel("items linking to the domain")
    ax.set_title(title or "Top outlink domains")
    ax.margins(x=0.18)
    return save(fig, path)


def spread_chart(s: Spread, path: Path, top: int = 15, title: str | None = None) -> Path:
    """One row per cluster: a dot per period it re-appeared in (area grows with items),
    on a shared axis of days since the cluster was first seen."""
    fig = _figure(height=max(2.5, 0.35 * min(top, len(s.clusters)) + 1.4))
    ax = fig.add_subplot()
    clusters = s.clusters[:top]
    for row, c in enumerate(clusters):
        y = len(clusters) - row
        start = c.first_seen.date()
        xs = [max((p - start).days, 0) for p, _ in c.timeline]
        ax.plot([0, max(c.span_days, 0)], [y, y], color="#bbb", linewidth=1)
        ax.scatter(xs, [y] * len(xs), s=[12 + 6 * n for _, n in c.timeline],
                   color=PALETTE[row % len(PALETTE)], alpha=0.8, zorder=3)
    ax.set_yticks([len(clusters) - i for i in range(len(clusters))],
                  [f"#{c.rank}: {c.items} items, {c.accounts} acc., from {c.first_seen:%Y-%m-%d}"
                   for c in clusters], fontsize=8)
    ax.set_xlabel("days since the cluster was first seen")
    ax.set_title(title or f"Largest spread clusters: re-appearances per {s.by}")
    ax.grid(True, axis="x", alpha=0.3)
    return save(fig, path)


def survival_chart(sv: Survival, path: Path, title: str | None = None) -> Path:
    fig = _figure()
    ax = fig.add_subplot()
    for i, g in enumerate(sv.groups[:8]):
        if not g.curve:
            continue
        median = f", median {g.median_days:.1f} d" if g.median_days is not None else ""
        ax.step([t for t, _, _ in g.curve], [s for _, s, _ in g.curve], where="post",
                color=PALETTE[i % len(PALETTE)],
                label=f"{g.key} (n={g.n}, removed {g.events}{median})")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("days since first seen")
    ax.set_ylabel("share still up")
    lr = sv.logrank
    extra = f"; log-rank p={lr['p_value']:.3g}" if lr and lr.get("p_value") is not None else ""
    ax.set_title(title or f"Kaplan–Meier survival of {sv.unit}s{extra}")
    ax.grid(True, alpha=0.3)
    if sv.groups:
        ax.legend(loc="lower left", fontsize=8, frameon=False)
    return save(fig, path)


def carriers_chart(c: Carriers, path: Path, top: int = 30, title: str | None = None) -> Path:
    """Active periods: a bar from first to last item per carrier, coloured by group."""
    rows = c.carriers[:top]
    fig = _figure(height=max(2.5, 0.24 * len(rows) + 1.4))
    ax = fig.add_subplot()
    groups = sorted({r.group for r in rows})
    colours = {g: PALETTE[i % len(PALETTE)] for i, g in enumerate(groups)}
    import matplotlib.dates as mdates

    for i, r in enumerate(rows):
        y = len(rows) - i
        start = mdates.date2num(r.first_seen)
        width = max(mdates.date2num(r.last_seen) - start, 0.5)
        ax.barh(y, width, left=start, height=0.6, color=colours[r.group])
    ax.set_yticks([len(rows) - i for i in range(len(rows))],
                  [f"{r.carrier} ({r.items:,})" for r in rows], fontsize=7)
    ax.xaxis_date()
    from matplotlib.patches import Patch

    handles = [Patch(color=colours[g], label=g) for g in groups]
    if handles:
        ax.legend(handles=handles, loc="lower right", fontsize=8, frameon=False)
    ax.set_title(title or f"Active periods of the {len(rows)} largest carriers (items)")
    ax.grid(True, axis="x", alpha=0.3)
    fig.autofmt_xdate()
    return save(fig, path)
