"""Retroactive matching of a bank: its progress (docs/incidents.md)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from warding.db.models import User
from warding.incidents.runs import progress_of
from warding.web.deps import WardingDep, require
from warding.web.schemas import ErrorOut
from warding.web.schemas_incidents import RetroProgressOut

router = APIRouter(prefix="/api/banks", tags=["banks"],
                   responses={401: {"model": ErrorOut}, 403: {"model": ErrorOut}})

Viewer = Annotated[User, Depends(require("view_banks"))]


@router.get("/{name}/retro", response_model=RetroProgressOut,
            responses={404: {"model": ErrorOut}})
def retro_progress(name: str, w: WardingDep, user: Viewer) -> RetroProgressOut:
    """The bank's retroactive matching runs, newest first (a running one shows how many stored
    signals it has checked so far), and the changes still waiting for the server's worker."""
    return RetroProgressOut(**progress_of(w, name))
