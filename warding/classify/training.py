"""Train, evaluate and save the baseline classifier.

Procedure (all splits by group = account/user/item, never by post):

1. ``account_split(examples, 0.3, seed)`` -> *train* groups / *test* groups.
2. ``account_split(train, 0.2, seed + 1)`` -> *fit* groups / *calibration* groups.
3. Features (kept columns, IDF) and the logistic regression are learned on the
   fit part only; Platt scaling of the terrorist_content log-odds is fitted on
   the calibration part.
4. The model is evaluated on the test part and **that same model is saved**
   (no refit on all data), so the metrics in the report and in ``model.json``
   describe the shipped artefact. The price is that 30 % + 20 % x 70 % of the
   groups are not used for fitting the weights.

Training is deterministic: the same data and seed give a byte-identical
``model.npz``.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import precision_recall_fscore_support

from warding.classify.baseline import BaselineClassifier
from warding.classify.data import (
    LABELS,
    OTHER,
    TERRORIST,
    Example,
    account_split,
    load_examples,
    parallel_file,
    source_files,
)
from warding.classify.features import TextFeatures, hashed_counts, hashing_vectorizer
from warding.errors import InvalidInput

SEED = 20261126
TEST_FRACTION = 0.3
CALIBRATION_FRACTION = 0.2
#: Inverse L2 strength, fixed (not searched at training time). Among {1, 4, 16, 64}
#: on the fit/calibration split of the shared data, log-loss was best at 16-64 but
#: the false-positive rate on news rose with C (4.5 %, 6 %, 8.3 %, 9 %); 4 is the
#: compromise: macro-F1 within 0.004 of the best, fewer journalism false positives.
C = 4.0
MIN_DF = 2
MAX_ITER = 2000


@dataclass(frozen=True)
class ClassMetrics:
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class TrainReport:
    """Figures on the held-out test accounts; FPRs count results flagged ``violating``."""

    n_train: int
    n_test: int
    n_fit: int
    n_calibration: int
    per_class: dict[str, ClassMetrics]
    violating_recall: float | None
    fpr_news: float | None
    n_news_test: int
    fpr_news_terrorism: float | None
    n_news_terrorism_test: int
    fpr_discussion: float | None
    n_discussion_test: int
    artefact: Path
    model: str
    seconds: float = field(default=0.0, compare=False)
    fpr_everyday: float | None = None
    n_everyday_test: int = 0
    fpr_everyday_by_lang: dict[str, float] = field(default_factory=dict)

    def metrics(self) -> dict[str, Any]:
        """The deterministic figures (no path, no timing), as stored in model.json."""
        doc = asdict(self)
        for key in ("artefact", "model", "seconds"):
            doc.pop(key)
        return doc


def fit_platt(z: np.ndarray, y: np.ndarray, max_iter: int = 100) -> tuple[float, float]:
    """Platt scaling ``sigmoid(a * z + b)`` by Newton's method, with Platt's target smoothing.

    Returns (1, 0) -- no change -- when ``y`` holds a single class.
    """
    z = np.asarray(z, dtype=np.float64)
    y = np.asarray(y, dtype=bool)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return 1.0, 0.0
    t = np.where(y, (n_pos + 1.0) / (n_pos + 2.0), 1.0 / (n_neg + 2.0))

    def loss(p: np.ndarray) -> float:
        s = p[0] * z + p[1]
        return float(np.sum(np.logaddexp(0.0, s) - t * s))

    params = np.array([1.0, 0.0])
    current = loss(params)
    for _ in range(max_iter):
        s = params[0] * z + params[1]
        prob = 0.5 * (1.0 + np.tanh(0.5 * s))
        grad = np.array([np.sum((prob - t) * z), np.sum(prob - t)])
        w = prob * (1.0 - prob)
        hess = np.array([[np.sum(w * z * z), np.sum(w * z)], [np.sum(w * z), np.sum(w)]])
        step = np.linalg.solve(hess + 1e-9 * np.eye(2), grad)
        scale = 1.0
        while scale > 1e-8:
            candidate = params - scale * step
            value = loss(candidate)
            if value <= current:
                break
            scale /= 2.0
        else:
            break
        done = abs(current - value) <= 1e-12 * max(1.0, abs(current))
        params, current = candidate, value
        if done:
            break
    return float(params[0]), float(params[1])


def _summary(parts: dict[str, Sequence[Example]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, part in parts.items():
        rows = Counter(f"{ex.origin}/{ex.label}" for ex in part)
        groups = {(ex.origin, ex.label, ex.group) for ex in part}
        accounts = Counter(f"{origin}/{label}" for origin, label, _ in groups)
        out[name] = {
            "examples": dict(sorted(rows.items())),
            "groups": dict(sorted(accounts.items())),
        }
    return out


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _rate(flags: np.ndarray, mask: np.ndarray) -> float | None:
    return float(flags[mask].mean()) if mask.any() else None


def evaluate(
    model: BaselineClassifier, test: Sequence[Example], counts: Any
) -> dict[str, Any]:
    """Per-class metrics and false-positive rates of ``model`` on ``test`` (hashed ``counts``)."""
    probs, scores = model.scores_from_counts(counts)
    pred = probs.argmax(axis=1)
    y = np.array([LABELS.index(ex.label) for ex in test], dtype=np.int64)
    p, r, f, s = precision_recall_fscore_support(
        y, pred, labels=list(range(len(LABELS))), zero_division=0
    )
    per_class = {
        lab: ClassMetrics(
            precision=round(float(p[i]), 4),
            recall=round(float(r[i]), 4),
            f1=round(float(f[i]), 4),
            support=int(s[i]),
        )
        for i, lab in enumerate(LABELS)
    }
    violating = (pred == LABELS.index(TERRORIST)) & (scores >= 0.5)
    news = np.array([ex.origin == "news_reporting" for ex in test], dtype=bool)
    terror = news & np.array([ex.topic == "terrorism" for ex in test], dtype=bool)
    discussion = np.array(
        [ex.origin == "tvec_tweets" and ex.label == OTHER for ex in test], dtype=bool
    )
    positives = y == LABELS.index(TERRORIST)
    everyday = np.array([ex.origin == "parallel" for ex in test], dtype=bool)
    by_lang: dict[str, float] = {}
    for lang in sorted({ex.lang_hint or "?" for ex in test if ex.origin == "parallel"}):
        mask = everyday & np.array([(ex.lang_hint or "?") == lang for ex in test], dtype=bool)
        rate = _rate(violating, mask)
        if rate is not None:
            by_lang[lang] = round(rate, 4)

    def rounded(value: float | None) -> float | None:
        return None if value is None else round(value, 4)

    return {
        "per_class": per_class,
        "violating_recall": rounded(_rate(violating, positives)),
        "fpr_news": rounded(_rate(violating, news)),
        "n_news_test": int(news.sum()),
        "fpr_news_terrorism": rounded(_rate(violating, terror)),
        "n_news_terrorism_test": int(terror.sum()),
        "fpr_discussion": rounded(_rate(violating, discussion)),
        "n_discussion_test": int(discussion.sum()),
        "fpr_everyday": rounded(_rate(violating, everyday)),
        "n_everyday_test": int(everyday.sum()),
        "fpr_everyday_by_lang": by_lang,
    }


def train(
    data_dir: Path,
    models_dir: Path,
    extra: list[Example] | None = None,
    seed: int = SEED,
) -> TrainReport:
    """Train on ``data_dir`` (+ ``extra``), evaluate on held-out accounts, save to ``models_dir``.

    Raises :class:`~warding.classify.data.DataMissing` when the data folder is
    incomplete and :class:`~warding.errors.InvalidInput` when some label has too
    few groups to fit, calibrate and test.
    """
    started = time.perf_counter()
    examples = load_examples(data_dir) + list(extra or [])
    train_part, test = account_split(examples, TEST_FRACTION, seed)
    fit, calibration = account_split(train_part, CALIBRATION_FRACTION, seed + 1)
    for name, part in (("fit", fit), ("test", test)):
        missing = sorted(set(LABELS) - {ex.label for ex in part})
        if missing:
            raise InvalidInput(
                f"the {name} part has no examples labelled {', '.join(missing)}; "
                "each label needs at least 3 groups (accounts) in the training data"
            )
    unknown = sorted({ex.label for ex in examples} - set(LABELS))
    if unknown:
        raise InvalidInput(f"unknown labels {unknown}; expected {list(LABELS)}")

    vectorizer = hashing_vectorizer((2, 5), 2**20)
    fit_counts = hashed_counts([ex.text for ex in fit], vectorizer)
    features = TextFeatures.fit_counts(fit_counts, min_df=MIN_DF)
    x_fit = features.transform_counts(fit_counts)
    y_fit = np.array([LABELS.index(ex.label) for ex in fit], dtype=np.int64)
    lr = LogisticRegression(C=C, class_weight="balanced", max_iter=MAX_ITER, tol=1e-4)
    lr.fit(x_fit, y_fit)

    uncalibrated = BaselineClassifier(features, lr.coef_, lr.intercept_, (1.0, 0.0))
    z = uncalibrated.log_odds_from_counts(
        hashed_counts([ex.text for ex in calibration], vectorizer)
    )
    a, b = fit_platt(z, np.array([ex.label == TERRORIST for ex in calibration], dtype=bool))
    model = BaselineClassifier(features, lr.coef_, lr.intercept_, (a, b))

    figures = evaluate(model, test, hashed_counts([ex.text for ex in test], vectorizer))
    npz_path = Path(models_dir) / "baseline" / "model.npz"
    report = TrainReport(
        n_train=len(train_part),
        n_test=len(test),
        n_fit=len(fit),
        n_calibration=len(calibration),
        artefact=npz_path,
        model=model.model_id,
        **figures,
    )
    files = source_files(data_dir)
    extra_file = parallel_file(data_dir)
    if extra_file is not None:
        files.append(extra_file)
    sources = [{"file": f"{p.parent.name}/{p.name}", "sha256": _sha256(p)} for p in files]
    metadata = {
        "training": {
            "procedure": (
                "account split (test 30%), then train accounts split into fit (80%) and "
                "calibration (20%); weights learned on fit, Platt scaling on calibration; "
                "the saved model is the one evaluated on test (no refit)"
            ),
            "seed": seed,
            "test_fraction": TEST_FRACTION,
            "calibration_fraction": CALIBRATION_FRACTION,
            "estimator": "sklearn LogisticRegression (multinomial, lbfgs)",
            "C": C,
            "class_weight": "balanced",
            "min_df": MIN_DF,
            "n_iter": int(np.max(lr.n_iter_)),
            "sources": sources,
            "n_extra_examples": len(extra or []),
            "data": _summary({"fit": fit, "calibration": calibration, "test": test}),
        },
        "metrics": report.metrics(),
    }
    saved = model.save(models_dir, metadata)
    assert saved == npz_path
    seconds = round(time.perf_counter() - started, 2)
    return replace(report, seconds=seconds)
