"""Small server-side SVG charts for the console dashboard.

The console's Content-Security-Policy forbids inline scripts and inline styles, and it
loads nothing from elsewhere. These charts need neither: they are plain SVG elements
with presentation attributes (``fill``, ``stroke``: not styles, so the CSP allows
them), and every mark carries a ``<title>`` that browsers show on hover (and screen
readers read). Every text is escaped. Interactivity comes from the filter forms beside
the charts, which re-render them on the server.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from html import escape

from markupsafe import Markup

from warding.analytics.charts import PALETTE

W, H = 880, 320
PAD_L, PAD_R, PAD_T, PAD_B = 56, 16, 24, 40


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _svg(body: list[str], width: int, height: int, label: str) -> Markup:
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
            f'viewBox="0 0 {width} {height}" width="100%" aria-label="{_e(label)}">'
            f"<title>{_e(label)}</title>")
    return Markup(head + "".join(body) + "</svg>")


def _nice_max(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 × 10^k at or above ``value`` (a readable axis top)."""
    if value <= 0:
        return 1.0
    mag = 10.0 ** math.floor(math.log10(value))
    for base in (1, 2, 2.5, 5, 10):
        if base * mag >= value:
            return base * mag
    return 10 * mag


def _ord(d: date | datetime) -> float:
    if isinstance(d, datetime):
        return d.timestamp() / 86400.0
    return float(d.toordinal() - date(1970, 1, 1).toordinal())


def _axes(body: list[str], x0: float, x1: float, y_max: float, width: int, height: int,
          x_label: str, y_label: str, x_is_date: bool) -> None:
    left, right, top, bottom = PAD_L, width - PAD_R, PAD_T, height - PAD_B
    body.append(f'<line class="axis" x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" '
                'stroke="#888"/>')
    body.append(f'<line class="axis" x1="{left}" y1="{top}" x2="{left}" y2="{bottom}" '
                'stroke="#888"/>')
    for i in range(5):
        value = y_max * i / 4
        y = bottom - (bottom - top) * i / 4
        body.append(f'<line x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" stroke="#eee"/>')
        text = f"{value:.2f}" if y_max <= 1.0 else f"{value:,.0f}"
        body.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" '
                    f'font-size="11" fill="#444">{text}</text>')
    for i in range(6):
        xv = x0 + (x1 - x0) * i / 5
        x = left + (right - left) * i / 5
        if x_is_date:
            text = date.fromordinal(round(xv) + date(1970, 1, 1).toordinal()).isoformat()
        else:
            text = f"{xv:,.0f}"
        anchor = "start" if i == 0 else "end" if i == 5 else "middle"
        body.append(f'<text x="{x:.1f}" y="{bottom + 16}" text-anchor="{anchor}" font-size="11" '
                    f'fill="#444">{_e(text)}</text>')
    body.append(f'<text x="{(left + right) / 2:.1f}" y="{height - 6}" text-anchor="middle" '
                f'font-size="11" fill="#222">{_e(x_label)}</text>')
    body.append(f'<text x="12" y="{top - 8}" font-size="11" fill="#222">{_e(y_label)}</text>')


@dataclass(frozen=True)
class Line:
    key: str
    points: Sequence[tuple[date, float]]


