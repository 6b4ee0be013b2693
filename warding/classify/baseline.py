"""The baseline text classifier: char n-gram TF-IDF + multinomial logistic regression.

Three labels: ``terrorist_content`` (violating), ``reporting`` (journalism about
terrorism, never violating) and ``other``. ``score`` is P(terrorist_content)
after Platt scaling fitted on held-out training accounts (see
:mod:`warding.classify.training`); ``label`` is the most likely class of the
uncalibrated model, and a result is ``violating`` only when the label is
``terrorist_content`` *and* the score is at least 0.5.

The model lives in ``<models_dir>/baseline/``:

* ``model.npz`` -- numpy arrays only, read with ``allow_pickle=False``:
  ``columns`` (int32 hashed columns kept at training), ``idf`` (float32),
  ``coef`` (float32, labels x columns), ``intercept`` (float64),
  ``calibration`` (float64 ``[a, b]``: score = sigmoid(a * z + b), z the
  log-odds of terrorist_content) and ``vectorizer`` (int64 ``[ngram_min,
  ngram_max, n_features, preprocess_version]``). Written byte-for-byte
  deterministically (fixed zip timestamps).
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
from typing import Any

import numpy as np
import scipy.sparse as sp

from warding.classify.base import Classifier, ClassifierResult, ModelMissing
from warding.classify.data import LABELS, TERRORIST
from warding.classify.features import PREPROCESS_VERSION, TextFeatures, clean_text
from warding.errors import WardingError
from warding.fsutil import atomic_write

FORMAT_VERSION = 1
MODEL_SUBDIR = "baseline"
NPZ_NAME = "model.npz"
JSON_NAME = "model.json"
TOP_FEATURES = 5
_GRAM_CACHE_SIZE = 500_000
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


class ModelInvalid(WardingError):
    """A stored model exists but is corrupt, tampered with or of another format."""


def model_dir(models_dir: Path) -> Path:
    """Folder of the baseline model inside ``models_dir``."""
    return Path(models_dir) / MODEL_SUBDIR


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return np.asarray(0.5 * (1.0 + np.tanh(0.5 * x)))


def _logsumexp(x: np.ndarray) -> np.ndarray:
    m = x.max(axis=1, keepdims=True)
    return np.asarray((m + np.log(np.exp(x - m).sum(axis=1, keepdims=True)))[:, 0])


def npz_bytes(arrays: Mapping[str, np.ndarray]) -> bytes:
    """A valid ``.npz`` of ``arrays`` whose bytes depend only on the arrays."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name in sorted(arrays):
            member = io.BytesIO()
            np.lib.format.write_array(
                member, np.ascontiguousarray(arrays[name]), allow_pickle=False
            )
            info = zipfile.ZipInfo(name + ".npy", date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, member.getvalue(), compresslevel=6)
    return buf.getvalue()


