"""The classifier's label taxonomy and how data and reviewer decisions map onto it.

Violating labels follow Art. 2(7) of Regulation (EU) 2021/784:

* ``incitement_glorification``, ``solicitation_recruitment``, ``instruction``,
  ``threat`` -- the four behaviours;
* ``terrorist_content`` -- violating, behaviour not known. The public pro-ISIS
  tweets are labelled per *account*, not per tweet, so they cannot say which
  behaviour a tweet shows; they all get this label.

Non-violating purposes (Art. 1(3)): ``reporting`` (journalism),
``research_education``, ``counter_speech``, and ``other``.

A model learns only the labels the data supports: a label needs at least
:data:`MIN_GROUPS` distinct groups (accounts, or decided items without an
account) to be fitted, calibrated and tested on separate groups. An
unsupported label is folded into its parent (:data:`PARENT`: a behaviour into
``terrorist_content``, a purpose into ``other``) and listed as unsupported in
the model's metadata and the model card, rather than invented. With the public
data alone the model has three labels: ``terrorist_content``, ``reporting``
and ``other``; reviewer decisions (``warding model train --from-decisions``)
can bring in the others.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

TERRORIST = "terrorist_content"
REPORTING = "reporting"
OTHER = "other"

BEHAVIOURS = ("incitement_glorification", "solicitation_recruitment", "instruction", "threat")
PURPOSES = ("reporting", "research_education", "counter_speech", "other")
#: Every label a model may have, violating first.
TAXONOMY: tuple[str, ...] = (TERRORIST, *BEHAVIOURS, *PURPOSES)
VIOLATING: frozenset[str] = frozenset({TERRORIST, *BEHAVIOURS})
PARENT: dict[str, str] = {
    **{b: TERRORIST for b in BEHAVIOURS},
    "research_education": OTHER,
    "counter_speech": OTHER,
}
#: The labels that are never folded away (the public data always supports them).
CORE: tuple[str, ...] = (TERRORIST, REPORTING, OTHER)
MIN_GROUPS = 5

# Reviewer decisions -> labels (see warding.review.decisions).
_CATEGORY_LABEL = {b: b for b in BEHAVIOURS} | {"perpetrator_content": TERRORIST}
_EXEMPTION_LABEL = {
    "journalism": REPORTING,
    "research": "research_education",
    "education": "research_education",
    "counter_speech": "counter_speech",
    "art": OTHER,
}


def decision_label(violating: bool, category: str | None, exemption: str | None) -> str:
    """The training label of a reviewer's decision."""
    if violating:
        return _CATEGORY_LABEL.get(category or "", TERRORIST)
    return _EXEMPTION_LABEL.get(exemption or "", OTHER)


def supported_labels(pairs: Iterable[tuple[str, str]]) -> tuple[tuple[str, ...], dict[str, int]]:
    """(labels to fit in TAXONOMY order, groups per unsupported label) from (label, group) pairs."""
    groups: dict[str, set[str]] = defaultdict(set)
    for label, group in pairs:
        groups[label].add(group)
    unknown = sorted(set(groups) - set(TAXONOMY))
    if unknown:
        raise ValueError(f"unknown labels {unknown}; expected some of {list(TAXONOMY)}")
    keep = [lab for lab in TAXONOMY if lab in CORE or len(groups.get(lab, ())) >= MIN_GROUPS]
    dropped = {lab: len(groups.get(lab, ())) for lab in TAXONOMY if lab not in keep}
    return tuple(keep), dropped


def fold(label: str, kept: Iterable[str]) -> str:
    """``label``, or its parent when the model does not have it."""
    return label if label in set(kept) else PARENT.get(label, OTHER)
