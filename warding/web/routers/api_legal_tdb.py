"""The statements for the DSA Transparency Database, in its schema, with their submission state."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from warding.db.models import User
from warding.legal.tdb_queue import list_submissions
from warding.web.deps import SessionDep, require
from warding.web.schemas import ErrorOut
from warding.web.schemas_legal_tdb import TdbSubmissionsOut

router = APIRouter(prefix="/api/legal/transparency-db", tags=["legal"],
                   responses={401: {"model": ErrorOut}, 403: {"model": ErrorOut}})

Viewer = Annotated[User, Depends(require("view_legal"))]


@router.get("/statements", response_model=TdbSubmissionsOut, response_model_exclude_none=True)
def statements(
    session: SessionDep,
    user: Viewer,
    status: Literal["pending", "sent", "rejected"] | None = None,
    case_id: int | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> TdbSubmissionsOut:
    return TdbSubmissionsOut.model_validate(list_submissions(
        session, status=status, case_id=case_id, limit=limit, offset=offset))