class BaselineClassifier(Classifier):
    """Char n-gram logistic regression with a calibrated terrorist_content score."""

    name = "baseline"
    labels = LABELS
    violating_labels = frozenset({TERRORIST})

    def __init__(
        self,
        features: TextFeatures,
        coef: np.ndarray,
        intercept: np.ndarray,
        calibration: tuple[float, float],
        *,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        coef = np.asarray(coef, dtype=np.float32)
        intercept = np.asarray(intercept, dtype=np.float64)
        if coef.shape != (len(self.labels), features.n_columns):
            raise ValueError(f"coef shape {coef.shape} does not fit the features")
        if intercept.shape != (len(self.labels),):
            raise ValueError(f"intercept shape {intercept.shape} does not fit the labels")
        self.features = features
        self.coef = coef
        self.intercept = intercept
        self.calibration = (float(calibration[0]), float(calibration[1]))
        self.metadata: dict[str, Any] = dict(metadata or {})
        self._coef64_t = np.ascontiguousarray(coef.astype(np.float64).T)
        self._tc = self.labels.index(TERRORIST)
        self._others = [i for i in range(len(self.labels)) if i != self._tc]
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
            "columns": f.columns.astype(np.int32),
            "idf": f.idf.astype(np.float32),
            "coef": self.coef,
            "intercept": self.intercept,
            "calibration": np.array(self.calibration, dtype=np.float64),
            "vectorizer": np.array(
                [f.ngram_range[0], f.ngram_range[1], f.n_features, PREPROCESS_VERSION],
                dtype=np.int64,
            ),
        }

    # ---------------------------------------------------------------- storage

    def save(self, models_dir: Path, metadata: Mapping[str, Any] | None = None) -> Path:
        """Write ``model.npz`` and ``model.json`` atomically; return the npz path."""
        if metadata is not None:
            self.metadata = dict(metadata)
        target = model_dir(models_dir)
        doc = {
            "format_version": FORMAT_VERSION,
            "classifier": self.name,
            "model": self.model_id,
            "labels": list(self.labels),
            "violating_labels": sorted(self.violating_labels),
            "vectorizer": self.features.params(),
            "calibration": {
                "method": "platt",
                "formula": "score = sigmoid(a * z + b), z = log-odds of terrorist_content",
                "a": self.calibration[0],
                "b": self.calibration[1],
            },
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
        target = model_dir(models_dir)
        json_path, npz_path = target / JSON_NAME, target / NPZ_NAME
        if not json_path.is_file() or not npz_path.is_file():
            raise ModelMissing(f"no trained classifier in {target}; run `warding model train`")
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
        if doc.get("labels") != list(cls.labels):
            raise ModelInvalid(
                f"{json_path} lists labels {doc.get('labels')!r}, expected {list(cls.labels)}"
            )
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
            )
            cal = arrays["calibration"]
            meta = {k: v for k, v in doc.items() if k not in _RESERVED_KEYS}
            model = cls(
                features,
                arrays["coef"],
                arrays["intercept"],
                (float(cal[0]), float(cal[1])),
                metadata=meta,
            )
        except ModelInvalid:
            raise
        except (KeyError, IndexError, ValueError, OSError, zipfile.BadZipFile) as exc:
            raise ModelInvalid(f"{npz_path} is not a valid baseline model ({exc})") from exc
        if model.sha256 != digest:
            raise ModelInvalid(f"{npz_path} was not written by this Warding; retrain the model")
        return model

    # ---------------------------------------------------------------- scoring

    def scores_from_counts(self, counts: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
        """(class probabilities, calibrated terrorist_content score) of hashed counts."""
        return self._scores(self.features.transform_counts(counts))

    def log_odds_from_counts(self, counts: sp.csr_matrix) -> np.ndarray:
        """Uncalibrated log-odds z of terrorist_content (what Platt scaling maps)."""
        return self._probs_log_odds(self.features.transform_counts(counts))[1]

    def _probs_log_odds(self, x: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
        logits = np.asarray(x @ self._coef64_t) + self.intercept
        probs = np.exp(logits - _logsumexp(logits)[:, None])
        z = logits[:, self._tc] - _logsumexp(logits[:, self._others])
        return probs, z

    def _scores(self, x: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
        probs, z = self._probs_log_odds(x)
        a, b = self.calibration
        return probs, _sigmoid(a * z + b)

    def predict(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(class probabilities, calibrated scores) of ``texts``, without explanations."""
        return self._scores(self.features.transform(texts))

    def classify(self, texts: Sequence[str]) -> list[ClassifierResult]:
        texts = list(texts)
        if not texts:
            return []
        grams = self.features.analyze([clean_text(t) for t in texts])
        x = self.features.transform_counts(self.features.counts_from_ngrams(grams))
        probs, scores = self._scores(x)
        best = probs.argmax(axis=1)
        explanations = self._explain(x, probs, grams)
        out = []
        for i in range(len(texts)):
            label = self.labels[int(best[i])]
            score = float(scores[i])
            out.append(
                ClassifierResult(
                    label=label,
                    score=score,
                    violating=label in self.violating_labels and score >= 0.5,
                    model=self.model_id,
                    explanation={"top_features": explanations[i]},
                )
            )
        return out

    def _explain(
        self, x: sp.csr_matrix, probs: np.ndarray, grams: Sequence[Sequence[str]]
    ) -> list[list[list[Any]]]:
        """Top n-grams by their first-order push on the terrorist_content log-odds.

        For z = logit_tc - logsumexp(other logits), dz/dx_j = w_tc,j - sum_k q_k w_k,j
        (q = softmax over the other classes), so x_j * dz/dx_j * a is the column's
        push on the calibrated log-odds. Hashing loses the n-gram, so the text's own
        char n-grams are re-extracted and hashed to name the top columns (n-grams
        that collide into one column are joined with " | ").
        """
        others = probs[:, self._others]
        q = others / np.maximum(others.sum(axis=1, keepdims=True), 1e-300)
        rows = np.repeat(np.arange(x.shape[0]), np.diff(x.indptr))
        weights = self._coef64_t[x.indices]  # (nnz, n_labels)
        grad = weights[:, self._tc] - np.einsum("ij,ij->i", weights[:, self._others], q[rows])
        push = x.data * grad * self.calibration[0]
        wanted: list[dict[int, float]] = []
        for i in range(x.shape[0]):
            lo, hi = x.indptr[i], x.indptr[i + 1]
            row_push = push[lo:hi]
            pos = np.flatnonzero(row_push > 0)
            top = pos[np.argsort(-row_push[pos], kind="stable")[:TOP_FEATURES]]
            wanted.append({int(x.indices[lo + t]): float(row_push[t]) for t in top})
        # Name the chosen columns: hash each n-gram not yet in the (bounded) cache once.
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
        out: list[list[list[Any]]] = []
        for row_grams, row_wanted in zip(grams, wanted, strict=True):
            names: dict[int, list[str]] = {}
            if row_wanted:
                for gram in dict.fromkeys(row_grams):
                    col = cache.get(gram)
                    if col is None:  # evicted by a concurrent clear(); rare
                        col = int(self.features.kept_index([gram])[0])
                    if col in row_wanted:
                        names.setdefault(col, []).append(gram)
            out.append(
                [
                    [" | ".join(names.get(col, ["?"])), round(weight, 4)]
                    for col, weight in sorted(row_wanted.items(), key=lambda kv: -kv[1])
                ]
            )
        return out


_RESERVED_KEYS = frozenset(
    {
        "format_version",
        "classifier",
        "model",
        "labels",
        "violating_labels",
        "vectorizer",
        "calibration",
        "npz",
        "npz_sha256",
    }
)