def line_chart(lines: Sequence[Line], *, label: str, y_label: str,
               events: Sequence[tuple[date, str]] = (), width: int = W,
               height: int = H) -> Markup:
    """Time series as step lines with a hoverable dot per point, and dashed event lines."""
    pts = [p for line in lines for p in line.points]
    if not pts:
        return _svg(['<text x="20" y="40" fill="#555">No data for these filters.</text>'],
                    width, 80, label)
    x0 = min(_ord(d) for d, _ in pts)
    x1 = max(_ord(d) for d, _ in pts)
    if x1 == x0:
        x1 = x0 + 1
    y_max = _nice_max(max(v for _, v in pts))
    left, right, top, bottom = PAD_L, width - PAD_R, PAD_T, height - PAD_B

    def sx(d: date) -> float:
        return left + (right - left) * (_ord(d) - x0) / (x1 - x0)

    def sy(v: float) -> float:
        return bottom - (bottom - top) * v / y_max

    body: list[str] = []
    _axes(body, x0, x1, y_max, width, height, "period", y_label, True)
    for i, (day, text) in enumerate(events):
        if not x0 <= _ord(day) <= x1:
            continue
        x = sx(day)
        body.append(f'<g class="event"><title>{_e(day.isoformat())}: {_e(text)}</title>'
                    f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{bottom}" stroke="#444" '
                    f'stroke-dasharray="4 3"/><text x="{x + 3:.1f}" y="{top + 10 + 11 * (i % 3)}" '
                    f'font-size="10" fill="#222">{_e(text[:40])}</text></g>')
    for i, line in enumerate(lines):
        colour = PALETTE[i % len(PALETTE)]
        coords: list[str] = []
        ordered = sorted(line.points)
        for j, (d, v) in enumerate(ordered):
            coords.append(f"{sx(d):.1f},{sy(v):.1f}")
            if j + 1 < len(ordered):
                coords.append(f"{sx(ordered[j + 1][0]):.1f},{sy(v):.1f}")
        body.append(f'<g class="series"><title>{_e(line.key)}</title>'
                    f'<polyline fill="none" stroke="{colour}" stroke-width="1.6" '
                    f'points="{" ".join(coords)}"/></g>')
        for d, v in ordered:
            body.append(f'<circle cx="{sx(d):.1f}" cy="{sy(v):.1f}" r="3" fill="{colour}">'
                        f"<title>{_e(line.key)} · {_e(d.isoformat())}: {v:,.0f}</title></circle>")
    _legend(body, [line.key for line in lines], width)
    return _svg(body, width, height, label)


def _legend(body: list[str], keys: Sequence[str], width: int) -> None:
    x = PAD_L + 120
    for i, key in enumerate(keys[:10]):
        colour = PALETTE[i % len(PALETTE)]
        body.append(f'<rect x="{x}" y="4" width="10" height="10" fill="{colour}"/>'
                    f'<text x="{x + 14}" y="13" font-size="11" fill="#222">{_e(key[:30])}</text>')
        x += 24 + 7 * min(len(key), 30)
        if x > width - 120:
            break


def hbar_chart(rows: Sequence[tuple[str, float, str]], *, label: str,
               width: int = W) -> Markup:
    """Horizontal bars: (name, value, hover text)."""
    if not rows:
        return _svg(['<text x="20" y="40" fill="#555">No data for these filters.</text>'],
                    width, 80, label)
    bar, gap, name_w = 18, 6, 200
    height = PAD_T + len(rows) * (bar + gap) + 10
    top_value = max(v for _, v, _ in rows) or 1
    span = width - name_w - 120
    body: list[str] = []
    for i, (name, value, hover) in enumerate(rows):
        y = PAD_T + i * (bar + gap)
        w = span * value / top_value
        body.append(f'<g class="bar"><title>{_e(hover)}</title>'
                    f'<text x="{name_w - 6}" y="{y + 13}" text-anchor="end" font-size="12" '
                    f'fill="#222">{_e(name[:32])}</text>'
                    f'<rect x="{name_w}" y="{y}" width="{max(w, 1):.1f}" height="{bar}" '
                    f'fill="{PALETTE[0]}"/>'
                    f'<text x="{name_w + w + 6:.1f}" y="{y + 13}" font-size="11" '
                    f'fill="#444">{value:,.0f}</text></g>')
    return _svg(body, width, height, label)


