"""The yearly transparency report on terrorist content (TCO Art. 7(2)–(3)) and the DSA
counts (DSA Art. 15, 24) from what Warding recorded.

Every figure is counted from the records of the calendar year (UTC): removal orders by
``received_at``, removals by the decision's time, complaints by ``received_at``. The
keys follow Art. 7(3)(a)–(g).
"""

from __future__ import annotations

import statistics
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from warding.db.models import Bank, Case, Decision
from warding.db.models_legal import LegalComplaint, LegalNotice, RemovalOrder, RemovalOrderItem
from warding.db.models_review import DecisionContext
from warding.errors import InvalidInput


def _bounds(year: int) -> tuple[datetime, datetime]:
    if not 2000 <= year <= 2100:
        raise InvalidInput("year between 2000 and 2100")
    return datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)


def _median_hours(pairs: list[tuple[datetime, datetime]]) -> float | None:
    hours = [(b - a).total_seconds() / 3600 for a, b in pairs if a and b]
    return round(statistics.median(hours), 3) if hours else None


def tco_report(session: Session, settings: Any, year: int) -> dict[str, Any]:
    start, end = _bounds(year)
    orders = list(session.execute(select(RemovalOrder).where(
        RemovalOrder.received_at >= start, RemovalOrder.received_at < end)).scalars())
    order_ids = [o.id for o in orders]
    links = list(session.execute(select(RemovalOrderItem).where(
        RemovalOrderItem.order_id.in_(order_ids))).scalars()) if order_ids else []
    removed_after_orders = len({x.item_id for x in links if x.decision_id is not None})
    reinstated_after_review = len({x.item_id for x in links
                                   if x.reinstate_decision_id is not None})

    # Decisions of the year, with the context that says why they were taken.
    rows = session.execute(
        select(Decision, Case, DecisionContext)
        .join(Case, Case.id == Decision.case_id)
        .outerjoin(DecisionContext, DecisionContext.decision_id == Decision.id)
        .where(Decision.created_at >= start, Decision.created_at < end,
               Decision.kind != "escalation")).all()
    own_items: set[int] = set()
    own_by_category: Counter[str] = Counter()
    notice_items: set[int] = set()
    automated = 0
    for decision, case, ctx in rows:
        source = (ctx.context or {}).get("source") if ctx is not None else None
        if not decision.violating or source is not None:
            continue
        kinds = {str(r.get("kind")) for r in case.reasons or []}
        if "notice" in kinds:
            notice_items.add(case.item_id)
            continue
        if case.item_id not in own_items:
            own_items.add(case.item_id)
            own_by_category[decision.category or "unspecified"] += 1
            automated += int(bool(decision.automated))

    not_executed = [o for o in orders if o.status in ("unable",) or (
        o.inability and o.status != "complied")]
    by_reason = Counter(str((o.inability or {}).get("reason")) for o in not_executed)
    complaints = list(session.execute(select(LegalComplaint).where(
        LegalComplaint.received_at >= start, LegalComplaint.received_at < end)).scalars())
    outcome = Counter(c.outcome or "pending" for c in complaints)
    scrutiny: Counter[str] = Counter()
    for o in orders:
        for e in (o.scrutiny or {}).get("events", []):
            scrutiny[str(e.get("event"))] += 1
    notices = list(session.execute(select(LegalNotice).where(
        LegalNotice.received_at >= start, LegalNotice.received_at < end)).scalars())
    banks = session.execute(select(func.count(Bank.id)).where(Bank.enabled.is_(True))).scalar_one()
    auto_banks = session.execute(select(func.count(Bank.id)).where(
        Bank.enabled.is_(True), Bank.auto_action.is_(True))).scalar_one()
    reupload = "add_to_bank" in list(settings.action_sinks)
    return {
        "year": year,
        "hosting_service_provider": settings.provider_name,
        "period": {"from": start.date().isoformat(), "to": end.date().isoformat()},
        # (a) measures to identify and remove or disable access to terrorist content
        "measures": {
            "hash_matching_banks": banks, "banks_acting_automatically": auto_banks,
            "classifier": settings.classifier_name,
            "description": (
                f"Uploads are matched against {banks} enabled hash list(s) "
                f"({auto_banks} acting without review) and scored by the "
                f"'{settings.classifier_name}' classifier; matches and high scores open cases that "
                "people review, with exemptions for journalism, research, education, art and "
                "counter-speech (TCO Art. 1(3)). Removal orders are executed within one hour."),
        },
        # (b) measures to address the reappearance of removed content
        "reupload_measures": {
            "confirmed_content_added_to_bank": reupload,
            "description": ("Content confirmed as terrorist content is hashed into the "
                            "'confirmed' bank so copies are matched on upload."
                            if reupload else "Removed content is not added to a hash list "
                            "(the add_to_bank action sink is not configured)."),
        },
        # (c) items removed after orders and after own measures; orders not executed
        "removal_orders_received": len(orders),
        "removed_after_orders": removed_after_orders,
        "removed_after_own_measures": len(own_items),
        "orders_not_executed": {"count": len(not_executed), "by_ground": dict(by_reason)},
        # (d) complaints and their outcome
        "complaints": {"received": len(complaints),
                       "reinstated": outcome.get("reinstated", 0),
                       "rejected": outcome.get("rejected", 0),
                       "pending": outcome.get("pending", 0)},
        # (e) administrative or judicial review proceedings (here: Art. 4 scrutiny)
        "review_proceedings": {"scrutiny_requested": scrutiny.get("requested", 0),
                               "upheld": scrutiny.get("upheld", 0),
                               "annulled": scrutiny.get("annulled", 0)},
        # (f) reinstatements after review proceedings
        "reinstated_after_review": reinstated_after_review,
        # (g) reinstatements after a complaint
        "reinstated_after_complaint": outcome.get("reinstated", 0),
        "dsa": {
            "orders": {"received": len(orders),
                       "median_hours_to_act": _median_hours(
                           [(o.received_at, o.complied_at) for o in orders
                            if o.complied_at is not None]),
                       "complied_within_one_hour": sum(1 for o in orders if o.within_deadline)},
            "notices": {"received": len(notices),
                        "from_trusted_flaggers": sum(1 for n in notices if n.trusted_flagger),
                        "decided": sum(1 for n in notices if n.status == "decided"),
                        "led_to_removal": len(notice_items),
                        "median_hours_to_act": _median_hours(
                            [(n.received_at, n.decided_at) for n in notices
                             if n.decided_at is not None])},
            "own_initiative_restrictions": {"total": len(own_items),
                                            "by_category": dict(own_by_category),
                                            "decided_automatically": automated},
            "complaints": {"received": len(complaints),
                           "median_days_to_decide": None if not complaints else _median_days(
                               complaints)},
        },
    }


