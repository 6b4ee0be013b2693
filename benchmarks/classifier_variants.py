"""Issue 16: the approaches tried against the two missed targets, measured side by side.

The default ``baseline`` misses two targets of issue 16: news relays of the pro-ISIS accounts
flagged <= 10 % and their other posts (chat, religious text) flagged <= 3 %, at propaganda
recall >= 0.85. This script measures each alternative the same way the model card measures the
default, so that "tried and measured" is one command:

* the same account split (30 % of the accounts held out), the same calibration folds;
* every variant's threshold is chosen on the *out-of-fold* scores of the training accounts, for
  88 % recall (:data:`warding.classify.calibration.THRESHOLD_RECALL`), as the default's is;
* figures: out-of-fold (the training accounts; what a choice may be made on) and held-out
  (the test accounts; for information), plus the held-out ordinary tweets.

Variants (each one change against the default):

``specialist``  a second model trained only on the pro-ISIS accounts' posts and the news
                items (propaganda against the rest), added to the default's log-odds;
``fine``        one training class per kind of negative (relays, partisan, chat, discussion,
                news, forum, ordinary tweets, sentences) instead of ``reporting``/``other``;
``rt-source``   the retweeted account's handle (``RT @handle``) as a feature (not ``@user``);
``knn``         a memory of the labelled posts: the 5 nearest (cosine) vote on the log-odds;
``religious``   ordinary tweets and sentences with religious words weigh 5 times more;
``char-3-5``    character 3-5-grams instead of 2-5;
``low-conf``    labels a reader marked ``low`` confidence weigh half;
``short``       texts under 6 words lose 2 in log-odds (a stricter bar for short texts).

A LightGBM model on the same features (alone and added to the default) was measured once by
hand and is not here, as ``lightgbm`` is not a dependency; docs/data-and-models.md gives its
figures.

Run: ``python -m benchmarks.classifier_variants`` (``make bench-classifier-variants``, about
15 minutes on 2 cores); needs ``../shared/data``. Writes the ``classifier-variants`` section of
docs/benchmarks.md.
"""

from __future__ import annotations

import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression

from benchmarks.detection import SHARED
from benchmarks.sections import put_section
from warding.classify import training as T
from warding.classify.calibration import THRESHOLD_RECALL, recall_cut
from warding.classify.data import Example, account_split, fold_of_groups, load_examples
from warding.classify.evaluation import flag_counts, probe_examples
from warding.classify.features import TextFeatures, clean_text, hashed_counts, hashing_vectorizer
from warding.classify.formulas import assessable
from warding.classify.labels import VIOLATING, fold, supported_labels

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "benchmarks.md"
_RT = re.compile(r"\bRT\s*@(\w+)")
_RELIGIOUS = re.compile(
    r"allah|insha|masha|jazak|alhamd|subhan|ameen|amin\b|islam|muslim|mosque|quran|ramadan|"
    r"eid\b|god\b|jesus|church|pray|bless|lord\b|bible|amen\b|الله|رمضان|مسجد|دعاء", re.IGNORECASE)
Scores = tuple[np.ndarray, np.ndarray, np.ndarray]  # out-of-fold, test, probes (log-odds)
#: The default weights, kept before any variant swaps ``training.sample_weights``.
SAMPLE_WEIGHTS = T.sample_weights


class Bench:
    """The split, the prepared inputs and the default model's log-odds."""

    def __init__(self) -> None:
        examples = load_examples(SHARED)
        classes, _ = supported_labels((e.label, e.group) for e in examples)
        examples = [replace(e, label=fold(e.label, classes)) for e in examples]
        self.classes = classes
        self.train, self.test = account_split(examples, T.TEST_FRACTION, T.SEED)
        self.probes = probe_examples(SHARED)
        folds = fold_of_groups(self.train, T.CALIBRATION_FOLDS, f"{T.SEED}:calibration")
        self.fold = np.array([folds[e.group] for e in self.train])
        self.truth = np.array([e.label in VIOLATING for e in self.train])
        self.parts = (self.train, self.test, self.probes)
        self.data = tuple(T.prepare(p, embeddings=False) for p in self.parts)
        self.words = tuple(np.array([len(clean_text(e.text).split()) for e in p])
                           for p in self.parts)

    def linear(self, data: Sequence[T.Prepared] | None = None,
               weights: Callable[[Sequence[Example], Sequence[str]], np.ndarray] | None = None
               ) -> Scores:
        """The default procedure (out-of-fold, then fitted on all training accounts)."""
        data = data or self.data
        saved = T.sample_weights
        if weights is not None:
            T.sample_weights = weights  # type: ignore[assignment]
        try:
            cls = T.CLASSIFIERS["baseline"]
            oof = T._out_of_fold(cls, self.train, data[0], self.classes, T.SEED).z
            model = T._fit(self.train, data[0], self.classes, False).model(cls, self.classes)
            rest = [model.probs_log_odds_from_counts(d.counts, None)[1] for d in data[1:]]
        finally:
            T.sample_weights = saved
        return oof, rest[0], rest[1]

    def folded(self, fit: Callable[[np.ndarray], Callable[[sp.csr_matrix], np.ndarray]]
               ) -> Scores:
        """Out-of-fold scores of ``fit(training rows) -> scorer``, then test and probes from
        the fit on every training row."""
        oof = np.zeros(len(self.train))
        counts = self.data[0].counts
        for k in sorted(set(self.fold.tolist())):
            out = np.flatnonzero(self.fold == k)
            oof[out] = fit(np.flatnonzero(self.fold != k))(counts[out])
        final = fit(np.arange(len(self.train)))
        return oof, final(self.data[1].counts), final(self.data[2].counts)

    def row(self, name: str, scores: Scores) -> dict[str, object]:
        oof, test, probe = scores
        threshold = recall_cut(oof[self.truth & self.data[0].assessed])
        out: dict[str, object] = {"variant": name}
        for part, z, d in (("oof", oof, self.data[0]), ("test", test, self.data[1]),
                           ("probe", probe, self.data[2])):
            exs = self.parts[("oof", "test", "probe").index(part)]
            counts = flag_counts(exs, (z >= threshold) & d.assessed, d.assessed)
            for key, (k, n) in counts.items():
                out[f"{part}:{key}"] = k / n if n else None
        return out


