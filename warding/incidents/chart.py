"""The incident chart: copies over time (by upload, split by how they were found), copies
removed, and when the hashes arrived and every earlier copy was found, as an SVG with time
labels (an incident is measured in minutes and hours, not days)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from markupsafe import Markup

from warding.analytics.charts import PALETTE
from warding.analytics.svg import (
    PAD_B,
    PAD_L,
    PAD_R,
    PAD_T,
    H,
    W,
    _e,
    _legend,
    _nice_max,
    _svg,
)
from warding.incidents.service import Copy


def series(items: Sequence[Copy]) -> dict[str, list[datetime]]:
    out: dict[str, list[datetime]] = {"uploaded, blocked at upload": [],
                                      "uploaded, found afterwards": [], "removed": []}
    for c in items:
        key = "uploaded, found afterwards" if c.retroactive else "uploaded, blocked at upload"
        out[key].append(c.uploaded_at)
        if c.removed_at is not None:
            out["removed"].append(c.removed_at)
    return {k: sorted(v) for k, v in out.items()}


def incident_chart(items: Sequence[Copy], events: Sequence[tuple[datetime, str]],
                   width: int = W, height: int = H) -> Markup:
    lines = series(items)
    times = [t for ts in lines.values() for t in ts] + [t for t, _ in events]
    label = "Copies of the incident over time"
    if not any(lines.values()):
        return _svg(['<text x="20" y="40" fill="#555">No copies yet.</text>'], width, 80, label)
    x0, x1 = min(times).timestamp(), max(times).timestamp()
    if x1 <= x0:
        x1 = x0 + 60
    y_max = _nice_max(max(len(v) for v in lines.values()))
    left, right, top, bottom = PAD_L, width - PAD_R, PAD_T, height - PAD_B

    def sx(t: datetime) -> float:
        return left + (right - left) * (t.timestamp() - x0) / (x1 - x0)

    def sy(v: float) -> float:
        return bottom - (bottom - top) * v / y_max

    body = [f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#888"/>',
            f'<line x1="{left}" y1="{top}" x2="{left}" y2="{bottom}" stroke="#888"/>']
    for i in range(5):
        y = bottom - (bottom - top) * i / 4
        body.append(f'<line x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" stroke="#eee"/>'
                    f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
                    f'fill="#444">{y_max * i / 4:,.0f}</text>')
    span_days = (x1 - x0) / 86400
    for i in range(6):
        t = datetime.fromtimestamp(x0 + (x1 - x0) * i / 5).astimezone(min(times).tzinfo)
        text = t.strftime("%m-%d %H:%M") if span_days >= 1 else t.strftime("%H:%M")
        anchor = "start" if i == 0 else "end" if i == 5 else "middle"
        body.append(f'<text x="{left + (right - left) * i / 5:.1f}" y="{bottom + 16}" '
                    f'text-anchor="{anchor}" font-size="11" fill="#444">{_e(text)}</text>')
    body.append(f'<text x="{(left + right) / 2:.1f}" y="{height - 6}" text-anchor="middle" '
                f'font-size="11" fill="#222">time (UTC)</text>'
                f'<text x="12" y="{top - 8}" font-size="11" fill="#222">copies (cumulative)</text>')
    for i, (t, text) in enumerate(events):
        x = sx(t)
        body.append(f'<g class="event"><title>{_e(t.isoformat())}: {_e(text)}</title>'
                    f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{bottom}" stroke="#444" '
                    f'stroke-dasharray="4 3"/><text x="{x - 3:.1f}" y="{top + 12 + 12 * i}" '
                    f'text-anchor="end" font-size="10" fill="#222">{_e(text)}</text></g>')
    for i, (key, ts) in enumerate(lines.items()):
        if not ts:
            continue
        colour = PALETTE[i % len(PALETTE)]
        pts = [(sx(t), sy(n + 1)) for n, t in enumerate(ts)]
        coords = [f"{sx(ts[0]):.1f},{sy(0):.1f}"]
        for j, (x, y) in enumerate(pts):
            coords.append(f"{x:.1f},{(sy(j) if j else sy(0)):.1f}")
            coords.append(f"{x:.1f},{y:.1f}")
        body.append(f'<g class="series"><title>{_e(key)}: {len(ts)}</title><polyline '
                    f'fill="none" stroke="{colour}" stroke-width="1.8" '
                    f'points="{" ".join(coords)}"/></g>')
    _legend(body, list(lines), width)
    return _svg(body, width, height, label)
