"""Statements of reasons written by the ``notify_uploader`` sink, for the platform to send on."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from warding.actions.notice import get_statement, list_statements
from warding.db.models import User
from warding.web.deps import SessionDep, require
from warding.web.schemas import ErrorOut
from warding.web.schemas_review import StatementOut, StatementsOut

router = APIRouter(prefix="/api/statements", tags=["statements"],
                   responses={401: {"model": ErrorOut}, 403: {"model": ErrorOut}})

Viewer = Annotated[User, Depends(require("view_statements"))]


@router.get("", response_model=StatementsOut)
def statements(
    session: SessionDep,
    user: Viewer,
    case_id: int | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> StatementsOut:
    """Statements of reasons, newest first. The platform's client (role ``api``) gets only
    the released ones: a removal order can forbid telling the uploader for a while."""
    return StatementsOut(statements=[StatementOut(**s) for s in list_statements(
        session, case_id=case_id, limit=limit, offset=offset,
        released_only=user.role == "api")])


@router.get("/{statement_id}", response_model=StatementOut, responses={404: {"model": ErrorOut}})
def statement(statement_id: int, session: SessionDep, user: Viewer) -> StatementOut:
    return StatementOut(**get_statement(session, statement_id, released_only=user.role == "api"))