def specialist(b: Bench, default: Scores) -> Scores:
    domain = np.array([e.origin in ("tvec_tweets", "news_reporting") for e in b.train])

    def fit(rows: np.ndarray) -> Callable[[sp.csr_matrix], np.ndarray]:
        rows = rows[domain[rows]]
        exs = [b.train[i] for i in rows]
        y = b.truth[rows]
        w = np.where(y, len(y) / (2 * y.sum()), len(y) / (2 * (~y).sum()))
        n = Counter(e.group for e in exs)
        w *= np.array([min(1.0, T.ACCOUNT_CAP / n[e.group]) for e in exs])
        feats = TextFeatures.fit_counts(b.data[0].counts[rows], min_df=T.MIN_DF)
        lr = LogisticRegression(C=1.0, max_iter=T.MAX_ITER, tol=1e-4)
        lr.fit(feats.transform_counts(b.data[0].counts[rows]), y, sample_weight=w)
        return lambda c: np.asarray(lr.decision_function(feats.transform_counts(c)))

    extra = b.folded(fit)
    return tuple(d + e for d, e in zip(default, extra, strict=True))  # type: ignore[return-value]


def fine_classes(b: Bench) -> Scores:
    def kind(e: Example) -> str:
        if e.label in VIOLATING:
            return "propaganda"
        if e.origin == "tvec_tweets":
            return f"tvec:{e.post_label or 'other'}"
        return e.origin

    kinds = [kind(e) for e in b.train]

    def fit(rows: np.ndarray) -> Callable[[sp.csr_matrix], np.ndarray]:
        names = sorted({kinds[i] for i in rows})
        y = np.array([names.index(kinds[i]) for i in rows])
        feats = TextFeatures.fit_counts(b.data[0].counts[rows], min_df=T.MIN_DF)
        lr = LogisticRegression(C=T.C, max_iter=T.MAX_ITER, tol=1e-4)
        lr.fit(feats.transform_counts(b.data[0].counts[rows]), y,
               sample_weight=T.sample_weights([b.train[i] for i in rows], b.classes))
        p = names.index("propaganda")

        def score(c: sp.csr_matrix) -> np.ndarray:
            logits = lr.decision_function(feats.transform_counts(c))
            rest = np.delete(logits, p, axis=1)
            m = rest.max(axis=1)
            return np.asarray(logits[:, p] - (m + np.log(np.exp(rest - m[:, None]).sum(1))))

        return score

    return b.folded(fit)


def _prepared(examples: Sequence[Example], extra: Callable[[Example], str] = lambda e: "",
              char_ngrams: tuple[int, int] = (2, 5)) -> T.Prepared:
    """:func:`warding.classify.training.prepare` (no embeddings) with ``extra(example)``
    appended to the text the features read and another character n-gram range; what is
    assessable is decided on the plain cleaned text, as in training."""
    cleaned = [clean_text(e.text) for e in examples]
    feats = [f"{text} {extra(e)}".rstrip() for text, e in zip(cleaned, examples, strict=True)]
    counts = hashed_counts(feats, hashing_vectorizer(char_ngrams, 2**20), cleaned=True)
    return T.Prepared(counts, None, assessable(cleaned))


def _retweeted(e: Example) -> str:
    m = _RT.search(e.text)
    handle = m.group(1).lower() if m else ""
    return f"rtsource{handle}" if handle and handle != "user" else ""


def rt_source(b: Bench) -> Scores:
    return b.linear(tuple(_prepared(p, extra=_retweeted) for p in b.parts))


