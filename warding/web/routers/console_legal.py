"""The console's legal pages: removal orders with their live countdown, Annex II to print,
complaints, notices and the yearly report."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from starlette.responses import RedirectResponse, Response

from warding.accounts.roles import allowed
from warding.db.engine import savepoint
from warding.db.models import User
from warding.errors import NotFound, WardingError
from warding.legal import complaints, notices, orders
from warding.legal.access import case_scope, redact
from warding.legal.preservation import list_preservations
from warding.legal.reports import render_markdown, tco_report
from warding.web.deps import SessionDep, WardingDep, require
from warding.web.templating import flash, render

router = APIRouter(include_in_schema=False)

Officer = Annotated[User, Depends(require("legal"))]
Viewer = Annotated[User, Depends(require("view_legal"))]


@router.get("/legal")
def legal_home(request: Request, w: WardingDep, session: SessionDep, user: Viewer) -> Response:
    """Open orders (nearest deadline first, with a live countdown), then the rest."""
    scope = case_scope(session, user)
    waiting = [o for s in ("overdue", "open", "unable")
               for o in orders.list_orders(session, s, case_ids=scope, limit=200)]
    alert_seconds = float(w.settings.legal_alert_minutes) * 60
    return render(request, "legal.html", {
        "waiting": waiting,
        "done": orders.list_orders(session, "complied", case_ids=scope, limit=50)
        + orders.list_orders(session, "annulled", case_ids=scope, limit=50),
        "due_soon": [o for o in waiting if o["status"] == "overdue" or (
            o["seconds_left"] is not None and o["seconds_left"] <= alert_seconds)],
        "alert_seconds": alert_seconds,
        "complaints": [redact(c, user) for c in complaints.list_complaints(
            session, None, case_ids=scope, limit=100)],
        "notices": [redact(n, user) for n in notices.list_notices(
            session, None, case_ids=scope, limit=100)],
        "preservations": list_preservations(session, w.settings, None, 20)
        if allowed(user.role, "legal") else [],
        "is_officer": allowed(user.role, "legal"),
        "year": datetime.now().year,
        "active": "legal",
    })


@router.get("/legal/removal-orders/{order_id}")
def order_page(order_id: int, request: Request, session: SessionDep, user: Viewer) -> Response:
    order = orders.order_json(session, orders.get_order(session, order_id))
    scope = case_scope(session, user)
    if scope is not None and not {i["case_id"] for i in order["items"]} & set(scope):
        raise NotFound(f"no removal order {order_id}")
    return render(request, "legal_order.html", {
        "order": order, "is_officer": allowed(user.role, "legal"), "active": "legal"})


def _back(order_id: int) -> Response:
    return RedirectResponse(f"/legal/removal-orders/{order_id}", status_code=303)


@router.post("/legal/removal-orders/{order_id}/comply")
def comply(order_id: int, request: Request, w: WardingDep, user: Officer,
           measure: Annotated[str, Form()]) -> Response:
    try:
        result = orders.comply(w, order_id, measure, actor=user.username, user_id=user.id)
    except WardingError as exc:
        flash(request, str(exc), "error")
    else:
        flash(request, f"Order executed ({result['measure']}) "
                       + ("within the hour." if result["within_deadline"] else
                          "after its deadline."))
    return _back(order_id)


@router.post("/legal/removal-orders/{order_id}/inability")
def inability(order_id: int, request: Request, session: SessionDep, user: Officer,
              reason: Annotated[str, Form()], explanation: Annotated[str, Form()],
              clarification_needed: Annotated[str, Form()] = "") -> Response:
    try:
        with savepoint(session):
            orders.inability(session, order_id, {
                "reason": reason, "explanation": explanation,
                "clarification_needed": clarification_needed}, actor=user.username)
    except WardingError as exc:
        flash(request, str(exc), "error")
    else:
        flash(request, "Annex III recorded: the clock is stopped until the clarification.")
    return _back(order_id)


@router.post("/legal/removal-orders/{order_id}/clarification")
def clarification(order_id: int, request: Request, session: SessionDep, user: Officer,
                  note: Annotated[str, Form()] = "") -> Response:
    try:
        with savepoint(session):
            orders.clarification(session, order_id, {"note": note}, actor=user.username)
    except WardingError as exc:
        flash(request, str(exc), "error")
    else:
        flash(request, "Clarification recorded: the hour starts again now.")
    return _back(order_id)


@router.get("/legal/removal-orders/{order_id}/annex-ii")
def annex_ii_page(order_id: int, request: Request, w: WardingDep, session: SessionDep,
                  user: Officer) -> Response:
    """Annex II as a page to print (or save as PDF) and send to the authority."""
    return render(request, "legal_annex_ii.html", {
        "annex": orders.annex_ii(session, order_id, w.settings), "order_id": order_id,
        "active": "legal"})


@router.post("/legal/complaints/{complaint_id}/decision")
def complaint_decision(complaint_id: int, request: Request, w: WardingDep, user: Officer,
                       outcome: Annotated[str, Form()], reason: Annotated[str, Form()]
                       ) -> Response:
    try:
        complaints.decide_complaint(w, complaint_id, outcome, reason, actor=user.username,
                                    user_id=user.id)
    except WardingError as exc:
        flash(request, str(exc), "error")
    else:
        flash(request, f"Complaint #{complaint_id} decided: {outcome}.")
    return RedirectResponse("/legal#complaints", status_code=303)


@router.get("/legal/reports/tco")
def tco_page(request: Request, w: WardingDep, session: SessionDep, user: Officer,
             year: Annotated[int, Query(ge=2000, le=2100)]) -> Response:
    """The yearly report as a page ready to publish."""
    report = tco_report(session, w.settings, year)
    return render(request, "legal_report.html", {
        "report": report, "markdown": render_markdown(report), "active": "legal"})


@router.post("/cases/{case_id}/threat-to-life")
def flag_threat(case_id: int, request: Request, w: WardingDep, user: Viewer,
                note: Annotated[str, Form()]) -> Response:
    from warding.legal import threat

    try:
        with w.transaction() as session:
            alert_id = threat.flag(session, w.settings, case_id, note, actor=user.username).id
    except WardingError as exc:
        flash(request, str(exc), "error")
    else:
        sent = threat.send_pending(w, alert_id)
        flash(request, "Flagged as an imminent threat to life; " + (
            "the law-enforcement contact was notified." if sent else
            "the law-enforcement contact is not configured or did not answer: call them now "
            "(the server keeps retrying when it is configured)."),
              "info" if sent else "error")
    return RedirectResponse(f"/cases/{case_id}", status_code=303)
