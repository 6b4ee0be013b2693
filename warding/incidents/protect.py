"""Time to protect: how fast the platform protected its users, per incident and per bank.

Figures (all from stored timestamps, so they can be recomputed and audited):

- **hash received → matching live** (seconds): per retroactive run of the incident's
  banks since the incident started, from the earliest entry's arrival
  (``bank_entries.created_at``) to the moment the server's match engine held it
  (``retro_runs.live_at``); the largest over the runs is reported.
- **hash received → every earlier copy found** (seconds): from the same arrival to the end
  of the run that matched every stored item of the window (``retro_runs.finished_at``).
- **first upload → removal** per item: from the item's upload (``ingested_at``) to its
  first violating decision; median, p90 and max over the removed copies.
- **copies blocked at upload vs found afterwards**: copies whose first match was made when
  they were scanned vs by retroactive matching.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from warding.db.models_incidents import Incident, RetroRun
from warding.incidents.service import Copy, bank_ids, copies


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100): a value that occurred."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))
    return round(ordered[int(rank) - 1], 3)


def _spread(values: Sequence[float]) -> dict[str, float | None]:
    return {"count": len(values), "median": percentile(values, 50),
            "p90": percentile(values, 90), "max": round(max(values), 3) if values else None}


def _secs(a: datetime | None, b: datetime | None) -> float | None:
    if a is None or b is None:
        return None
    return round((b - a).total_seconds(), 3)


def bank_figures(session: Session, bank_id: int, since: datetime,
                 items: Sequence[Copy]) -> dict[str, Any]:
    runs = session.execute(select(RetroRun).where(
        RetroRun.bank_id == bank_id, RetroRun.status == "done",
        RetroRun.started_at >= since).order_by(RetroRun.id)).scalars().all()
    live = [s for s in (_secs(r.received_at, r.live_at) for r in runs) if s is not None]
    found = [s for s in (_secs(r.received_at, r.finished_at) for r in runs) if s is not None]
    mine = [c for c in items if c.bank_id == bank_id]
    return {
        "runs": len(runs),
        "hash_to_live_seconds": max(live) if live else None,
        "hash_to_all_earlier_found_seconds": max(found) if found else None,
        "copies": len(mine),
        "blocked_at_upload": sum(not c.retroactive for c in mine),
        "found_afterwards": sum(c.retroactive for c in mine),
        "upload_to_removal_seconds": _spread([s for c in mine if c.removed_at is not None
                                              for s in [_secs(c.uploaded_at, c.removed_at)]
                                              if s is not None]),
    }


def incident_stats(session: Session, incident: Incident) -> dict[str, Any]:
    """The incident's counts and time-to-protect figures (``warding stats incident``,
    ``GET /api/incidents/{id}/stats``, the incident page and the report)."""
    items = copies(session, incident)
    banks = bank_ids(session, incident)
    per_bank = {name: bank_figures(session, bid, incident.started_at, items)
                for bid, name in sorted(banks.items(), key=lambda kv: kv[1])}
    live = [b["hash_to_live_seconds"] for b in per_bank.values()
            if b["hash_to_live_seconds"] is not None]
    found = [b["hash_to_all_earlier_found_seconds"] for b in per_bank.values()
             if b["hash_to_all_earlier_found_seconds"] is not None]
    removal = [s for c in items if c.removed_at is not None
               for s in [_secs(c.uploaded_at, c.removed_at)] if s is not None]
    return {
        "incident": incident.name,
        "id": incident.id,
        "started_at": incident.started_at.isoformat(),
        "copies": len(items),
        "blocked_at_upload": sum(not c.retroactive for c in items),
        "found_afterwards": sum(c.retroactive for c in items),
        "open": sum(c.status == "open" for c in items),
        "decided": sum(c.status not in (None, "open", "escalated") for c in items),
        "removed": sum(c.removed_at is not None for c in items),
        "no_case": sum(c.case_id is None for c in items),
        "hash_to_live_seconds": max(live) if live else None,
        "hash_to_all_earlier_found_seconds": max(found) if found else None,
        "upload_to_removal_seconds": _spread(removal),
        "banks": per_bank,
    }


def protect_events(session: Session, incident: Incident) -> list[tuple[datetime, str]]:
    """When the hashes arrived and when every earlier copy was found (the first run of each
    bank since the incident started), for the chart."""
    out: list[tuple[datetime, str]] = []
    for bank_id, name in bank_ids(session, incident).items():
        run = session.execute(select(RetroRun).where(
            RetroRun.bank_id == bank_id, RetroRun.status == "done",
            RetroRun.started_at >= incident.started_at).order_by(RetroRun.id).limit(1)
        ).scalar_one_or_none()
        if run is not None and run.received_at is not None and run.finished_at is not None:
            out.append((run.received_at, f"{name}: hash received"))
            out.append((run.finished_at, "earlier copies found"))
    return out
