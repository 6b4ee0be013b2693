"""Statements of reasons in the schema of the DSA Transparency Database (DSA Art. 24(5)).

Providers of online platforms send every statement of reasons for a restriction
(DSA Art. 17(1)) to the Commission's Transparency Database, without personal data.
:func:`to_tdb` maps one statement Warding stores (``statements_of_reasons``, written
by :mod:`warding.actions.notice`) to the database's statement schema, as published
at https://transparency.dsa.ec.europa.eu/page/api-documentation (field names,
allowed values and formats; docs/legal.md has the whole mapping).

Which statements go: restrictions only. Warding's ``removal`` (a decision that
removes content, an appeal that turns a "keep" into a removal, a removal after an
order or a notice) is a restriction of visibility and is sent. ``removal_upheld``
(a complaint rejected) imposes nothing new: the restriction it confirms was sent
when it was imposed, and complaint outcomes belong to the transparency reports
(Art. 15, 24(1)), not to the database. ``restriction_lifted`` (a reinstatement) is
not a restriction and has no statement of reasons under Art. 17(1), so it is not sent.

No personal data: every text field is built from fixed sentences and the
decision's policy category; no account, no user id, no item id or URL, no
notifier, and not the reviewer's free-text reason (which the uploader's own
statement does carry). ``source_identity`` is never sent.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from warding.actions.notice import GROUNDS, SIGNAL_WORDS, TCO
from warding.db.models import Case, ContentItem, Decision, ItemMedia, MediaObject
from warding.db.models_review import StatementOfReasons

#: Warding restrictions that are statements of a restriction for the database.
SUBMITTED_RESTRICTIONS = frozenset({"removal"})

EU_COUNTRIES = ("AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR",
                "HU", "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI",
                "SK")
EEA_COUNTRIES = (*EU_COUNTRIES, "IS", "LI", "NO")

TCO_URL = "https://eur-lex.europa.eu/eli/reg/2021/784/oj"
CATEGORY = "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY"
KEYWORD = "KEYWORD_TERRORIST_CONTENT"
AUTOMATED_KINDS = frozenset({"bank_match", "text_semantic", "classifier"})
PUID_RE = re.compile(r"^[A-Za-z0-9_-]{1,500}$")
EARLIEST_CONTENT = date(2000, 1, 1)

# What the platform did, for the kinds of measure Warding knows ("removed" by default).
VISIBILITY = {"removed": "DECISION_VISIBILITY_CONTENT_REMOVED",
              "disabled": "DECISION_VISIBILITY_CONTENT_DISABLED"}

ORDER_GROUND = ("illegal_content", f"{TCO}, Art. 3 (removal order)",
                ("terrorist content, as a competent authority of a Member State found in a "
                 "removal order"))
DEFAULT_GROUND = ("incompatible_with_terms", "the platform's terms of service",
                  "terrorist or violent extremist content")

SOURCE_SENTENCES = {
    "SOURCE_VOLUNTARY": "The content was found on the service's own initiative.",
    "SOURCE_ARTICLE_16": "The content was reported in a notice under Art. 16 DSA.",
    "SOURCE_TRUSTED_FLAGGER": "The content was reported in a notice from a trusted flagger "
                              "(Art. 22 DSA).",
    "SOURCE_TYPE_OTHER_NOTIFICATION": "A competent authority of a Member State issued a "
                                      "removal order for the content (Regulation (EU) "
                                      "2021/784, Art. 3).",
}


def source_type(reasons: list[dict[str, Any]]) -> str:
    """Where the case came from: an authority's order, a (trusted) notice, or own initiative."""
    kinds = [r for r in reasons if isinstance(r, dict)]
    if any(r.get("kind") == "removal_order" for r in kinds):
        return "SOURCE_TYPE_OTHER_NOTIFICATION"
    notices = [r for r in kinds if r.get("kind") == "notice"]
    if any(r.get("trusted_flagger") is True for r in notices):
        return "SOURCE_TRUSTED_FLAGGER"
    if notices:
        return "SOURCE_ARTICLE_16"
    return "SOURCE_VOLUNTARY"


def _detection_sentences(reasons: list[dict[str, Any]]) -> list[str]:
    found: list[str] = []
    for r in reasons:
        if not isinstance(r, dict):
            continue
        kind = r.get("kind")
        if kind in ("bank_match", "text_semantic"):
            what = SIGNAL_WORDS.get(str(r.get("signal_type") or kind), "known material")
            found.append(f"It matched {what} in a list of content already identified as "
                         "terrorist content.")
        elif kind == "classifier":
            try:
                score = f" (score {float(r.get('score') or 0):.2f})"
            except (TypeError, ValueError):
                score = ""
            found.append(f"An automated classifier scored it as likely terrorist content{score}.")
    return list(dict.fromkeys(found))


def ground_for(category: str | None, source: str) -> tuple[str, str, str]:
    """(ground type, reference, explanation) from the fixed table, never from free text."""
    ground = GROUNDS.get(category or "")
    if source == "SOURCE_TYPE_OTHER_NOTIFICATION" and (ground is None
                                                       or ground[0] != "illegal_content"):
        return ORDER_GROUND  # an order under TCO Art. 3 is a legal ground in itself
    return ground or DEFAULT_GROUND


