"""Policy categories (Art. 2(7) of Regulation (EU) 2021/784, plus perpetrator material),
the bank label categories that map to them, and the categories a case's reasons point to.
Shared by the queue (filtering by category) and the decisions (validating them)."""

from __future__ import annotations

from typing import Any

# Art. 2(7) of Regulation (EU) 2021/784, plus perpetrator material.
POLICY_CATEGORIES = (
    "incitement_glorification",
    "solicitation_recruitment",
    "instruction",
    "threat",
    "perpetrator_content",
)
# Bank label categories (behaviour) mapped to the policy categories above.
BANK_TO_POLICY = {
    "glorification": "incitement_glorification",
    "incitement": "incitement_glorification",
    "recruitment": "solicitation_recruitment",
    "solicitation": "solicitation_recruitment",
    "instruction": "instruction",
    "threat": "threat",
    "perpetrator_content": "perpetrator_content",
}


def categories_of(reasons: list[Any]) -> set[str]:
    """Policy categories the reasons point to: bank labels, and a classifier label when it
    names a policy category (the baseline classifier's does not)."""
    out: set[str] = set()
    for r in reasons:
        if r.get("kind") == "bank_match":
            label = (r.get("labels") or {}).get("category")
            if isinstance(label, str):
                if label in POLICY_CATEGORIES:
                    out.add(label)
                elif label in BANK_TO_POLICY:
                    out.add(BANK_TO_POLICY[label])
        elif r.get("kind") == "classifier" and r.get("label") in POLICY_CATEGORIES:
            out.add(str(r["label"]))
    return out
