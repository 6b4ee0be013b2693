"""Clusters: the open cases of an incident whose items match the same bank entry within a
distance the reviewer chooses, decided with one decision.

Before a cluster is decided, a random sample of its *near* copies (distance above 0:
re-encoded, resized, bannered) is shown to the reviewer, and the decision must name the
sample it was shown: an exact copy is the known item, a near one may be something else
(a news report quoting a frame, a parody), and the sample is where that shows. The
decision is then carried out on every case of the cluster, each with its own decision
row, actions and ``case.decided`` audit event, plus one ``incident.cluster_decided``
event per transaction listing them. A case that cannot be decided now (claimed by
someone else, decided meanwhile) is skipped and reported.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from warding.actions.executor import queue_actions, run_pending
from warding.audit.log import record
from warding.db.engine import begin_write
from warding.db.models import Bank, Case, ContentItem, Match
from warding.db.models_incidents import Incident
from warding.errors import Conflict, InvalidInput, NotFound, WardingError
from warding.incidents.events import ClusterDecided
from warding.incidents.service import bank_ids, get_incident
from warding.review.decisions import DecisionInput, decide, validate

SAMPLE = 5
CASES_PER_TRANSACTION = 500


@dataclass(frozen=True)
class Member:
    case_id: int
    item_id: int
    distance: float


def members(session: Session, incident: Incident, entry_id: int,
            max_distance: float) -> list[Member]:
    """Open cases of the incident's items matching ``entry_id`` within ``max_distance``."""
    banks = bank_ids(session, incident)
    rows = session.execute(
        select(Case.id, Match.item_id, Match.distance)
        .join(Case, Case.item_id == Match.item_id)
        .join(ContentItem, ContentItem.id == Match.item_id)
        .where(Match.entry_id == entry_id, Match.bank_id.in_(list(banks)),
               Match.distance <= max_distance, Case.status == "open",
               ContentItem.ingested_at >= incident.started_at)
        .order_by(Case.id)).all()
    best: dict[int, Member] = {}
    for cid, item_id, dist in rows:
        d = float(dist or 0.0)
        if cid not in best or best[cid].distance > d:
            best[cid] = Member(int(cid), int(item_id), d)
    return list(best.values())


def clusters(session: Session, incident: Incident, max_distance: float,
             rng: random.Random | None = None) -> list[dict[str, Any]]:
    """Every cluster of open cases, largest first, with a random sample of near copies."""
    rng = rng or random.SystemRandom()
    banks = bank_ids(session, incident)
    entries = session.execute(
        select(Match.entry_id, Match.bank_id).join(Case, Case.item_id == Match.item_id)
        .join(ContentItem, ContentItem.id == Match.item_id)
        .where(Match.bank_id.in_(list(banks)), Case.status == "open",
               Match.distance <= max_distance,
               ContentItem.ingested_at >= incident.started_at).distinct()).all()
    out = []
    for entry_id, bank_id in entries:
        found = members(session, incident, int(entry_id), max_distance)
        if not found:
            continue
        near = [m for m in found if m.distance > 0]
        sample = rng.sample(near, min(SAMPLE, len(near)))
        out.append({"entry_id": int(entry_id), "bank": banks.get(int(bank_id), ""),
                    "max_distance": max_distance, "cases": len(found),
                    "exact": len(found) - len(near), "near": len(near),
                    "sample": [{"case_id": m.case_id, "item_id": m.item_id,
                                "distance": m.distance} for m in sample]})
    return sorted(out, key=lambda c: (-c["cases"], c["entry_id"]))


def decide_cluster(app: Any, incident_ref: int | str, entry_id: int, max_distance: float,
                   d: DecisionInput, *, sample_seen: list[int], actor: str,
                   reviewer_id: int | None, run_actions: bool = True) -> dict[str, Any]:
    """Carry out one decision on every open case of the cluster (see the module docstring)."""
    if d.kind != "decision":
        raise InvalidInput("a cluster decision is a first decision; appeal cases one by one")
    if max_distance < 0:
        raise InvalidInput("max_distance must be at least 0")
    validate(d)  # a bad decision is refused as a whole, not skipped case by case
    with app.transaction() as session:
        incident = get_incident(session, incident_ref)
        incident_id = incident.id
        if session.get(Bank, _entry_bank(session, entry_id)) is None:
            raise NotFound(f"no bank entry {entry_id}")
        found = members(session, incident, entry_id, max_distance)
    if not found:
        raise NotFound(f"no open case of incident {incident_ref!r} matches entry {entry_id} "
                       f"within distance {max_distance}")
    near = {m.case_id for m in found if m.distance > 0}
    seen = set(sample_seen)
    if seen - near:
        raise InvalidInput(f"case(s) {', '.join(map(str, sorted(seen - near)))} are not near "
                           "copies in this cluster")
    if len(seen) < min(SAMPLE, len(near)):
        raise InvalidInput(f"review a sample of at least {min(SAMPLE, len(near))} near copies "
                           "first (GET the incident's clusters) and name them in sample_seen")
    decided: list[dict[str, Any]] = []
    skipped: list[dict[str, Any]] = []
    action_ids: list[int] = []
    sinks = list(app.settings.action_sinks)
    for start in range(0, len(found), CASES_PER_TRANSACTION):
        chunk = found[start:start + CASES_PER_TRANSACTION]
        done_here: list[tuple[int, int]] = []
        with app.transaction() as session:
            begin_write(session)
            for m in chunk:
                note = f" [incident cluster: entry {entry_id}, distance {m.distance:g}]"
                one = DecisionInput(violating=d.violating, reason=d.reason + note,
                                    category=d.category, exemption=d.exemption)
                try:
                    with session.begin_nested():
                        decision = decide(session, m.case_id, one, actor=actor,
                                          reviewer_id=reviewer_id)
                        actions = queue_actions(session, decision, sinks,
                                                max_attempts=app.settings.action_max_attempts)
                except (Conflict, WardingError) as exc:
                    skipped.append({"case_id": m.case_id, "reason": str(exc)})
                    continue
                action_ids += [a.id for a in actions]
                done_here.append((m.case_id, decision.id))
            if done_here:
                record(session, ClusterDecided(
                    incident_id, entry_id, max_distance, [c for c, _ in done_here],
                    [x for _, x in done_here], d.violating, sorted(seen)), actor)
        decided += [{"case_id": c, "decision_id": x} for c, x in done_here]
    if run_actions and action_ids:
        run_pending(app, action_ids=action_ids)
    return {"incident_id": incident_id, "entry_id": entry_id, "max_distance": max_distance,
            "decided": decided, "skipped": skipped, "actions_queued": len(action_ids)}


def _entry_bank(session: Session, entry_id: int) -> int:
    from warding.db.models import BankEntry

    found = session.execute(select(BankEntry.bank_id).where(BankEntry.id == entry_id)).scalar()
    if found is None:
        raise NotFound(f"no bank entry {entry_id}")
    return int(found)