def content_types(item: ContentItem, mimes: list[str]) -> list[str]:
    types: list[str] = []
    if (item.text or "").strip() or (item.title or "").strip():
        types.append("CONTENT_TYPE_TEXT")
    for prefix, value in (("image/", "CONTENT_TYPE_IMAGE"), ("video/", "CONTENT_TYPE_VIDEO"),
                          ("audio/", "CONTENT_TYPE_AUDIO")):
        if any(m.startswith(prefix) for m in mimes):
            types.append(value)
    if any(not m.startswith(("image/", "video/", "audio/")) for m in mimes):
        types.append("CONTENT_TYPE_OTHER")  # a document or another file
    return types or ["CONTENT_TYPE_OTHER"]


def content_date(item: ContentItem, today: date) -> str:
    """The posting date; the date Warding received it when that is unknown or implausible."""
    posted = item.posted_at.date() if item.posted_at else None
    if posted is None or posted < EARLIEST_CONTENT or posted > today:
        posted = item.ingested_at.date()
    return posted.isoformat()


def content_language(item: ContentItem) -> str | None:
    lang = (item.lang or (item.meta or {}).get("lang") or "") if item else ""
    code = str(lang).strip().replace("_", "-").split("-")[0]
    return code.upper() if re.fullmatch(r"[A-Za-z]{2}", code) else None


def decision_facts(source: str, reasons: list[dict[str, Any]], decision: Decision,
                   explanation: str) -> str:
    parts = [SOURCE_SENTENCES[source], *_detection_sentences(reasons)]
    if decision.automated:
        parts.append("The decision was taken automatically, without human review, under a "
                     "rule the service set in advance.")
    elif source == "SOURCE_TYPE_OTHER_NOTIFICATION":
        parts.append("The service executed the removal order.")
    elif decision.kind == "appeal":
        parts.append("A person reviewed the case again on appeal and decided to restrict "
                     "the content.")
    else:
        parts.append("A person reviewed the content and decided to restrict it.")
    parts.append(f"It was assessed as {explanation}.")
    return " ".join(parts)[:5000]


def to_tdb(session: Session, statement: StatementOfReasons, puid: str,
           territorial_scope: list[str], *, today: date | None = None) -> dict[str, Any]:
    """One statement of reasons as a statement of the Transparency Database."""
    if not PUID_RE.fullmatch(puid):
        raise ValueError(f"puid {puid!r} is not [A-Za-z0-9_-]{{1,500}}")
    case = session.get(Case, statement.case_id)
    decision = session.get(Decision, statement.decision_id)
    if case is None or decision is None:
        raise ValueError(f"statement {statement.id}: its case or decision is gone")
    item = session.get(ContentItem, case.item_id)
    assert item is not None
    reasons = [r for r in (case.reasons or []) if isinstance(r, dict)]
    source = source_type(reasons)
    body = statement.body or {}
    ground_body = body.get("ground") if isinstance(body.get("ground"), dict) else {}
    category = ground_body.get("category") if ground_body else None
    ground_type, reference, explanation = ground_for(
        category if isinstance(category, str) else decision.category, source)
    restriction = body.get("restriction") if isinstance(body.get("restriction"), dict) else {}
    measure = str(restriction.get("measure") or "removed") if restriction else "removed"
    mimes = list(session.execute(
        select(MediaObject.mime).join(ItemMedia, ItemMedia.sha256 == MediaObject.sha256)
        .where(ItemMedia.item_id == item.id)).scalars())
    types = content_types(item, mimes)
    day = today or date.today()
    out: dict[str, Any] = {
        "decision_visibility": [VISIBILITY.get(measure, VISIBILITY["removed"])],
    }
    if ground_type == "illegal_content":
        out.update({
            "decision_ground": "DECISION_GROUND_ILLEGAL_CONTENT",
            "decision_ground_reference_url": TCO_URL,
            "illegal_content_legal_ground": reference[:500],
            "illegal_content_explanation": f"The content was assessed as {explanation}."[:2000],
        })
    else:
        out.update({
            "decision_ground": "DECISION_GROUND_INCOMPATIBLE_CONTENT",
            "incompatible_content_ground": reference[:500],
            "incompatible_content_explanation":
                f"The content was assessed as {explanation}."[:2000],
        })
    out["content_type"] = types
    if "CONTENT_TYPE_OTHER" in types:
        out["content_type_other"] = "A file or a link"
    out["category"] = CATEGORY
    out["category_specification"] = [KEYWORD]
    out["territorial_scope"] = [c for c in territorial_scope if c in EEA_COUNTRIES]
    language = content_language(item)
    if language:
        out["content_language"] = language
    out["content_date"] = content_date(item, day)
    applied = decision.created_at.date() if isinstance(decision.created_at, datetime) else day
    out["application_date"] = applied.isoformat()
    out["decision_facts"] = decision_facts(source, reasons, decision, explanation)
    out["source_type"] = source
    out["automated_detection"] = "Yes" if any(
        r.get("kind") in AUTOMATED_KINDS for r in reasons) else "No"
    out["automated_decision"] = ("AUTOMATED_DECISION_FULLY" if decision.automated
                                 else "AUTOMATED_DECISION_NOT_AUTOMATED")
    out["puid"] = puid
    return out
