"""Imminent threat to life (TCO Art. 14(5)): flag a case, notify law enforcement at once."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from warding.db.models import User
from warding.legal import threat
from warding.web.deps import SessionDep, WardingDep, require
from warding.web.schemas import ErrorOut
from warding.web.schemas_legal import ThreatIn, ThreatOut

router = APIRouter(prefix="/api/legal/cases", tags=["legal"],
                   responses={401: {"model": ErrorOut}, 403: {"model": ErrorOut}})

Decider = Annotated[User, Depends(require("view_legal"))]
ERRORS: dict[int | str, dict[str, Any]] = {404: {"model": ErrorOut}, 422: {"model": ErrorOut}}


@router.post("/{case_id}/threat-to-life", response_model=ThreatOut, status_code=201,
             responses=ERRORS)
def flag(case_id: int, body: ThreatIn, w: WardingDep, user: Decider) -> ThreatOut:
    """Flag the case; the configured law-enforcement contact is sent it at once
    (``WARDING_LAW_ENFORCEMENT_WEBHOOK_URL``), and retried until it answers."""
    with w.transaction() as session:
        alert = threat.flag(session, w.settings, case_id, body.note, actor=user.username)
        alert_id = alert.id
    threat.send_pending(w, alert_id)
    with w.transaction() as session:
        return ThreatOut(**next(a for a in threat.alerts_of_case(session, case_id)
                                if a["id"] == alert_id))


@router.get("/{case_id}/threat-to-life", response_model=list[ThreatOut], responses=ERRORS)
def alerts(case_id: int, session: SessionDep, user: Decider) -> list[ThreatOut]:
    return [ThreatOut(**a) for a in threat.alerts_of_case(session, case_id)]
