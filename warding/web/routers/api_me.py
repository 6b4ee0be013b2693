"""The caller: who they are, their wellness settings, their counter and breaks."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from warding.accounts.roles import PERMISSIONS
from warding.db.models import User
from warding.review.wellness import get_settings, status, take_break, update_settings
from warding.web.deps import CurrentUser, SessionDep, require
from warding.web.schemas import ErrorOut
from warding.web.schemas_review import MeOut, WellnessOut, WellnessSettingsIn, WellnessSettingsOut

router = APIRouter(prefix="/api/me", tags=["me"],
                   responses={401: {"model": ErrorOut}, 403: {"model": ErrorOut}})

Person = Annotated[User, Depends(require("own_settings"))]


@router.get("", response_model=MeOut)
def me(user: CurrentUser) -> MeOut:
    return MeOut(username=user.username, role=user.role,
                 permissions=sorted(PERMISSIONS.get(user.role, frozenset())))


@router.get("/settings", response_model=WellnessSettingsOut)
def settings(session: SessionDep, user: Person) -> WellnessSettingsOut:
    return WellnessSettingsOut(**get_settings(session, user.id).as_json())


@router.patch("/settings", response_model=WellnessSettingsOut,
              responses={422: {"model": ErrorOut}})
def change_settings(body: WellnessSettingsIn, session: SessionDep,
                    user: Person) -> WellnessSettingsOut:
    """Change some settings; every change is written to the audit log (old and new value)."""
    changes = body.model_dump(exclude_none=True)
    return WellnessSettingsOut(**update_settings(session, user, changes,
                                                 actor=user.username).as_json())


@router.get("/wellness", response_model=WellnessOut)
def wellness(session: SessionDep, user: Person) -> WellnessOut:
    return WellnessOut(**status(session, user.id))


@router.post("/break", response_model=WellnessOut)
def took_break(session: SessionDep, user: Person) -> WellnessOut:
    take_break(session, user.id)
    return WellnessOut(**status(session, user.id))