def char_3_5(b: Bench) -> Scores:
    return b.linear(tuple(_prepared(p, char_ngrams=(3, 5)) for p in b.parts))


def knn(b: Bench, default: Scores, k: int = 5, floor: float = 0.2, beta: float = 5.0) -> Scores:
    memory = np.array([e.origin == "tvec_tweets" for e in b.train])

    def fit(rows: np.ndarray) -> Callable[[sp.csr_matrix], np.ndarray]:
        feats = TextFeatures.fit_counts(b.data[0].counts[rows], min_df=T.MIN_DF)
        mem = rows[memory[rows]]
        x_mem = feats.transform_counts(b.data[0].counts[mem])
        sign = np.where(b.truth[mem], 1.0, -1.0)

        def score(c: sp.csr_matrix) -> np.ndarray:
            sims = (feats.transform_counts(c) @ x_mem.T).toarray() / 2.0  # two l2 blocks
            top = np.argsort(-sims, axis=1)[:, :k]
            s = np.take_along_axis(sims, top, 1)
            return np.asarray(beta * (np.clip(s - floor, 0, None) * sign[top]).sum(1))

        return score

    extra = b.folded(fit)
    return tuple(d + e for d, e in zip(default, extra, strict=True))  # type: ignore[return-value]


def reweighted(b: Bench, factor: Callable[[Example], float]) -> Scores:
    def weights(examples: Sequence[Example], classes: Sequence[str]) -> np.ndarray:
        w = SAMPLE_WEIGHTS(examples, classes)
        return w * np.array([factor(e) for e in examples])

    return b.linear(weights=weights)


COLUMNS = (("oof:propaganda", "OOF recall"), ("oof:news_relay", "OOF relays"),
           ("oof:other_posts", "OOF other"), ("oof:partisan", "OOF partisan"),
           ("oof:everyday", "OOF ordinary"), ("test:propaganda", "held-out recall"),
           ("test:news_relay", "held-out relays"), ("test:other_posts", "held-out other"),
           ("probe:everyday", "ordinary (probe)"))


def table(rows: list[dict[str, object]],
          columns: tuple[tuple[str, str], ...] = COLUMNS) -> str:
    head = "| variant | " + " | ".join(label for _, label in columns) + " |"
    out = [head, "|---" * (len(columns) + 1) + "|"]
    for row in rows:
        cells = []
        for key, _ in columns:
            v = row.get(key)
            cells.append("–" if v is None else f"{100 * float(v):.1f}%")  # type: ignore[arg-type]
        out.append(f"| {row['variant']} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def start() -> tuple[Bench, Scores] | None:
    """The bench and the default's scores; None (said on stderr) without the shared data."""
    if not (SHARED / "tvec_tweets" / "posts.jsonl").is_file():
        print(f"needs the shared data in {SHARED}", file=sys.stderr)
        return None
    b = Bench()
    return b, b.linear()


def main() -> int:
    started = time.perf_counter()
    ready = start()
    if ready is None:
        return 2
    b, default = ready
    words_short = 6
    variants: list[tuple[str, Callable[[], Scores]]] = [
        ("default (`baseline`)", lambda: default),
        ("specialist", lambda: specialist(b, default)),
        ("fine", lambda: fine_classes(b)),
        ("rt-source", lambda: rt_source(b)),
        ("knn", lambda: knn(b, default)),
        ("religious", lambda: reweighted(
            b, lambda e: 5.0 if e.origin in ("everyday_tweets", "parallel")
            and _RELIGIOUS.search(e.text) else 1.0)),
        ("char-3-5", lambda: char_3_5(b)),
        ("low-conf", lambda: reweighted(
            b, lambda e: 0.5 if e.confidence == "low" else 1.0)),
        ("short", lambda: tuple(  # type: ignore[return-value]
            z - 2.0 * (w < words_short) for z, w in zip(default, b.words, strict=True))),
    ]
    rows = []
    for name, run in variants:
        t0 = time.perf_counter()
        rows.append(b.row(name, run()))
        print(f"{name}: {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    body = (
        "## Classifier variants against the missed targets (issue 16)\n\n"
        f"`make bench-classifier-variants`, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
        f", {time.perf_counter() - started:.0f} s. Every variant's threshold keeps "
        f"{THRESHOLD_RECALL:.0%} of the training accounts' propaganda posts flagged on "
        "out-of-fold scores (as the default's). OOF: out-of-fold figures of the training "
        "accounts (what a choice may be made on); held-out: the test accounts; probe: the "
        "held-out quarter of the ordinary tweets. Targets: recall "
        "≥ 85%, relays ≤ 10%, other posts ≤ 3%, ordinary tweets ≤ 2%. What each variant is: "
        "`benchmarks/classifier_variants.py`.\n\n" + table(rows) + "\n"
    )
    put_section(DOC, "classifier-variants", body)
    print(table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
