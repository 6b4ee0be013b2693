"""The linear text classifiers: ``baseline`` (char n-grams) and ``hybrid`` (char n-grams +
multilingual sentence embeddings).

Both are one multinomial logistic regression over the labels the training data
supports (see :mod:`warding.classify.labels`: at least ``terrorist_content``,
``reporting`` and ``other``). ``score`` is the probability that the content is
violating: the log-odds ``z = logsumexp(violating logits) - logsumexp(other
logits)``, Platt-scaled on held-out training accounts (see
:mod:`warding.classify.training`). A result is ``violating`` when the score is
at least the model's decision threshold (``threshold`` in the model, 0.8 by
default, the same as ``WARDING_CLASSIFIER_THRESHOLD``); its ``label`` is then
the most likely violating label, else the most likely non-violating one, so
label and flag never disagree.

``hybrid`` adds a 512-dim sentence embedding (:mod:`warding.signals.embedding`)
of the cleaned text to the n-gram features. It is several times slower (the
embedding dominates) but separates journalism from propaganda much better; the
figures of both are in docs/model-card.md.

The model lives in ``<models_dir>/<name>/``:

* ``model.npz`` -- numpy arrays only, read with ``allow_pickle=False``:
  ``labels`` (unicode), ``columns`` (int32 hashed columns kept at training),
  ``idf`` (float32), ``coef`` (float32, labels x columns), ``emb_coef``
  (float32, labels x embedding dims; 0 columns for ``baseline``),
  ``intercept`` (float64), ``calibration`` (float64 ``[a, b]``: score =
  sigmoid(a * z + b)), ``threshold`` (float64 ``[t]``) and ``vectorizer``
  (int64 ``[ngram_min, ngram_max, n_features, preprocess_version, word_min,
  word_max]``). Written
  byte-for-byte deterministically (fixed zip timestamps).
* ``model.json`` -- format version, labels, vectoriser parameters, training
  summary, metrics and the sha256 of ``model.npz``. A model whose npz does not
  match that hash is refused.

Both are written atomically (temporary file + ``os.replace``).
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp

from warding.classify.base import DEFAULT_THRESHOLD, Classifier, ClassifierResult, ModelMissing
from warding.classify.features import PREPROCESS_VERSION, TextFeatures, clean_text, display_gram
from warding.classify.formulas import MIN_ASSESSABLE_WORDS, assessable
from warding.classify.labels import TAXONOMY, VIOLATING
from warding.classify.npz import npz_bytes
from warding.errors import WardingError
from warding.fsutil import atomic_write

FORMAT_VERSION = 2
MODEL_SUBDIR = "baseline"
NPZ_NAME = "model.npz"
JSON_NAME = "model.json"
TOP_FEATURES = 5
DOWN_FEATURES = 3
#: Default decision threshold on the calibrated score (``violating`` at or above it); a
#: trained model carries its own, chosen on its calibration accounts.
DECISION_THRESHOLD = DEFAULT_THRESHOLD
_GRAM_CACHE_SIZE = 500_000


class ModelInvalid(WardingError):
    """A stored model exists but is corrupt, tampered with or of another format."""


def model_dir(models_dir: Path, name: str = MODEL_SUBDIR) -> Path:
    """Folder of the named model inside ``models_dir``."""
    return Path(models_dir) / name


def sigmoid(x: np.ndarray) -> np.ndarray:
    """The logistic function, without overflow (Platt scaling maps log-odds through it)."""
    return np.asarray(0.5 * (1.0 + np.tanh(0.5 * x)))


def _logsumexp(x: np.ndarray) -> np.ndarray:
    m = x.max(axis=1, keepdims=True)
    return np.asarray((m + np.log(np.exp(x - m).sum(axis=1, keepdims=True)))[:, 0])


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return np.asarray(e / e.sum(axis=1, keepdims=True))


class BaselineClassifier(Classifier):
    """Char n-gram logistic regression with a calibrated violating score."""

    name: ClassVar[str] = "baseline"
    #: Every label a model of this kind may have; a trained model has ``classes``.
    labels: ClassVar[tuple[str, ...]] = TAXONOMY
    violating_labels: ClassVar[frozenset[str]] = VIOLATING
    #: Whether the model reads sentence embeddings.
    uses_embeddings: ClassVar[bool] = False

    def __init__(
        self,
        features: TextFeatures,
        coef: np.ndarray,
        intercept: np.ndarray,
        calibration: tuple[float, float],
        *,
        classes: Sequence[str] = ("terrorist_content", "reporting", "other"),
        emb_coef: np.ndarray | None = None,
        threshold: float = DECISION_THRESHOLD,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        classes = tuple(str(c) for c in classes)
        if not classes or len(set(classes)) != len(classes) or set(classes) - set(self.labels):
            raise ValueError(f"classes {classes} must be distinct labels of {self.labels}")
        if not set(classes) & self.violating_labels or not set(classes) - self.violating_labels:
            raise ValueError("a model needs violating and non-violating classes")
        coef = np.asarray(coef, dtype=np.float32)
        intercept = np.asarray(intercept, dtype=np.float64)
        if coef.shape != (len(classes), features.n_columns):
            raise ValueError(f"coef shape {coef.shape} does not fit the features")
        if intercept.shape != (len(classes),):
            raise ValueError(f"intercept shape {intercept.shape} does not fit the labels")
        emb = np.zeros((len(classes), 0), dtype=np.float32) if emb_coef is None else \
            np.asarray(emb_coef, dtype=np.float32)
        if emb.ndim != 2 or emb.shape[0] != len(classes):
            raise ValueError(f"emb_coef shape {emb.shape} does not fit the labels")
        if self.uses_embeddings != bool(emb.shape[1]):
            raise ValueError(f"a {self.name} model {'needs' if self.uses_embeddings else 'has no'} "
                             "embedding weights")
        if not 0.0 < threshold <= 1.0:
            raise ValueError("threshold must be in (0, 1]")
        self.classes = classes
        self.features = features
        self.coef = coef
        self.emb_coef = emb
        self.intercept = intercept
        self.calibration = (float(calibration[0]), float(calibration[1]))
        self.threshold = float(threshold)
        self.metadata: dict[str, Any] = dict(metadata or {})
        self._coef64_t = np.ascontiguousarray(coef.astype(np.float64).T)
        self._emb64_t = np.ascontiguousarray(emb.astype(np.float64).T)
        self._viol = np.array([c in self.violating_labels for c in classes])
        self._gram_columns: dict[str, int] = {}
        self._npz = npz_bytes(self.arrays())
        self.sha256 = hashlib.sha256(self._npz).hexdigest()

    @property
    def model_id(self) -> str:
        return f"{self.name}@{self.sha256[:12]}"

    def arrays(self) -> dict[str, np.ndarray]:
        """The arrays stored in ``model.npz``."""
        f = self.features
        return {
            "labels": np.array(self.classes, dtype=np.str_),
            "columns": f.columns.astype(np.int32),
            "idf": f.idf.astype(np.float32),
            "coef": self.coef,
            "emb_coef": self.emb_coef,
            "intercept": self.intercept,
            "calibration": np.array(self.calibration, dtype=np.float64),
            "threshold": np.array([self.threshold], dtype=np.float64),
            "vectorizer": np.array(
                [f.ngram_range[0], f.ngram_range[1], f.n_features, PREPROCESS_VERSION,
                 f.word_ngram_range[0], f.word_ngram_range[1]],
                dtype=np.int64,
            ),
        }

    # ---------------------------------------------------------------- storage

    def save(self, models_dir: Path, metadata: Mapping[str, Any] | None = None) -> Path:
        """Write ``model.npz`` and ``model.json`` atomically; return the npz path."""
        if metadata is not None:
            self.metadata = dict(metadata)
        target = model_dir(models_dir, self.name)
        doc = {
            "format_version": FORMAT_VERSION,
            "classifier": self.name,
            "model": self.model_id,
            "labels": list(self.classes),
            "violating_labels": sorted(set(self.classes) & self.violating_labels),
            "vectorizer": self.features.params(),
            "embeddings": self.metadata.get("embeddings") if self.uses_embeddings else None,
            "calibration": {
                "method": "platt",
                "formula": "score = sigmoid(a * z + b), z = logsumexp(violating logits) - "
                "logsumexp(non-violating logits)",
                "a": self.calibration[0],
                "b": self.calibration[1],
            },
            "threshold": self.threshold,
            "npz": NPZ_NAME,
            "npz_sha256": self.sha256,
            **{k: v for k, v in self.metadata.items() if k not in _RESERVED_KEYS},
        }
        npz_path = target / NPZ_NAME
        atomic_write(npz_path, self._npz)
        atomic_write(
            target / JSON_NAME,
            (json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode(),
        )
        return npz_path

    @classmethod
    def load(cls, models_dir: Path) -> BaselineClassifier:
        target = model_dir(models_dir, cls.name)
        json_path, npz_path = target / JSON_NAME, target / NPZ_NAME
        if not json_path.is_file() or not npz_path.is_file():
            hint = "" if cls.name == "baseline" else f" --classifier {cls.name}"
            raise ModelMissing(f"no trained classifier in {target}; run `warding model train{hint}`")
        try:
            doc = json.loads(json_path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ModelInvalid(f"{json_path} is unreadable ({exc}); retrain the model") from exc
        if not isinstance(doc, dict):
            raise ModelInvalid(f"{json_path} is not a JSON object; retrain the model")
        if doc.get("format_version") != FORMAT_VERSION:
            raise ModelInvalid(
                f"{json_path} has format version {doc.get('format_version')!r}, this Warding "
                f"reads version {FORMAT_VERSION}; retrain with `warding model train`"
            )
        if doc.get("classifier") != cls.name:
            raise ModelInvalid(f"{json_path} holds a {doc.get('classifier')!r} model, not {cls.name!r}")
        data = npz_path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if digest != doc.get("npz_sha256"):
            raise ModelInvalid(
                f"{npz_path} does not match the sha256 recorded in {json_path} "
                f"(file {digest[:12]}, recorded {str(doc.get('npz_sha256'))[:12]}): the model is "
                "corrupt or was replaced; retrain with `warding model train`"
            )
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as npz:
                arrays = {k: npz[k] for k in npz.files}
            vec = arrays["vectorizer"]
            if int(vec[3]) != PREPROCESS_VERSION:
                raise ModelInvalid(
                    f"{npz_path} was trained with text preprocessing v{int(vec[3])}, this Warding "
                    f"uses v{PREPROCESS_VERSION}; retrain with `warding model train`"
                )
            features = TextFeatures(
                arrays["columns"],
                arrays["idf"],
                ngram_range=(int(vec[0]), int(vec[1])),
                n_features=int(vec[2]),
                word_ngram_range=(int(vec[4]), int(vec[5])),
            )
            cal = arrays["calibration"]
            meta = {k: v for k, v in doc.items() if k not in _RESERVED_KEYS}
            model = cls(
                features,
                arrays["coef"],
                arrays["intercept"],
                (float(cal[0]), float(cal[1])),
                classes=[str(x) for x in arrays["labels"].tolist()],
                emb_coef=arrays["emb_coef"],
                threshold=float(arrays["threshold"][0]),
                metadata=meta,
            )
        except ModelInvalid:
            raise
        except (KeyError, IndexError, ValueError, OSError, zipfile.BadZipFile) as exc:
            raise ModelInvalid(f"{npz_path} is not a valid {cls.name} model ({exc})") from exc
        if model.sha256 != digest:
            raise ModelInvalid(f"{npz_path} was not written by this Warding; retrain the model")
        return model

    # ---------------------------------------------------------------- scoring

    def embed(self, cleaned: Sequence[str]) -> np.ndarray | None:
        """Sentence embeddings of already cleaned texts (None for ``baseline``)."""
        if not self.uses_embeddings:
            return None
        from warding.signals.embedding import get_embedder

        return get_embedder().encode(cleaned)

    def _logits(self, x: sp.csr_matrix, emb: np.ndarray | None) -> np.ndarray:
        logits = np.asarray(x @ self._coef64_t) + self.intercept
        if self.uses_embeddings:
            if emb is None:
                raise ValueError(f"the {self.name} model needs sentence embeddings")
            logits = logits + np.asarray(emb, dtype=np.float64) @ self._emb64_t
        return logits

    def _probs_log_odds(
        self, x: sp.csr_matrix, emb: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        logits = self._logits(x, emb)
        probs = _softmax(logits)
        z = _logsumexp(logits[:, self._viol]) - _logsumexp(logits[:, ~self._viol])
        return probs, z

    def _scores(
        self, x: sp.csr_matrix, emb: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        probs, z = self._probs_log_odds(x, emb)
        a, b = self.calibration
        return probs, sigmoid(a * z + b)

    def scores_from_counts(
        self, counts: sp.csr_matrix, emb: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(class probabilities, calibrated violating score) of hashed counts (+ embeddings)."""
        return self._scores(self.features.transform_counts(counts), emb)

    def probs_log_odds_from_counts(
        self, counts: sp.csr_matrix, emb: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(class probabilities, uncalibrated violating log-odds z -- what Platt scaling maps)."""
        return self._probs_log_odds(self.features.transform_counts(counts), emb)

    def predict(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(class probabilities, calibrated scores) of ``texts``, without explanations."""
        return self._predict_cleaned([clean_text(t) for t in texts])

    def _predict_cleaned(self, cleaned: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        x = self.features.transform(cleaned, cleaned=True)
        return self._scores(x, self.embed(cleaned))

    def decide(self, probs: np.ndarray, scores: np.ndarray,
               assessed: np.ndarray | None = None) -> tuple[list[str], np.ndarray]:
        """(label, violating) of each row: the best label on the side the score falls;
        rows not ``assessed`` (too few words, see :func:`assessable`) are never violating."""
        violating = np.asarray(scores) >= self.threshold
        if assessed is not None:
            violating &= np.asarray(assessed, dtype=bool)
        masked = np.where(self._viol[None, :] == violating[:, None], probs, -1.0)
        best = masked.argmax(axis=1)
        return [self.classes[int(i)] for i in best], violating

    def classify_batch(self, texts: Sequence[str]) -> list[ClassifierResult]:
        """Labels and scores without explanations (about twice as fast)."""
        texts = list(texts)
        if not texts:
            return []
        cleaned = [clean_text(t) for t in texts]
        probs, scores = self._predict_cleaned(cleaned)
        assessed = assessable(cleaned)
        labels, violating = self.decide(probs, scores, assessed)
        return [ClassifierResult(label=labels[i], score=float(scores[i]),
                                 violating=bool(violating[i]), model=self.model_id,
                                 assessed=bool(assessed[i]))
                for i in range(len(texts))]

    def classify(self, texts: Sequence[str]) -> list[ClassifierResult]:
        texts = list(texts)
        if not texts:
            return []
        cleaned = [clean_text(t) for t in texts]
        grams = self.features.analyze(cleaned)
        x = self.features.transform_counts(self.features.counts_from_ngrams(grams))
        emb = self.embed(cleaned)
        probs, scores = self._scores(x, emb)
        assessed = assessable(cleaned)
        labels, violating = self.decide(probs, scores, assessed)
        explanations = self._explain(x, emb, probs, grams)
        out = []
        for i in range(len(texts)):
            explanation = explanations[i]
            explanation["probabilities"] = {
                c: round(float(probs[i, k]), 4) for k, c in enumerate(self.classes)
            }
            if not assessed[i]:
                explanation["not_assessed"] = (
                    f"fewer than {MIN_ASSESSABLE_WORDS} words once links, mentions, hashtag "
                    "signs and formulas (greetings, thanks, blessings) are removed: scored, "
                    "never flagged")
            out.append(
                ClassifierResult(
                    label=labels[i],
                    score=float(scores[i]),
                    violating=bool(violating[i]),
                    model=self.model_id,
                    explanation=explanation,
                    assessed=bool(assessed[i]),
                )
            )
        return out

    def _explain(
        self, x: sp.csr_matrix, emb: np.ndarray | None, probs: np.ndarray,
        grams: Sequence[Sequence[str]],
    ) -> list[dict[str, Any]]:
        """The n-grams that pushed the calibrated violating log-odds up and down the most.

        For z = logsumexp(violating logits) - logsumexp(other logits),
        dz/dx_j = sum_k p_k w_kj over violating k (p = softmax within the violating
        labels) minus the same over the other labels, so a * x_j * dz/dx_j is
        column j's push on the calibrated log-odds. Hashing loses the n-gram, so
        the text's own char n-grams are re-extracted and hashed to name the
        chosen columns (n-grams that collide into one column are joined with
        " | "). For ``hybrid`` the embedding's whole push is one more feature,
        ``[sentence embedding]``, in the list where its sign puts it.
        """
        viol, other = self._viol, ~self._viol
        pv = probs[:, viol] / np.maximum(probs[:, viol].sum(axis=1, keepdims=True), 1e-300)
        po = probs[:, other] / np.maximum(probs[:, other].sum(axis=1, keepdims=True), 1e-300)
        rows = np.repeat(np.arange(x.shape[0]), np.diff(x.indptr))
        weights = self._coef64_t[x.indices]  # (nnz, n_labels)
        grad = np.einsum("ij,ij->i", weights[:, viol], pv[rows]) - np.einsum(
            "ij,ij->i", weights[:, other], po[rows])
        a = self.calibration[0]
        push = x.data * grad * a
        emb_push = np.zeros(x.shape[0])
        if emb is not None and self.uses_embeddings:
            ew = np.asarray(emb, dtype=np.float64) @ self._emb64_t  # (n, labels)
            emb_push = a * (np.einsum("ij,ij->i", ew[:, viol], pv)
                            - np.einsum("ij,ij->i", ew[:, other], po))
        wanted: list[dict[int, float]] = []
        for i in range(x.shape[0]):
            lo, hi = x.indptr[i], x.indptr[i + 1]
            row_push = push[lo:hi]
            pos = np.flatnonzero(row_push > 0)
            neg = np.flatnonzero(row_push < 0)
            top = pos[np.argsort(-row_push[pos], kind="stable")[:TOP_FEATURES]]
            down = neg[np.argsort(row_push[neg], kind="stable")[:DOWN_FEATURES]]
            wanted.append({int(x.indices[lo + t]): float(row_push[t]) for t in [*top, *down]})
        names = self._name_columns(grams, wanted)
        out: list[dict[str, Any]] = []
        for i, row_wanted in enumerate(wanted):
            items: list[list[Any]] = [[" | ".join(names[i].get(col, ["?"])), round(w, 4)]
                                      for col, w in row_wanted.items()]
            if self.uses_embeddings:
                items.append(["[sentence embedding]", round(float(emb_push[i]), 4)])
            up = sorted((it for it in items if it[1] > 0), key=lambda it: -it[1])[:TOP_FEATURES]
            down_items = sorted((it for it in items if it[1] < 0),
                                key=lambda it: it[1])[:DOWN_FEATURES]
            out.append({"top_features": up, "down_features": down_items})
        return out

    def _name_columns(
        self, grams: Sequence[Sequence[str]], wanted: Sequence[dict[int, float]]
    ) -> list[dict[int, list[str]]]:
        # Hash each n-gram not yet in the (bounded) cache once.
        cache = self._gram_columns
        if len(cache) > _GRAM_CACHE_SIZE:
            cache.clear()
        unseen = list(
            dict.fromkeys(
                g
                for row, want in zip(grams, wanted, strict=True)
                if want
                for g in row
                if g not in cache
            )
        )
        cache.update(zip(unseen, self.features.kept_index(unseen).tolist(), strict=True))
        out: list[dict[int, list[str]]] = []
        for row_grams, row_wanted in zip(grams, wanted, strict=True):
            names: dict[int, list[str]] = {}
            if row_wanted:
                for gram in dict.fromkeys(row_grams):
                    col = cache.get(gram)
                    if col is None:  # evicted by a concurrent clear(); rare
                        col = int(self.features.kept_index([gram])[0])
                    if col in row_wanted:
                        names.setdefault(col, []).append(display_gram(gram))
            out.append(names)
        return out


class HybridClassifier(BaselineClassifier):
    """Char n-grams plus a multilingual sentence embedding, one logistic regression."""

    name: ClassVar[str] = "hybrid"
    uses_embeddings: ClassVar[bool] = True


_RESERVED_KEYS = frozenset(
    {
        "format_version",
        "classifier",
        "model",
        "labels",
        "violating_labels",
        "vectorizer",
        "calibration",
        "threshold",
        "embeddings",
        "npz",
        "npz_sha256",
    }
)
