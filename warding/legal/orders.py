"""Removal orders (Regulation (EU) 2021/784, TCO): receipt, the one-hour clock, compliance,
Annex II and Annex III, cross-border scrutiny and reinstatement.

The clock: ``due_at`` = ``received_at`` + 1 hour (Art. 3(3)). ``received_at`` is set
once, when the order is recorded (or as given by the caller, if the order arrived
earlier by another channel), and is never changed. An Annex III answer (Art. 3(7),
3(8)) stops the clock: ``due_at`` is cleared and the order is ``unable``, not overdue;
when the cause has ended (force majeure) or the authority's clarification arrives,
``POST …/clarification`` restarts it: ``due_at`` = that time + 1 hour.

Statuses: ``open`` (clock running), ``overdue`` (open past its deadline; derived, not
stored), ``unable`` (answered with Annex III, clock stopped), ``complied``,
``annulled`` (the scrutiny of Art. 4 annulled it: the content was reinstated).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from warding.audit.log import record
from warding.db.models import Case, ContentItem, utcnow
from warding.db.models_legal import RemovalOrder, RemovalOrderItem
from warding.errors import Conflict, InvalidInput, NotFound
from warding.legal.enforce import GROUND_CATEGORY, Enforced, enforce, run_now
from warding.legal.events import RemovalOrderChanged, RemovalOrderReceived
from warding.legal.locate import case_with_reason, parse_locations, resolve

DEADLINE = timedelta(hours=1)
SCRUTINY_REQUEST = timedelta(hours=48)  # Art. 4(4): to ask for scrutiny
SCRUTINY_DECISION = timedelta(hours=72)  # Art. 4(4): for the authority to decide
GROUNDS = tuple(GROUND_CATEGORY)
MEASURES = ("removed", "disabled")
INABILITY = ("force_majeure", "manifest_error", "insufficient_information")
STATUSES = ("open", "overdue", "unable", "complied", "annulled")


def _aware(value: datetime | None, name: str) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise InvalidInput(f"{name} needs a time zone, e.g. 2026-12-05T10:00:00Z")
    return value


def status_of(order: RemovalOrder, now: datetime | None = None) -> str:
    if order.status == "open" and order.due_at is not None and order.due_at < (now or utcnow()):
        return "overdue"
    return order.status


def seconds_left(order: RemovalOrder, now: datetime | None = None) -> float | None:
    if order.status != "open" or order.due_at is None:
        return None
    return (order.due_at - (now or utcnow())).total_seconds()


def provider_file_reference(order: RemovalOrder) -> str:
    return f"WARDING-RO-{order.id}"


def create_order(session: Session, body: dict[str, Any], *, actor: str) -> RemovalOrder:
    """Record an order and resolve its locations; every item's case gets the order as a
    reason and the order's deadline."""
    reference = str(body.get("reference") or "").strip()
    if not reference:
        raise InvalidInput("reference: the order's reference is needed")
    authority = dict(body.get("issuing_authority") or {})
    if not str(authority.get("member_state") or "").strip() or not str(
            authority.get("name") or "").strip():
        raise InvalidInput("issuing_authority needs member_state and name")
    grounds = list(body.get("grounds") or [])
    bad = [g for g in grounds if g not in GROUNDS]
    if not grounds or bad:
        raise InvalidInput(f"grounds: one or more of {', '.join(GROUNDS)}"
                           + (f" (not {', '.join(map(str, bad))})" if bad else ""))
    if not str(body.get("reasons") or "").strip():
        raise InvalidInput("reasons: the authority's statement of reasons is needed (Annex I)")
    now = utcnow()
    issued_at = _aware(body.get("issued_at"), "issued_at")
    received_at = _aware(body.get("received_at"), "received_at") or now
    if received_at > now + timedelta(minutes=5):
        raise InvalidInput("received_at is in the future")
    if issued_at is None:
        raise InvalidInput("issued_at: when the authority issued the order")
    if issued_at > received_at + timedelta(minutes=5):
        raise InvalidInput("issued_at is after received_at")
    locations = parse_locations(list(body.get("locations") or []))
    if session.execute(select(RemovalOrder.id).where(
            RemovalOrder.reference == reference)).first() is not None:
        raise Conflict(f"a removal order with reference {reference!r} is recorded already")
    order = RemovalOrder(
        reference=reference, authority=authority, issued_at=issued_at,
        received_at=received_at, due_at=received_at + DEADLINE,
        locations=[loc.as_dict() for loc in locations], grounds=grounds,
        reasons=str(body["reasons"]).strip(),
        nondisclosure_until=_aware(body.get("nondisclosure_until"), "nondisclosure_until"),
        cross_border=bool(body.get("cross_border")), status="open", alerts=[],
        created_by=actor)
    session.add(order)
    session.flush()
    reason = {"kind": "removal_order", "order_id": order.id, "reference": reference,
              "member_state": str(authority["member_state"]), "grounds": grounds,
              "due_at": order.due_at.isoformat() if order.due_at else None}
    item_ids = []
    for loc in locations:
        item, stored = resolve(session, loc, f"removal-order:{reference}")
        if session.execute(select(RemovalOrderItem.id).where(
                RemovalOrderItem.order_id == order.id,
                RemovalOrderItem.item_id == item.id)).first() is not None:
            continue  # two locations of one item
        case = case_with_reason(session, item, reason, actor, severity=100)
        case.deadline = order.due_at
        session.add(RemovalOrderItem(order_id=order.id, item_id=item.id, case_id=case.id,
                                     location=loc.as_dict(), resolved=stored))
        item_ids.append(item.id)
    session.flush()
    record(session, RemovalOrderReceived(
        order.id, reference, str(authority["member_state"]), received_at.isoformat(),
        order.due_at.isoformat() if order.due_at else "", item_ids), actor)
    return order


