"""Preserved content after removals (TCO Art. 6): listed, extended, accessed (audited)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query

from warding.db.models import User
from warding.legal import preservation
from warding.web.deps import SessionDep, WardingDep, require
from warding.web.schemas import ErrorOut
from warding.web.schemas_legal import ExtendIn, PreservationOut, PreservationsOut

router = APIRouter(prefix="/api/legal/preservations", tags=["legal"],
                   responses={401: {"model": ErrorOut}, 403: {"model": ErrorOut}})

Officer = Annotated[User, Depends(require("legal"))]
ERRORS: dict[int | str, dict[str, Any]] = {404: {"model": ErrorOut}, 422: {"model": ErrorOut}}


@router.get("", response_model=PreservationsOut, responses={422: {"model": ErrorOut}})
def list_preservations(
    w: WardingDep, session: SessionDep, user: Officer,
    status: Literal["preserved", "expired", "purged"] | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> PreservationsOut:
    """Every removal's preservation: ``removed_at``, ``preserve_until`` (+6 months or as
    extended), status."""
    return PreservationsOut(preservations=[PreservationOut(**p) for p in
                                           preservation.list_preservations(
                                               session, w.settings, status, limit, offset)])


@router.post("/{preservation_id}/extend", response_model=PreservationOut, responses=ERRORS)
def extend(preservation_id: int, body: ExtendIn, session: SessionDep,
           user: Officer) -> PreservationOut:
    """Keep longer at the request of a competent authority or court (Art. 6(2))."""
    return PreservationOut(**preservation.extend(
        session, preservation_id, until=body.until, requested_by=body.requested_by,
        reference=body.reference, actor=user.username))


@router.get("/{preservation_id}/content", responses=ERRORS)
def content(preservation_id: int, session: SessionDep, user: Officer) -> dict[str, Any]:
    """The preserved content and its data, for an authority's request; audited."""
    return preservation.content(session, preservation_id, user.username)
