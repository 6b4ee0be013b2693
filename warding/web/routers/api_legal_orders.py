"""Removal orders (TCO Art. 3): receipt, compliance within the hour, Annex II and III,
scrutiny. Legal officers and admins work them; reviewers see those of their cases."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query

from warding.db.models import User
from warding.errors import NotFound
from warding.legal import orders
from warding.legal.access import case_scope
from warding.web.deps import SessionDep, WardingDep, require
from warding.web.schemas import ErrorOut
from warding.web.schemas_legal import (
    AnnexIIIOut,
    AnnexIIOut,
    ClarificationIn,
    ComplyIn,
    ComplyOut,
    InabilityIn,
    OrderOut,
    OrdersOut,
    RemovalOrderIn,
    ScrutinyIn,
)

router = APIRouter(prefix="/api/legal/removal-orders", tags=["legal"],
                   responses={401: {"model": ErrorOut}, 403: {"model": ErrorOut}})

Officer = Annotated[User, Depends(require("legal"))]
Viewer = Annotated[User, Depends(require("view_legal"))]
ERRORS: dict[int | str, dict[str, Any]] = {404: {"model": ErrorOut}, 409: {"model": ErrorOut}, 422: {"model": ErrorOut}}


def _location(x: object) -> object:
    return x.model_dump(exclude_none=True) if hasattr(x, "model_dump") else x


@router.post("", response_model=OrderOut, status_code=201, responses=ERRORS)
def receive(body: RemovalOrderIn, session: SessionDep, user: Officer) -> OrderOut:
    """Record a removal order (Annex I). ``due_at`` is ``received_at`` + 1 hour; ``items``
    are the stored items its locations resolve to (``resolved: false`` for a location
    Warding had not stored: the platform still gets the URL when the order is executed)."""
    data = body.model_dump()
    data["locations"] = [_location(x) for x in body.locations]
    order = orders.create_order(session, data, actor=user.username)
    return OrderOut(**orders.order_json(session, order))


@router.get("", response_model=OrdersOut, responses={422: {"model": ErrorOut}})
def list_orders(
    session: SessionDep, user: Viewer,
    status: Literal["open", "overdue", "unable", "complied", "annulled"] | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> OrdersOut:
    """Orders, the nearest deadline first. ``open`` excludes ``overdue`` ones."""
    return OrdersOut(orders=[OrderOut(**o) for o in orders.list_orders(
        session, status, case_ids=case_scope(session, user), limit=limit, offset=offset)])


@router.get("/{order_id}", response_model=OrderOut, responses=ERRORS)
def get_order(order_id: int, session: SessionDep, user: Viewer) -> OrderOut:
    order = orders.get_order(session, order_id)
    scope = case_scope(session, user)
    data = orders.order_json(session, order)
    if scope is not None and not {i["case_id"] for i in data["items"]} & set(scope):
        raise NotFound(f"no removal order {order_id}")
    return OrderOut(**data)


@router.post("/{order_id}/comply", response_model=ComplyOut, responses=ERRORS)
def comply(order_id: int, body: ComplyIn, w: WardingDep, user: Officer) -> ComplyOut:
    """Execute the order now: every item is removed (or access disabled) through the
    action sinks, without the review queue. Reversible: nothing is deleted."""
    return ComplyOut(**orders.comply(w, order_id, body.measure, actor=user.username,
                                     user_id=user.id))


@router.post("/{order_id}/inability", response_model=OrderOut, responses=ERRORS)
def inability(order_id: int, body: InabilityIn, session: SessionDep, user: Officer) -> OrderOut:
    """Annex III: the order cannot be executed; its clock stops until
    ``POST …/clarification``."""
    return OrderOut(**orders.inability(session, order_id, body.model_dump(),
                                       actor=user.username))


@router.post("/{order_id}/clarification", response_model=OrderOut, responses=ERRORS)
def clarification(order_id: int, body: ClarificationIn, session: SessionDep,
                  user: Officer) -> OrderOut:
    """The authority's clarification arrived, or the force majeure ended: the hour starts
    again."""
    return OrderOut(**orders.clarification(session, order_id, body.model_dump(),
                                           actor=user.username))


@router.post("/{order_id}/scrutiny", response_model=OrderOut, responses=ERRORS)
def scrutiny(order_id: int, body: ScrutinyIn, w: WardingDep, user: Officer) -> OrderOut:
    """Art. 4 scrutiny of a cross-border order; ``annulled`` reinstates every item now."""
    return OrderOut(**orders.scrutiny(w, order_id, body.model_dump(), actor=user.username,
                                      user_id=user.id))


@router.get("/{order_id}/annex-ii", response_model=AnnexIIOut, responses=ERRORS)
def annex_ii(order_id: int, w: WardingDep, session: SessionDep, user: Officer) -> AnnexIIOut:
    """Annex II, to send to the issuing authority; printable at
    ``/legal/removal-orders/{id}/annex-ii``."""
    return AnnexIIOut(**orders.annex_ii(session, order_id, w.settings))


@router.get("/{order_id}/annex-iii", response_model=AnnexIIIOut, responses=ERRORS)
def annex_iii(order_id: int, w: WardingDep, session: SessionDep,
              user: Officer) -> AnnexIIIOut:
    return AnnexIIIOut(**orders.annex_iii(session, order_id, w.settings))