def get_order(session: Session, order_id: int) -> RemovalOrder:
    order = session.get(RemovalOrder, order_id)
    if order is None:
        raise NotFound(f"no removal order {order_id}")
    return order


def order_items(session: Session, order: RemovalOrder) -> list[dict[str, Any]]:
    rows = session.execute(
        select(RemovalOrderItem, ContentItem)
        .join(ContentItem, ContentItem.id == RemovalOrderItem.item_id)
        .where(RemovalOrderItem.order_id == order.id).order_by(RemovalOrderItem.id)).all()
    return [{"item_id": item.id, "case_id": link.case_id, "source": item.source,
             "external_id": item.external_id, "url": item.url, "location": link.location,
             "resolved": link.resolved, "decision_id": link.decision_id,
             "reinstate_decision_id": link.reinstate_decision_id} for link, item in rows]


def order_json(session: Session, order: RemovalOrder, *, with_items: bool = True,
               now: datetime | None = None) -> dict[str, Any]:
    clock = now or utcnow()
    out: dict[str, Any] = {
        "id": order.id, "reference": order.reference,
        "provider_file_reference": provider_file_reference(order),
        "issuing_authority": order.authority, "issued_at": order.issued_at.isoformat(),
        "received_at": order.received_at.isoformat(),
        "due_at": order.due_at.isoformat() if order.due_at else None,
        "seconds_left": seconds_left(order, clock), "status": status_of(order, clock),
        "locations": order.locations, "grounds": order.grounds, "reasons": order.reasons,
        "nondisclosure_until": order.nondisclosure_until.isoformat()
        if order.nondisclosure_until else None,
        "cross_border": order.cross_border, "measure": order.measure,
        "complied_at": order.complied_at.isoformat() if order.complied_at else None,
        "within_deadline": order.within_deadline, "inability": order.inability,
        "scrutiny": order.scrutiny, "alerts": order.alerts, "created_by": order.created_by,
    }
    if order.cross_border:
        out["scrutiny_request_until"] = (order.received_at + SCRUTINY_REQUEST).isoformat()
    if with_items:
        out["items"] = order_items(session, order)
    return out