def _median_days(complaints: list[LegalComplaint]) -> float | None:
    hours = _median_hours([(c.received_at, c.decided_at) for c in complaints
                           if c.decided_at is not None])
    return None if hours is None else round(hours / 24, 3)


def render_markdown(report: dict[str, Any]) -> str:
    """The report as a page ready to publish."""
    r = report
    dsa = r["dsa"]
    lines = [
        f"# Transparency report on terrorist content, {r['year']}",
        "",
        (f"{r['hosting_service_provider'] or 'The service'} · period {r['period']['from']} to "
         f"{r['period']['to']} (exclusive) · Regulation (EU) 2021/784, Art. 7"),
        "",
        "## (a) Measures to identify and remove terrorist content",
        "", r["measures"]["description"], "",
        "## (b) Measures against the reappearance of removed content",
        "", r["reupload_measures"]["description"], "",
        "## (c) Content removed or disabled",
        "",
        "| | number |", "|---|---|",
        f"| removal orders received | {r['removal_orders_received']} |",
        f"| items removed or disabled after removal orders | {r['removed_after_orders']} |",
        f"| items removed or disabled after own measures | {r['removed_after_own_measures']} |",
        f"| removal orders not executed | {r['orders_not_executed']['count']} |",
    ]
    for ground, n in sorted(r["orders_not_executed"]["by_ground"].items()):
        lines.append(f"| — of which: {ground.replace('_', ' ')} | {n} |")
    c = r["complaints"]
    lines += [
        "", "## (d) Complaints", "",
        "| received | reinstated | rejected | pending |", "|---|---|---|---|",
        f"| {c['received']} | {c['reinstated']} | {c['rejected']} | {c['pending']} |",
        "", "## (e) Review proceedings (Art. 4 scrutiny)", "",
        "| requested | upheld | annulled |", "|---|---|---|",
        (f"| {r['review_proceedings']['scrutiny_requested']} | "
         f"{r['review_proceedings']['upheld']} | {r['review_proceedings']['annulled']} |"),
        "", "## (f) Content reinstated after review proceedings", "",
        str(r["reinstated_after_review"]),
        "", "## (g) Content reinstated after a complaint", "",
        str(r["reinstated_after_complaint"]),
        "", "## Digital Services Act counts", "",
        "| | number | median time to act |", "|---|---|---|",
        (f"| removal orders | {dsa['orders']['received']} | "
         f"{_hours(dsa['orders']['median_hours_to_act'])} |"),
        (f"| notices (of which trusted flaggers) | {dsa['notices']['received']} "
         f"({dsa['notices']['from_trusted_flaggers']}) | "
         f"{_hours(dsa['notices']['median_hours_to_act'])} |"),
        f"| own-initiative restrictions | {dsa['own_initiative_restrictions']['total']} | |",
    ]
    for cat, n in sorted(dsa["own_initiative_restrictions"]["by_category"].items()):
        lines.append(f"| — {cat.replace('_', ' ')} | {n} | |")
    lines += [f"| complaints | {dsa['complaints']['received']} | "
              + (f"{dsa['complaints']['median_days_to_decide']} days"
                 if dsa['complaints']['median_days_to_decide'] is not None else "–") + " |", ""]
    return "\n".join(lines)


def _hours(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value * 60:.0f} min" if value < 1 else f"{value:.1f} h"