def step_chart(curves: Sequence[tuple[str, Sequence[tuple[float, float, int]]]], *,
               label: str, width: int = W, height: int = H) -> Markup:
    """Kaplan–Meier step curves: (group, [(t_days, survival, at_risk)])."""
    pts = [p for _, curve in curves for p in curve]
    if not pts:
        return _svg(['<text x="20" y="40" fill="#555">No data for these filters.</text>'],
                    width, 80, label)
    x1 = max(t for t, _, _ in pts) or 1.0
    left, right, top, bottom = PAD_L, width - PAD_R, PAD_T, height - PAD_B

    def sx(t: float) -> float:
        return left + (right - left) * t / x1

    def sy(s: float) -> float:
        return bottom - (bottom - top) * s

    body: list[str] = []
    _axes(body, 0, x1, 1.0, width, height, "days since first seen", "share still up", False)
    for i, (key, curve) in enumerate(curves):
        colour = PALETTE[i % len(PALETTE)]
        coords: list[str] = []
        for j, (t, s, _) in enumerate(curve):
            coords.append(f"{sx(t):.1f},{sy(s):.1f}")
            nxt = curve[j + 1][0] if j + 1 < len(curve) else t
            coords.append(f"{sx(nxt):.1f},{sy(s):.1f}")
        body.append(f'<g class="series"><title>{_e(key)}</title><polyline fill="none" '
                    f'stroke="{colour}" stroke-width="1.6" points="{" ".join(coords)}"/></g>')
        for t, s, at_risk in curve[:: max(1, len(curve) // 40)]:
            body.append(f'<circle cx="{sx(t):.1f}" cy="{sy(s):.1f}" r="2.5" fill="{colour}">'
                        f"<title>{_e(key)} · day {t:,.1f}: {s:.1%} still up, "
                        f"{at_risk:,} at risk</title></circle>")
    _legend(body, [k for k, _ in curves], width)
    return _svg(body, width, height, label)


@dataclass(frozen=True)
class Span:
    name: str
    start: datetime
    end: datetime
    hover: str
    colour_key: str
    dots: Sequence[tuple[date, int]] = ()


def gantt_chart(spans: Sequence[Span], *, label: str, width: int = W) -> Markup:
    """One row per span (a carrier's active period, a cluster's life), optional dots."""
    if not spans:
        return _svg(['<text x="20" y="40" fill="#555">No data for these filters.</text>'],
                    width, 80, label)
    row, name_w = 16, 190
    height = PAD_T + len(spans) * row + PAD_B
    x0 = min(_ord(s.start) for s in spans)
    x1 = max(_ord(s.end) for s in spans)
    if x1 - x0 < 1:
        x1 = x0 + 1
    right = width - PAD_R

    def sx(v: float) -> float:
        return name_w + (right - name_w) * (v - x0) / (x1 - x0)

    keys = sorted({s.colour_key for s in spans})
    colours = {k: PALETTE[i % len(PALETTE)] for i, k in enumerate(keys)}
    body: list[str] = []
    for i in range(6):
        xv = x0 + (x1 - x0) * i / 5
        text = date.fromordinal(int(xv) + date(1970, 1, 1).toordinal()).isoformat()
        anchor = "start" if i == 0 else "end" if i == 5 else "middle"
        body.append(f'<text x="{sx(xv):.1f}" y="{height - PAD_B + 16}" text-anchor="{anchor}" '
                    f'font-size="11" fill="#444">{text}</text>')
    for i, s in enumerate(spans):
        y = PAD_T + i * row
        a, b = sx(_ord(s.start)), sx(_ord(s.end))
        colour = colours[s.colour_key]
        body.append(f'<g class="span"><title>{_e(s.hover)}</title>'
                    f'<text x="{name_w - 6}" y="{y + 11}" text-anchor="end" font-size="11" '
                    f'fill="#222">{_e(s.name[:30])}</text>'
                    f'<rect x="{a:.1f}" y="{y + 3}" width="{max(b - a, 2):.1f}" height="{row - 6}" '
                    f'fill="{colour}" fill-opacity="0.55"/></g>')
        for d, n in s.dots:
            body.append(f'<circle cx="{sx(_ord(d)):.1f}" cy="{y + row / 2:.1f}" '
                        f'r="{min(2 + n ** 0.5, 7):.1f}" fill="{colour}">'
                        f"<title>{_e(d.isoformat())}: {n:,} items</title></circle>")
    _legend(body, keys, width)
    return _svg(body, width, height, label)
