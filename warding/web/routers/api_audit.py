"""The audit log's hash chain, checked on demand (admins only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from warding.audit.log import verify
from warding.db.models import User
from warding.web.deps import SessionDep, require
from warding.web.schemas import AuditVerifyOut, ErrorOut

router = APIRouter(prefix="/api/audit", tags=["audit"],
                   responses={401: {"model": ErrorOut}, 403: {"model": ErrorOut}})


@router.get("/verify", response_model=AuditVerifyOut)
def verify_chain(session: SessionDep,
                 user: Annotated[User, Depends(require("view_audit"))]) -> AuditVerifyOut:
    result = verify(session)
    return AuditVerifyOut(ok=result.ok, events=result.events, first_bad_id=result.first_bad_id,
                          problem=result.problem)
