"""Incidents: create and list them, their time-to-protect figures, clusters and cluster
decisions (docs/incidents.md)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from warding.db.models import User
from warding.incidents.clusters import clusters, decide_cluster
from warding.incidents.protect import incident_stats
from warding.incidents.service import create_incident, get_incident, incident_json, list_incidents
from warding.review.decisions import DecisionInput
from warding.web.deps import ActionsDep, SessionDep, WardingDep, require
from warding.web.schemas import ErrorOut
from warding.web.schemas_incidents import (
    ClusterDecisionIn,
    ClusterDecisionOut,
    ClusterOut,
    ClustersOut,
    IncidentIn,
    IncidentOut,
    IncidentsOut,
    IncidentStatsOut,
)

router = APIRouter(prefix="/api/incidents", tags=["incidents"],
                   responses={401: {"model": ErrorOut}, 403: {"model": ErrorOut}})

Viewer = Annotated[User, Depends(require("view_cases"))]
Manager = Annotated[User, Depends(require("manage_banks"))]
Decider = Annotated[User, Depends(require("decide"))]


@router.post("", response_model=IncidentOut, status_code=201,
             responses={409: {"model": ErrorOut}, 422: {"model": ErrorOut}})
def new_incident(body: IncidentIn, session: SessionDep, user: Manager) -> IncidentOut:
    """Declare an incident: the banks holding its hashes and when it started. Its open cases
    are raised to ``priority`` in the queue."""
    incident = create_incident(session, name=body.name, started_at=body.started_at,
                               banks=body.banks, actor=user.username,
                               description=body.description, priority=body.priority,
                               notify_step=body.notify_step)
    return IncidentOut(**incident_json(incident))


@router.get("", response_model=IncidentsOut)
def incidents(session: SessionDep, user: Viewer) -> IncidentsOut:
    return IncidentsOut(incidents=[IncidentOut(**incident_json(i))
                                   for i in list_incidents(session)])


@router.get("/{incident_id}", response_model=IncidentOut, responses={404: {"model": ErrorOut}})
def incident(incident_id: int, session: SessionDep, user: Viewer) -> IncidentOut:
    return IncidentOut(**incident_json(get_incident(session, incident_id)))


@router.get("/{incident_id}/stats", response_model=IncidentStatsOut,
            responses={404: {"model": ErrorOut}})
def stats(incident_id: int, session: SessionDep, user: Viewer) -> IncidentStatsOut:
    """Copies found at upload and afterwards, open, decided, removed, and the time to protect
    (hash received → matching live, → every earlier copy found; upload → removal)."""
    return IncidentStatsOut(**incident_stats(session, get_incident(session, incident_id)))


@router.get("/{incident_id}/clusters", response_model=ClustersOut,
            responses={404: {"model": ErrorOut}})
def incident_clusters(incident_id: int, session: SessionDep, user: Decider,
                      max_distance: Annotated[float, Query(ge=0)] = 31) -> ClustersOut:
    """Open cases grouped by the bank entry they match within ``max_distance``, each with a
    random sample of near copies to review before deciding the cluster."""
    found = clusters(session, get_incident(session, incident_id), max_distance)
    return ClustersOut(clusters=[ClusterOut(**c) for c in found])


@router.post("/{incident_id}/clusters/{entry_id}/decision", response_model=ClusterDecisionOut,
             status_code=201, responses={404: {"model": ErrorOut}, 422: {"model": ErrorOut}})
def cluster_decision(incident_id: int, entry_id: int, body: ClusterDecisionIn, w: WardingDep,
                     user: Decider, runner: ActionsDep) -> ClusterDecisionOut:
    """One decision carried out on every open case of the cluster, each with its own decision,
    actions and audit event; ``sample_seen`` must name the near copies reviewed first."""
    result = decide_cluster(
        w, incident_id, entry_id, body.max_distance,
        DecisionInput(violating=body.violating, reason=body.reason,
                      category=body.category or None, exemption=body.exemption or None),
        sample_seen=body.sample_seen, actor=user.username, reviewer_id=user.id,
        run_actions=runner.inline)
    runner.queued()
    return ClusterDecisionOut(**result)
