"""Reviewer decisions as training examples (``warding model train --from-decisions``).

Each decided case with text gives one example: the text of its item (title and
text, as scanned) and the label of its *current* decision -- the latest
``decision`` or ``appeal`` (an appeal supersedes; escalations decide nothing).
Labels follow :func:`warding.classify.labels.decision_label`: a violating
decision gives its Art. 2(7) behaviour (perpetrator content gives
``terrorist_content``); a non-violating one gives its exemption's purpose
(journalism -> ``reporting``, research/education -> ``research_education``,
counter-speech -> ``counter_speech``, art or none -> ``other``).

Group (the split key) = ``decisions:<source>:<account>`` when the item has an
account, else ``decisions:item:<id>``: an account's decided posts stay on one
side of the split, like the public data's.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from warding.classify.data import Example
from warding.classify.labels import decision_label
from warding.db.models import Case, ContentItem, Decision

ORIGIN = "decisions"


def decision_examples(app: Any) -> list[Example]:
    """One example per decided case whose item has text, in case order."""
    with app.transaction() as session:
        rows = session.execute(
            select(Case.id, Decision.id, Decision.violating, Decision.category,
                   Decision.exemption, ContentItem.id, ContentItem.source, ContentItem.account,
                   ContentItem.title, ContentItem.text, ContentItem.lang)
            .join(Decision, Decision.case_id == Case.id)
            .join(ContentItem, ContentItem.id == Case.item_id)
            .where(Decision.kind.in_(("decision", "appeal")))
            .order_by(Case.id, Decision.id)
        ).all()
    latest: dict[int, Any] = {}
    for row in rows:
        latest[row[0]] = row  # ordered by decision id: the last one wins
    out: list[Example] = []
    for _, _, violating, category, exemption, item_id, source, account, title, text, lang in (
        latest[k] for k in sorted(latest)
    ):
        body = "\n".join(p for p in (title, text) if p)
        if not body.strip():
            continue
        group = f"{ORIGIN}:{source}:{account}" if account else f"{ORIGIN}:item:{item_id}"
        out.append(Example(text=body, label=decision_label(bool(violating), category, exemption),
                           group=group, lang_hint=lang, origin=ORIGIN))
    return out
