"""The incidents section of the analytics report (``warding stats report``): each
incident's copies and time to protect. Empty when no incident was declared."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from warding.incidents.protect import incident_stats
from warding.incidents.service import list_incidents


def _secs(v: Any) -> str:
    if v is None:
        return "–"
    v = float(v)
    if v < 120:
        return f"{v:.1f} s"
    if v < 7200:
        return f"{v / 60:.0f} min"
    return f"{v / 3600:.1f} h"


def incident_section(session: Session) -> list[str]:
    incidents = list_incidents(session)
    if not incidents:
        return []
    lines = ["## Incidents: time to protect", "",
             ("Per incident (docs/incidents.md): copies blocked at upload and found afterwards "
              "by retroactive matching; hash received → matching live and → every earlier copy "
              "found; upload → removal per copy (median, p90, max)."), "",
             ("| incident | started (UTC) | copies | blocked at upload | found afterwards | "
              "removed | hash → live | hash → all earlier found | upload → removal median / "
              "p90 / max |"), "|---|---|---|---|---|---|---|---|---|"]
    for incident in incidents:
        s = incident_stats(session, incident)
        r = s["upload_to_removal_seconds"]
        lines.append(
            f"| {incident.name} | {s['started_at'][:16].replace('T', ' ')} | {s['copies']:,} | "
            f"{s['blocked_at_upload']:,} | {s['found_afterwards']:,} | {s['removed']:,} | "
            f"{_secs(s['hash_to_live_seconds'])} | "
            f"{_secs(s['hash_to_all_earlier_found_seconds'])} | {_secs(r['median'])} / "
            f"{_secs(r['p90'])} / {_secs(r['max'])} |")
    return [*lines, ""]
