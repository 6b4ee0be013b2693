"""Actions: the delivery log, the dead-letter list, retrying, and running due actions."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from warding.actions.delivery import get_action, list_actions, list_attempts, requeue, status_counts
from warding.actions.executor import run_pending
from warding.db.models import User
from warding.web.deps import SessionDep, WardingDep, require
from warding.web.schemas import ErrorOut
from warding.web.schemas_review import (
    ActionDetailOut,
    ActionOut,
    ActionsOut,
    AttemptOut,
    AttemptsOut,
    RunOut,
)

router = APIRouter(prefix="/api/actions", tags=["actions"],
                   responses={401: {"model": ErrorOut}, 403: {"model": ErrorOut}})

Viewer = Annotated[User, Depends(require("view_actions"))]
Manager = Annotated[User, Depends(require("manage_actions"))]
Status = Literal["pending", "sending", "failed", "done", "skipped", "dead"]


@router.get("", response_model=ActionsOut)
def actions(
    session: SessionDep,
    user: Viewer,
    status: Status | None = None,
    sink: Annotated[str | None, Query(max_length=60)] = None,
    case_id: int | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> ActionsOut:
    """Actions, newest first; ``status=dead`` is the dead-letter list."""
    rows = list_actions(session, status=status, sink=sink, case_id=case_id, limit=limit,
                        offset=offset)
    return ActionsOut(actions=[ActionOut(**a) for a in rows], counts=status_counts(session))


@router.get("/attempts", response_model=AttemptsOut)
def attempts(
    session: SessionDep,
    user: Viewer,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> AttemptsOut:
    """The delivery log: every attempt of every action, newest first."""
    return AttemptsOut(attempts=[AttemptOut(**t) for t in
                                 list_attempts(session, limit=limit, offset=offset)])


@router.post("/run", response_model=RunOut)
def run_due(w: WardingDep, user: Manager) -> RunOut:
    """Run every due action now (what the server's worker does every few seconds)."""
    return RunOut(ran=run_pending(w))


@router.get("/{action_id}", response_model=ActionDetailOut, responses={404: {"model": ErrorOut}})
def action(action_id: int, session: SessionDep, user: Viewer) -> ActionDetailOut:
    return ActionDetailOut(**get_action(session, action_id))


@router.post("/{action_id}/retry", response_model=ActionOut,
             responses={404: {"model": ErrorOut}, 409: {"model": ErrorOut}})
def retry(action_id: int, w: WardingDep, session: SessionDep, user: Manager) -> ActionOut:
    """Put a dead-lettered or failed action back in the queue, due now."""
    return ActionOut(**requeue(session, action_id, actor=user.username,
                               extra_attempts=w.settings.action_max_attempts))
