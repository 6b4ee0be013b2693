"""What a trained classifier flags, counted per set: the figures of a :class:`TrainReport`.

Every example belongs to one or more named *sets* (:func:`set_keys`): ``propaganda`` (the
violating posts), the other per-post labels of the pro-ISIS accounts' tweets (``news_relay``,
``partisan``, ``other_posts``; each also as ``<set>:high`` / ``<set>:low`` by the confidence
its reader gave the label), ``discussion`` tweets, ``news`` items (and
``news_terrorism`` / ``news_world``), ``stormfront`` sentences, and the probe sets used for
nothing but figures: ordinary tweets (``everyday`` and ``everyday:<lang>``), everyday
sentences (``parallel`` and ``parallel:<lang>``) and the stance suite (``stance``,
``stance:<kind>``, ``stance_lang:<lang>``). For each set the report keeps ``[flagged, n]``:
for ``propaganda`` that is the recall's numerator and denominator, for every other set the
false-positive rate's. Counts, not rates, so cross-validation can pool them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import precision_recall_fscore_support

from warding.classify.data import Example
from warding.classify.labels import VIOLATING, fold
from warding.classify.stance import stance_suite


@dataclass(frozen=True)
class ClassMetrics:
    precision: float
    recall: float
    f1: float
    support: int


def set_keys(ex: Example) -> list[str]:
    """The named sets ``ex`` counts in (see the module docstring)."""
    if ex.origin == "tvec_tweets":
        if ex.label in VIOLATING:
            key = "propaganda"
        else:
            post = ex.post_label or "other"
            key = "other_posts" if post == "other" else post
        return [key, f"{key}:{ex.confidence}"] if ex.confidence else [key]
    if ex.origin == "news_reporting":
        return ["news", f"news_{ex.topic or 'world'}"]
    if ex.origin in ("everyday_tweets", "parallel"):
        base = "everyday" if ex.origin == "everyday_tweets" else "parallel"
        return [base, f"{base}:{ex.lang_hint or '?'}"]
    if ex.origin == "stance":
        return ["stance", f"stance:{ex.topic}", f"stance_lang:{ex.lang_hint}"]
    if ex.origin == "decisions":
        return ["decisions_violating" if ex.label in VIOLATING else "decisions_other"]
    return [ex.origin]


def stance_examples() -> list[Example]:
    """The stance suite as ``other`` examples (``topic`` = its kind)."""
    return [Example(s.text, "other", f"stance:{i}", s.lang, "stance", topic=s.kind)
            for i, s in enumerate(stance_suite())]


def flag_counts(examples: Sequence[Example], flags: np.ndarray,
                assessed: np.ndarray | None = None) -> dict[str, list[int]]:
    """``{set: [flagged, n]}`` over ``examples``; ``propaganda_assessed`` counts the violating
    examples with text to judge."""
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for i, ex in enumerate(examples):
        keys = set_keys(ex)
        if assessed is not None and "propaganda" in keys and assessed[i]:
            keys = [*keys, "propaganda_assessed"]
        for key in keys:
            out[key][0] += int(bool(flags[i]))
            out[key][1] += 1
    return dict(sorted(out.items()))


def pool(*counts: dict[str, list[int]]) -> dict[str, list[int]]:
    """Sum of several ``flag_counts`` (cross-validation folds)."""
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for c in counts:
        for key, (k, n) in c.items():
            out[key][0] += k
            out[key][1] += n
    return dict(sorted(out.items()))


def rate(counts: dict[str, list[int]] | dict[str, tuple[int, int]], key: str) -> float | None:
    k, n = counts.get(key, (0, 0))
    return k / n if n else None


def per_class(model: Any, test: Sequence[Example], labels: Sequence[str]
              ) -> dict[str, ClassMetrics]:
    classes = list(model.classes)
    y = [fold(ex.label, classes) for ex in test]
    p, r, f, s = precision_recall_fscore_support(y, labels, labels=classes, zero_division=0)
    return {lab: ClassMetrics(precision=round(float(p[i]), 4), recall=round(float(r[i]), 4),
                              f1=round(float(f[i]), 4), support=int(s[i]))
            for i, lab in enumerate(classes)}


def probe_examples(data_dir: Path) -> list[Example]:
    """The sets used for nothing but figures: the held-out quarter of the ordinary tweets,
    the held-out half of the parallel sentences and the stance suite."""
    from warding.classify.data import everyday_holdout, holdout_examples

    return everyday_holdout(data_dir) + holdout_examples(data_dir) + stance_examples()
