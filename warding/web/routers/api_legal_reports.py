"""The yearly TCO transparency report (Art. 7) with the DSA counts."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from warding.db.models import User
from warding.legal.reports import tco_report
from warding.web.deps import SessionDep, WardingDep, require
from warding.web.schemas import ErrorOut

router = APIRouter(prefix="/api/legal/reports", tags=["legal"],
                   responses={401: {"model": ErrorOut}, 403: {"model": ErrorOut}})

Officer = Annotated[User, Depends(require("legal"))]


@router.get("/tco", responses={422: {"model": ErrorOut}})
def tco(w: WardingDep, session: SessionDep, user: Officer,
        year: Annotated[int, Query(ge=2000, le=2100)]) -> dict[str, Any]:
    """TCO Art. 7(3)(a)–(g) and the DSA counts for one calendar year; the page ready to
    publish is ``/legal/reports/tco?year=`` (or ``warding report tco --year``)."""
    return tco_report(session, w.settings, year)
