"""The review console's queue (HTML): filters, ordering, "next case", the break page and
the shortcuts page.

The queue's filters are kept in the session, so "next case" after a decision
continues with the queue the reviewer was working on.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from warding.accounts.roles import allowed
from warding.cases.categories import POLICY_CATEGORIES
from warding.cases.queries import ORDERS, QueueFilter, list_cases, next_case
from warding.db.models import User
from warding.errors import InvalidInput
from warding.review.context import copies_count
from warding.review.wellness import status as wellness_status
from warding.web.deps import SessionDep, require
from warding.web.templating import flash, render

router = APIRouter(include_in_schema=False)

Viewer = Annotated[User, Depends(require("view_cases"))]
Decider = Annotated[User, Depends(require("decide"))]

STATUSES = ("open", "escalated", "decided", "all")
REASONS = ("bank_match", "classifier")
# Console age choices -> (min_age_hours, max_age_hours)
AGES: dict[str, tuple[float | None, float | None]] = {
    "": (None, None), "lt1h": (None, 1), "lt24h": (None, 24), "gt24h": (24, None),
    "gt7d": (168, None),
}
AGE_LABELS = {"": "any", "lt1h": "under 1 hour", "lt24h": "under 24 hours",
              "gt24h": "over 24 hours", "gt7d": "over 7 days"}
QUEUE_KEY = "queue_query"
FILTER_NAMES = ("status", "bank", "category", "lang", "source", "age", "assignee", "reason",
                "order")


def queue_filter(params: dict[str, str], *, offset: int = 0) -> QueueFilter:
    """A QueueFilter from the console's query parameters; bad values name themselves."""
    status = params.get("status") or "open"
    if status not in STATUSES:
        raise InvalidInput(f"unknown status {status!r}; use one of {', '.join(STATUSES)}")
    reason = params.get("reason") or ""
    if reason and reason not in REASONS:
        raise InvalidInput(f"unknown reason {reason!r}; use one of {', '.join(REASONS)}")
    category = params.get("category") or ""
    if category and category not in POLICY_CATEGORIES:
        raise InvalidInput(f"unknown category {category!r}; use one of "
                           f"{', '.join(POLICY_CATEGORIES)}")
    age = params.get("age") or ""
    if age not in AGES:
        raise InvalidInput(f"unknown age {age!r}; use one of {', '.join(a for a in AGES if a)}")
    order = params.get("order") or "deadline"
    if order not in ORDERS:
        raise InvalidInput(f"unknown order {order!r}; use one of {', '.join(ORDERS)}")
    min_age, max_age = AGES[age]
    return QueueFilter(
        status=None if status == "all" else status,
        bank=(params.get("bank") or "").strip() or None,
        source=(params.get("source") or "").strip() or None,
        reason=reason or None,
        category=category or None,
        lang=(params.get("lang") or "").strip() or None,
        min_age_hours=min_age, max_age_hours=max_age,
        assignee=(params.get("assignee") or "").strip() or None,
        order=order, offset=offset,
    )


def _params(request: Request) -> dict[str, str]:
    return {k: str(request.query_params.get(k, ""))[:200] for k in FILTER_NAMES}


def wellness_for(request: Request, session: Session, user: User) -> dict[str, Any] | None:
    if not allowed(user.role, "own_settings"):
        return None
    return wellness_status(session, user.id)


@router.get("/")
def queue(
    request: Request,
    session: SessionDep,
    user: Viewer,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    params = _params(request)
    f = queue_filter(params, offset=offset)
    cases = list_cases(session, f, viewer=user)
    copies = copies_count(session, [c["id"] for c in cases])
    kept = {k: v for k, v in params.items() if v}
    request.session[QUEUE_KEY] = urlencode(kept)
    return render(request, "queue.html", {
        "cases": cases,
        "copies": copies,
        "filters": {**{k: "" for k in FILTER_NAMES}, **params,
                    "status": params["status"] or "open",
                    "order": params["order"] or "deadline"},
        "query": urlencode(kept),
        "statuses": STATUSES,
        "reasons": REASONS,
        "categories": POLICY_CATEGORIES,
        "ages": AGE_LABELS,
        "orders": ORDERS,
        "offset": offset,
        "page_size": f.limit,
        "can_decide": allowed(user.role, "decide"),
        "wellness": wellness_for(request, session, user),
        "active": "queue",
    })


def next_response(request: Request, session: Session, user: User, *,
                  skip_break: bool = False) -> Response:
    """Claim the most urgent case of the current queue and open it, or say the queue is
    clear. When a break is due, ask first (the reviewer may continue anyway)."""
    query = str(request.session.get(QUEUE_KEY) or "")
    wellness = wellness_for(request, session, user)
    if wellness and wellness["break_due"] and not skip_break:
        return RedirectResponse("/break", status_code=303)
    params = dict(parse_qsl(query))
    f = queue_filter({k: params.get(k, "") for k in FILTER_NAMES})
    if f.status not in ("open", "escalated"):
        f = QueueFilter(**{**f.__dict__, "status": "open"})
    case_id = next_case(session, f, user)
    if case_id is None:
        flash(request, "The queue is clear: no case left that you can take with these filters.")
        return RedirectResponse("/?" + query if query else "/", status_code=303)
    return RedirectResponse(f"/cases/{case_id}", status_code=303)


@router.post("/next")
def next_in_queue(
    request: Request,
    session: SessionDep,
    user: Decider,
    go: Annotated[str, Form(alias="continue", max_length=5)] = "",
) -> Response:
    """A POST (it claims a case), from the "Next case" button or the n key."""
    return next_response(request, session, user, skip_break=go == "1")


@router.get("/break")
def break_page(request: Request, session: SessionDep, user: Decider) -> Response:
    return render(request, "break.html", {"wellness": wellness_for(request, session, user),
                                          "on_break_page": True})


@router.get("/help")
def shortcuts(request: Request, user: Viewer) -> Response:
    return render(request, "help.html", {"active": "help"})
