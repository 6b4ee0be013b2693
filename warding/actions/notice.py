"""The ``notify_uploader`` action sink: a statement of reasons for the uploader.

Modelled on Art. 17(3) of the Digital Services Act (Regulation (EU) 2022/2065),
a statement says:

(a) the **restriction**: what was done to the content (removed, removal upheld on
    appeal, restriction lifted), its territorial scope and duration;
(b) the **facts and circumstances** relied on, including that the content was
    found on Warding's own initiative (not after a notice);
(c) whether **automated means** were used, to detect it and to decide;
(d/e) the **ground**: the legal ground (Regulation (EU) 2021/784, Art. 2(7)) or
    the contractual one (terms of service), with an explanation;
(f) the **redress** open to the uploader: internal complaint, out-of-court
    dispute settlement, courts.

Warding does not know how to reach an uploader; the platform does. So the
statement is stored (table ``statements_of_reasons``), shown in the console and
served by the API (``GET /api/statements/{id}``) for the platform to pass on.
Hash-list names and provenance are left out on purpose: lists shared between
platforms are confidential, so the statement says what kind of known content
matched (an identical file, a visually similar image, the same text), not which
list. The reviewer's free-text reason is included: the decision form says so.

One statement per action: the action's idempotency key is unique in the table,
so a sink asked twice writes once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from warding.actions.base import ActionOutcome, ActionRequest, AppSink
from warding.audit.log import record
from warding.db.models import Case, ContentItem, Decision, utcnow
from warding.db.models_review import DecisionContext, StatementOfReasons
from warding.errors import NotFound
from warding.events import StatementIssued

TCO = "Regulation (EU) 2021/784 on addressing the dissemination of terrorist content online"

# policy category -> (ground type, reference, explanation)
GROUNDS: dict[str, tuple[str, str, str]] = {
    "incitement_glorification": (
        "illegal_content", f"{TCO}, Art. 2(7)(a)",
        ("material that incites the commission of terrorist offences, directly or indirectly, "
         "for example by glorifying terrorist acts")),
    "solicitation_recruitment": (
        "illegal_content", f"{TCO}, Art. 2(7)(b) and (c)",
        ("material that solicits a person or a group to commit or contribute to terrorist "
         "offences, or to participate in the activities of a terrorist group")),
    "instruction": (
        "illegal_content", f"{TCO}, Art. 2(7)(d)",
        ("material that provides instruction on making or using weapons, explosives or "
         "hazardous substances, or on other methods, for the purpose of terrorist offences")),
    "threat": (
        "illegal_content", f"{TCO}, Art. 2(7)(e)",
        "material that constitutes a threat to commit a terrorist offence"),
    "perpetrator_content": (
        "incompatible_with_terms", "the platform's terms of service",
        ("content produced by the perpetrators of a terrorist or violent extremist attack, "
         "which the terms of service do not allow")),
}

# What a match of each signal type means, in words an uploader can follow.
SIGNAL_WORDS = {
    "md5": "an identical file", "sha256": "an identical file",
    "pdq": "a visually identical or very similar image", "text": "the same text",
    "text_near": "nearly the same text", "url": "a link to known material",
    "text_semantic": "text with the same meaning",
}

RESTRICTIONS = {
    "removal": "The content was removed: access to it is disabled.",
    "removal_upheld": "Your complaint was reviewed again and the removal was upheld: the "
                      "content stays removed.",
    "restriction_lifted": "The earlier decision was reversed on review: the restriction is "
                          "lifted and the content may be restored.",
}


def _context(session: Session, decision: Decision) -> dict[str, Any]:
    row = session.get(DecisionContext, decision.id)
    return dict(row.context) if row is not None else {}


def _origin(case: Case, context: dict[str, Any]) -> tuple[str, bool]:
    """How the content came to be assessed, in words; and whether on own initiative."""
    if context.get("source") == "removal_order":
        return ((f"was the subject of the removal order {context.get('order_reference')} issued by "
                 f"a competent authority of {context.get('member_state') or 'a Member State'} "
                 "under Art. 3 of Regulation (EU) 2021/784."), False)
    if context.get("source") == "complaint":
        return (("was assessed again after a complaint against its removal (Regulation (EU) "
                 "2021/784, Art. 10; Regulation (EU) 2022/2065, Art. 20)."), False)
    kinds = {str(r.get("kind")) for r in case.reasons or []}
    if "removal_order" in kinds:
        return ("was the subject of a removal order under Art. 3 of Regulation (EU) 2021/784.",
                False)
    if "notice" in kinds:
        return (("was reviewed after a notice of allegedly illegal content (Regulation (EU) "
                 "2022/2065, Art. 16)."), False)
    return "was reviewed on the service's own initiative, not after a notice.", True


def restriction_for(decision: Decision, previous: Decision | None) -> str | None:
    """The restriction a decision imposes or lifts; None when there is nothing to tell."""
    if decision.violating:
        if decision.kind == "appeal" and previous is not None and previous.violating:
            return "removal_upheld"
        return "removal"
    if decision.kind == "appeal" and previous is not None and previous.violating:
        return "restriction_lifted"
    return None


def _detection(case: Case) -> tuple[list[str], bool]:
    found: list[str] = []
    automated = False
    for r in case.reasons or []:
        kind = r.get("kind")
        if kind in ("bank_match", "text_semantic"):
            automated = True
            what = SIGNAL_WORDS.get(str(r.get("signal_type") or kind), "known material")
            found.append(f"it matched {what} in a list of content already identified as "
                         "terrorist content")
        elif kind == "classifier":
            automated = True
            found.append("an automated classifier scored it as likely terrorist content "
                         f"(score {float(r.get('score') or 0):.2f})")
        elif kind:
            found.append(f"it was flagged ({kind})")
    return list(dict.fromkeys(found)), automated


def build_statement(session: Session, case: Case, decision: Decision,
                    restriction: str, redress_url: str | None) -> dict[str, Any]:
    item = session.get(ContentItem, case.item_id)
    assert item is not None
    found, detected_automatically = _detection(case)
    basis = decision if decision.violating else (
        session.get(Decision, decision.supersedes_id) if decision.supersedes_id else None)
    category = basis.category if basis is not None else None
    ground_type, reference, explanation = GROUNDS.get(
        category or "", ("incompatible_with_terms", "the platform's terms of service",
                         "terrorist or violent extremist content"))
    posted = item.posted_at.isoformat() if item.posted_at else None
    context = _context(session, decision)
    origin, own_initiative = _origin(case, context)
    facts = (
        f"The content {item.source}:{item.external_id}"
        + (f" posted on {posted[:10]}" if posted else "")
        + (f" by the account {item.account}" if item.account else "")
        + f" {origin}"
    )
    if found:
        facts += " It was flagged because " + "; ".join(found) + "."
    if context.get("source") == "removal_order":
        facts += f" The service complied with the order: {decision.reason}"
    elif context.get("source") == "complaint":
        facts += f" A person reviewed the complaint and decided: {decision.reason}"
    else:
        facts += f" A reviewer then decided: {decision.reason}"
    if restriction == "restriction_lifted" and decision.exemption:
        facts += (f" The content was found to serve {decision.exemption.replace('_', '-')} "
                  "purposes, which Art. 1(3) of the regulation protects.")
    if decision.automated:
        automated_text = ("The content was detected by automated means and the decision was "
                          "taken automatically, because it matched a list the service applies "
                          "without human review.")
    elif detected_automatically:
        automated_text = ("The content was detected by automated means; the decision was "
                          "taken by a person.")
    else:
        automated_text = "No automated means were used; the decision was taken by a person."
    how = redress_url or "reply to this notice or use the service's complaint form"
    redress = [
        {"route": "internal_complaint",
         "description": "You can ask for the decision to be reviewed again, free of charge, "
                        "within six months (DSA Art. 20). A person reviews it again; the "
                        f"earlier decision stays on record. How: {how}."},
        {"route": "out_of_court_dispute_settlement",
         "description": "You can take the dispute to a certified out-of-court dispute "
                        "settlement body (DSA Art. 21)."},
        {"route": "judicial_redress",
         "description": "You can challenge the decision before the courts of the Member "
                        "State concerned."},
    ]
    return {
        "issued_at": utcnow().isoformat(),
        "content": {"source": item.source, "external_id": item.external_id, "url": item.url,
                    "account": item.account, "posted_at": posted},
        "decision": {"id": decision.id, "kind": decision.kind,
                     "at": decision.created_at.isoformat(),
                     "supersedes": decision.supersedes_id},
        "restriction": {"type": restriction, "description": RESTRICTIONS[restriction],
                        "territorial_scope": "all territories where the service is offered",
                        "duration": "indefinite" if restriction != "restriction_lifted"
                        else "not applicable",
                        **({"measure": context["measure"]}
                           if context.get("measure") in ("removed", "disabled") else {})},
        "facts_and_circumstances": facts,
        "own_initiative": own_initiative,
        "source": context.get("source") or ("notice" if not own_initiative else "own_initiative"),
        "automated_means": {"detection": detected_automatically,
                            "decision": bool(decision.automated),
                            "description": automated_text},
        "ground": {"type": ground_type, "reference": reference, "category": category,
                   "explanation": f"The content was assessed as {explanation}."
                   if restriction != "restriction_lifted"
                   else "On review the content was not found to be " + explanation + "."},
        "redress": redress,
    }


def render_text(body: dict[str, Any]) -> str:
    """The statement as plain text, for the platform to send on as it is."""
    lines = [
        "Statement of reasons",
        "",
        "What we did: " + body["restriction"]["description"]
        + f" Scope: {body['restriction']['territorial_scope']}. "
        + f"Duration: {body['restriction']['duration']}.",
        "",
        "Facts and circumstances: " + body["facts_and_circumstances"],
        "",
        "Automated means: " + body["automated_means"]["description"],
        "",
        f"Ground: {body['ground']['reference']}. {body['ground']['explanation']}",
        "",
        "Your options for redress:",
    ]
    lines += [f"- {r['description']}" for r in body["redress"]]
    return "\n".join(lines) + "\n"


def issue_statement(session: Session, idempotency_key: str, case_id: int, decision_id: int,
                    redress_url: str | None) -> StatementOfReasons | None:
    """Write the statement for a decision once per key; None when it restricts nothing."""
    existing = session.execute(select(StatementOfReasons).where(
        StatementOfReasons.idempotency_key == idempotency_key)).scalar_one_or_none()
    if existing is not None:
        return existing
    case = session.get(Case, case_id)
    decision = session.get(Decision, decision_id)
    if case is None or decision is None:
        raise NotFound(f"no case {case_id} or decision {decision_id}")
    previous = session.get(Decision, decision.supersedes_id) if decision.supersedes_id else None
    restriction = restriction_for(decision, previous)
    if restriction is None:
        return None
    item = session.get(ContentItem, case.item_id)
    assert item is not None
    body = build_statement(session, case, decision, restriction, redress_url)
    withhold = _context(session, decision).get("withhold_until")
    statement = StatementOfReasons(
        idempotency_key=idempotency_key, case_id=case.id, decision_id=decision.id,
        source=item.source, account=item.account, restriction=restriction, body=body,
        text=render_text(body),
        withheld_until=datetime.fromisoformat(withhold) if withhold else None)
    session.add(statement)
    session.flush()
    body["statement_id"] = statement.id
    statement.body = dict(body)
    record(session, StatementIssued(statement.id, case.id, decision.id, restriction), "system")
    return statement


def is_released(s: StatementOfReasons, now: datetime | None = None) -> bool:
    """False while a removal order forbids telling the uploader (TCO Art. 11(3))."""
    return s.withheld_until is None or s.withheld_until <= (now or utcnow())


def statement_json(s: StatementOfReasons) -> dict[str, Any]:
    return {"id": s.id, "case_id": s.case_id, "decision_id": s.decision_id,
            "source": s.source, "account": s.account, "restriction": s.restriction,
            "created_at": s.created_at.isoformat(), "body": s.body, "text": s.text,
            "released": is_released(s),
            "withheld_until": s.withheld_until.isoformat() if s.withheld_until else None}


def get_statement(session: Session, statement_id: int,
                  released_only: bool = False) -> dict[str, Any]:
    s = session.get(StatementOfReasons, statement_id)
    if s is None or (released_only and not is_released(s)):
        raise NotFound(f"no statement of reasons {statement_id}"
                       + (" released yet" if s is not None else ""))
    return statement_json(s)


def list_statements(session: Session, case_id: int | None = None, limit: int = 100,
                    offset: int = 0, released_only: bool = False) -> list[dict[str, Any]]:
    query = select(StatementOfReasons).order_by(StatementOfReasons.id.desc())
    if case_id is not None:
        query = query.where(StatementOfReasons.case_id == case_id)
    if released_only:
        query = query.where(or_(StatementOfReasons.withheld_until.is_(None),
                                StatementOfReasons.withheld_until <= utcnow()))
    return [statement_json(s) for s in
            session.execute(query.limit(limit).offset(offset)).scalars()]


class NotifyUploaderSink(AppSink):
    """Writes a statement of reasons for the uploader (DSA Art. 17 style) and stores it."""

    name: ClassVar[str] = "notify_uploader"
    description: ClassVar[str] = (
        "Write a statement of reasons for the uploader (restriction, facts, automated means, "
        "ground, redress), stored for the platform to send on.")

    def execute(self, request: ActionRequest) -> ActionOutcome:
        if not request.violating and request.kind != "appeal":
            return ActionOutcome("skipped", "not violating: no restriction to explain")
        if self.app is None or not hasattr(self.app, "transaction"):
            return ActionOutcome("failed", "sink has no app")
        redress = getattr(self.app.settings, "notice_redress_url", None)
        with self.app.transaction() as session:
            statement = issue_statement(session, request.idempotency_key, request.case_id,
                                        request.decision_id, redress)
            if statement is None:
                return ActionOutcome("skipped", "the decision restricts nothing")
            return ActionOutcome("done", f"statement of reasons #{statement.id} "
                                         f"({statement.restriction}) stored")
