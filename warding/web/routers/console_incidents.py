"""The console's incident pages: the list (and a form to declare one), and per incident its
copies over time, open / decided / removed, the time to protect, and its clusters with a
random sample of near copies to review before one decision covers the cluster."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from warding.accounts.roles import allowed
from warding.cases.categories import POLICY_CATEGORIES
from warding.db.models import ItemMedia, MediaObject, User
from warding.errors import InvalidInput, WardingError
from warding.incidents.chart import incident_chart
from warding.incidents.clusters import clusters, decide_cluster
from warding.incidents.protect import incident_stats, protect_events
from warding.incidents.service import copies, create_incident, get_incident, list_incidents
from warding.review.decisions import DecisionInput
from warding.review.wellness import get_settings
from warding.web.deps import ActionsDep, SessionDep, WardingDep, require
from warding.web.templating import flash, render

router = APIRouter(include_in_schema=False)

Viewer = Annotated[User, Depends(require("view_cases"))]
Manager = Annotated[User, Depends(require("manage_banks"))]
Decider = Annotated[User, Depends(require("decide"))]
DEFAULT_DISTANCE = 31.0


@router.get("/incidents")
def incidents_page(request: Request, session: SessionDep, user: Viewer) -> Response:
    rows = [(i, incident_stats(session, i)) for i in list_incidents(session)]
    return render(request, "incidents.html", {
        "rows": rows, "can_manage": allowed(user.role, "manage_banks"), "active": "incidents",
        "now": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M")})


@router.post("/incidents")
def incidents_create(request: Request, session: SessionDep, user: Manager,
                     name: Annotated[str, Form()], started_at: Annotated[str, Form()],
                     banks: Annotated[str, Form()],
                     description: Annotated[str, Form()] = "",
                     priority: Annotated[int, Form()] = 90) -> Response:
    try:
        start = datetime.fromisoformat(started_at)
        start = start if start.tzinfo else start.replace(tzinfo=UTC)
    except ValueError:
        flash(request, f"started at {started_at!r}: expected a date and time", "error")
        return RedirectResponse("/incidents", status_code=303)
    try:
        incident = create_incident(session, name=name, started_at=start, actor=user.username,
                                   banks=[b.strip() for b in banks.split(",") if b.strip()],
                                   description=description, priority=priority)
    except WardingError as exc:
        session.rollback()
        flash(request, str(exc), "error")
        return RedirectResponse("/incidents", status_code=303)
    flash(request, f"Incident {incident.name!r} declared.")
    return RedirectResponse(f"/incidents/{incident.id}", status_code=303)


def _thumbs(session: Session, item_ids: list[int]) -> dict[int, str]:
    rows = session.execute(
        select(ItemMedia.item_id, ItemMedia.sha256, MediaObject.mime)
        .join(MediaObject, MediaObject.sha256 == ItemMedia.sha256)
        .where(ItemMedia.item_id.in_(item_ids)).order_by(ItemMedia.position)).all()
    out: dict[int, str] = {}
    for item_id, sha, mime in rows:
        if mime.startswith("image/") and mime != "image/svg+xml":
            out.setdefault(int(item_id), sha)
    return out


def _chart(session: Session, incident: Any, items: Any) -> Any:
    return incident_chart(items, protect_events(session, incident))


@router.get("/incidents/{incident_id}")
def incident_page(incident_id: int, request: Request, session: SessionDep,
                  user: Viewer, max_distance: float = DEFAULT_DISTANCE) -> Response:
    incident = get_incident(session, incident_id)
    items = copies(session, incident)
    can_decide = allowed(user.role, "decide")
    found = clusters(session, incident, max_distance) if can_decide else []
    sample_items = [s["item_id"] for c in found for s in c["sample"]]
    return render(request, "incident.html", {
        "incident": incident, "stats": incident_stats(session, incident),
        "chart": _chart(session, incident, items), "clusters": found, "max_distance": max_distance,
        "thumbs": _thumbs(session, sample_items) if allowed(user.role, "view_media") else {},
        "settings": get_settings(session, user.id), "can_decide": can_decide,
        "categories": list(POLICY_CATEGORIES),
        "active": "incidents"})


@router.post("/incidents/{incident_id}/clusters/{entry_id}/decide")
def cluster_decide(incident_id: int, entry_id: int, request: Request, w: WardingDep,
                   user: Decider, runner: ActionsDep, max_distance: Annotated[float, Form()],
                   violating: Annotated[str, Form()], reason: Annotated[str, Form()],
                   sample_seen: Annotated[str, Form()] = "",
                   reviewed: Annotated[str, Form()] = "",
                   category: Annotated[str, Form()] = "") -> Response:
    back = RedirectResponse(f"/incidents/{incident_id}?max_distance={max_distance:g}",
                            status_code=303)
    if reviewed != "yes" and sample_seen:
        flash(request, "Confirm that you reviewed the sample of near copies first.", "error")
        return back
    try:
        seen = [int(x) for x in sample_seen.split(",") if x.strip()]
        result = decide_cluster(
            w, incident_id, entry_id, max_distance,
            DecisionInput(violating=violating == "yes", reason=reason,
                          category=(category or None) if violating == "yes" else None),
            sample_seen=seen, actor=user.username, reviewer_id=user.id,
            run_actions=runner.inline)
    except (WardingError, ValueError) as exc:
        flash(request, str(exc) if isinstance(exc, WardingError)
              else str(InvalidInput("bad sample")), "error")
        return back
    runner.queued()
    flash(request, f"Decided {len(result['decided'])} cases of the cluster"
                   + (f"; {len(result['skipped'])} skipped" if result["skipped"] else "") + ".")
    return back
