"""Notices of illegal content (DSA Art. 16): each opens (or joins) a case for review."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query

from warding.db.models import User
from warding.errors import NotFound
from warding.legal import notices
from warding.legal.access import case_scope, redact
from warding.web.deps import SessionDep, require
from warding.web.schemas import ErrorOut
from warding.web.schemas_legal import NoticeIn, NoticeOut, NoticesOut

router = APIRouter(prefix="/api/legal/notices", tags=["legal"],
                   responses={401: {"model": ErrorOut}, 403: {"model": ErrorOut}})

Intake = Annotated[User, Depends(require("submit_notice"))]
Viewer = Annotated[User, Depends(require("view_legal"))]
ERRORS: dict[int | str, dict[str, Any]] = {404: {"model": ErrorOut}, 422: {"model": ErrorOut}}


@router.post("", response_model=NoticeOut, status_code=201, responses=ERRORS)
def receive(body: NoticeIn, session: SessionDep, user: Intake) -> NoticeOut:
    """Record a notice (the platform's notice form posts it here); each location's item
    gets a case with the reason ``notice``, a trusted flagger's first."""
    data = body.model_dump()
    data["locations"] = [x if isinstance(x, str) else x.model_dump(exclude_none=True)
                         for x in body.locations]
    return NoticeOut(**notices.create_notice(session, data, actor=user.username))


@router.get("", response_model=NoticesOut, responses={422: {"model": ErrorOut}})
def list_notices(
    session: SessionDep, user: Viewer,
    status: Literal["open", "decided"] | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> NoticesOut:
    return NoticesOut(notices=[NoticeOut(**redact(n, user)) for n in notices.list_notices(
        session, status, case_ids=case_scope(session, user), limit=limit, offset=offset)])


@router.get("/{notice_id}", response_model=NoticeOut, responses=ERRORS)
def get_notice(notice_id: int, session: SessionDep, user: Viewer) -> NoticeOut:
    n = notices.get_notice(session, notice_id)
    scope = case_scope(session, user)
    if scope is not None and not {c["case_id"] for c in n["cases"]} & set(scope):
        raise NotFound(f"no notice {notice_id}")
    return NoticeOut(**redact(n, user))