def list_orders(session: Session, status: str | None = None, *, case_ids: list[int] | None = None,
                limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
    if status is not None and status not in STATUSES:
        raise InvalidInput(f"status is one of {', '.join(STATUSES)}")
    now = utcnow()
    query = select(RemovalOrder).order_by(RemovalOrder.due_at.is_(None), RemovalOrder.due_at,
                                          RemovalOrder.id.desc())
    if status == "open":
        query = query.where(RemovalOrder.status == "open", RemovalOrder.due_at >= now)
    elif status == "overdue":
        query = query.where(RemovalOrder.status == "open", RemovalOrder.due_at < now)
    elif status is not None:
        query = query.where(RemovalOrder.status == status)
    if case_ids is not None:
        query = query.where(RemovalOrder.id.in_(
            select(RemovalOrderItem.order_id).where(RemovalOrderItem.case_id.in_(case_ids))))
    return [order_json(session, o, now=now) for o in
            session.execute(query.limit(limit).offset(offset)).scalars()]


def _context(order: RemovalOrder, measure: str, **extra: Any) -> dict[str, Any]:
    ctx: dict[str, Any] = {
        "source": "removal_order", "order_id": order.id, "order_reference": order.reference,
        "member_state": order.authority.get("member_state"), "measure": measure,
        "reversible": True, "preserve": True, **extra}
    if order.nondisclosure_until is not None:
        ctx["withhold_until"] = order.nondisclosure_until.isoformat()
    return ctx


def comply(app: Any, order_id: int, measure: str, *, actor: str,
           user_id: int | None) -> dict[str, Any]:
    """Remove or disable every item of the order through the action sinks, now."""
    if measure not in MEASURES:
        raise InvalidInput(f"measure is one of {', '.join(MEASURES)}")
    done: list[Enforced] = []
    with app.transaction() as session:
        order = session.get(RemovalOrder, order_id, with_for_update=True)
        if order is None:
            raise NotFound(f"no removal order {order_id}")
        if order.status in ("complied", "annulled"):
            raise Conflict(f"removal order {order_id} is {order.status} already")
        now = utcnow()
        category = GROUND_CATEGORY[order.grounds[0]]
        reason = (f"Removal order {order.reference} of "
                  f"{order.authority.get('name')} ({order.authority.get('member_state')}), "
                  f"Regulation (EU) 2021/784 Art. 3; grounds: {', '.join(order.grounds)}; "
                  f"measure: access {measure}.")
        links = list(session.execute(select(RemovalOrderItem).where(
            RemovalOrderItem.order_id == order.id)).scalars())
        for link in links:
            case = session.get(Case, link.case_id)
            assert case is not None
            result = enforce(session, app, case, violating=True, category=category,
                             reason=reason, context=_context(order, measure), actor=actor,
                             user_id=user_id)
            link.decision_id = result.decision_id or link.decision_id
            done.append(result)
        order.status, order.measure, order.complied_at = "complied", measure, now
        # The clock stopped by Annex III does not run: a complied order is then on time.
        order.within_deadline = order.due_at is None or now <= order.due_at
        record(session, RemovalOrderChanged(
            order.id, "complied", "complied",
            f"measure {measure}; {len(links)} item(s); "
            f"{'within' if order.within_deadline else 'after'} the deadline"), actor)
        answer = {"id": order.id, "status": "complied", "measure": measure,
                  "complied_at": now.isoformat(), "within_deadline": order.within_deadline,
                  "due_at": order.due_at.isoformat() if order.due_at else None}
    answer["items"] = [{"case_id": e.case_id, "decision_id": e.decision_id, "note": e.note}
                       for e in done]
    answer["actions"] = run_now(app, done)
    return answer


def inability(session: Session, order_id: int, body: dict[str, Any], *,
              actor: str) -> dict[str, Any]:
    """Annex III: the order cannot be executed (yet); the clock stops."""
    order = get_order(session, order_id)
    reason = body.get("reason")
    if reason not in INABILITY:
        raise InvalidInput(f"reason is one of {', '.join(INABILITY)}")
    explanation = str(body.get("explanation") or "").strip()
    if not explanation:
        raise InvalidInput("explanation: say what stops the execution (Annex III)")
    if order.status in ("complied", "annulled"):
        raise Conflict(f"removal order {order_id} is {order.status} already")
    now = utcnow()
    order.inability = {"reason": reason, "explanation": explanation,
                       "clarification_needed": str(body.get("clarification_needed") or "").strip()
                       or None, "at": now.isoformat(), "by": actor,
                       "due_at_before": order.due_at.isoformat() if order.due_at else None,
                       "overdue_when_sent": order.due_at is not None and now > order.due_at}
    order.status, order.paused_at, order.due_at = "unable", now, None
    record(session, RemovalOrderChanged(order.id, "annex_iii", "unable",
                                        f"{reason}: {explanation}"), actor)
    return order_json(session, order)


def clarification(session: Session, order_id: int, body: dict[str, Any], *,
                  actor: str) -> dict[str, Any]:
    """The authority clarified (or the force majeure ended): the hour starts again."""
    order = get_order(session, order_id)
    if order.status != "unable":
        raise Conflict(f"removal order {order_id} is {status_of(order)}, not waiting for a "
                       "clarification (answer with Annex III first)")
    now = utcnow()
    received = _aware(body.get("received_at"), "received_at") or now
    if received > now + timedelta(minutes=5):
        raise InvalidInput("received_at is in the future")
    order.status, order.clarified_at, order.due_at = "open", received, received + DEADLINE
    note = str(body.get("note") or "").strip()
    order.inability = {**(order.inability or {}), "resolved_at": received.isoformat(),
                       "note": note}
    record(session, RemovalOrderChanged(order.id, "clarified", "open",
                                        f"clock restarted; due {order.due_at.isoformat()}"
                                        + (f"; {note}" if note else "")), actor)
    return order_json(session, order)


def scrutiny(app: Any, order_id: int, body: dict[str, Any], *, actor: str,
             user_id: int | None) -> dict[str, Any]:
    """Art. 4 scrutiny of a cross-border order: requested, upheld, or annulled (then every
    item is reinstated at once)."""
    event = body.get("event")
    if event not in ("requested", "upheld", "annulled"):
        raise InvalidInput("event is one of requested, upheld, annulled")
    note = str(body.get("note") or "").strip()
    done: list[Enforced] = []
    with app.transaction() as session:
        order = get_order(session, order_id)
        now = utcnow()
        entries = list((order.scrutiny or {}).get("events", []))
        entries.append({"event": event, "at": now.isoformat(), "by": actor, "note": note})
        state = {"events": entries, "state": event}
        if event == "requested":
            state["decision_due_at"] = (now + SCRUTINY_DECISION).isoformat()
        order.scrutiny = state
        if event == "annulled":
            if order.status == "annulled":
                raise Conflict(f"removal order {order_id} is annulled already")
            for link in session.execute(select(RemovalOrderItem).where(
                    RemovalOrderItem.order_id == order.id)).scalars():
                case = session.get(Case, link.case_id)
                assert case is not None
                result = enforce(
                    session, app, case, violating=False, category=None,
                    reason=f"Removal order {order.reference} annulled on scrutiny (Regulation "
                           "(EU) 2021/784 Art. 4): access reinstated." + (f" {note}" if note
                                                                          else ""),
                    context={"source": "removal_order_annulled", "order_id": order.id,
                             "order_reference": order.reference, "measure": "reinstated"},
                    actor=actor, user_id=user_id)
                link.reinstate_decision_id = result.decision_id
                done.append(result)
            order.status = "annulled"
        record(session, RemovalOrderChanged(order.id, f"scrutiny_{event}", order.status, note),
               actor)
        answer = order_json(session, order)
    answer["actions"] = run_now(app, done)
    return answer


def _provider(settings: Any) -> dict[str, str]:
    """The hosting service provider as Annex II and III name it (WARDING_PROVIDER_*)."""
    return {"name": settings.provider_name, "contact_point": settings.provider_contact_point,
            "member_state": settings.provider_member_state,
            "authorised_person": settings.provider_authorised_person}


def annex_ii(session: Session, order_id: int, settings: Any) -> dict[str, Any]:
    """Annex II: the information on the execution of the order, for the authority."""
    order = get_order(session, order_id)
    if order.status != "complied":
        raise Conflict(f"removal order {order_id} is {status_of(order)}: Annex II follows "
                       "compliance (answer with Annex III when it cannot be executed)")
    return {
        "order_reference": order.reference,
        "authority_file_reference": order.reference,
        "provider_file_reference": provider_file_reference(order),
        "issuing_authority": order.authority,
        "received_at": order.received_at.isoformat(),
        "measure": order.measure,
        "measure_at": order.complied_at.isoformat() if order.complied_at else None,
        "within_deadline": order.within_deadline,
        "items": [{"location": i["location"], "url": i["url"]}
                  for i in order_items(session, order)],
        "hosting_service_provider": _provider(settings),
    }


def annex_iii(session: Session, order_id: int, settings: Any) -> dict[str, Any]:
    order = get_order(session, order_id)
    if not order.inability:
        raise Conflict(f"removal order {order_id} was not answered with Annex III")
    return {"order_reference": order.reference,
            "provider_file_reference": provider_file_reference(order),
            "issuing_authority": order.authority,
            "received_at": order.received_at.isoformat(), "inability": order.inability,
            "hosting_service_provider": _provider(settings)}
