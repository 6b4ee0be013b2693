"""Cross-lingual semantic matching: bank texts also match their translations and paraphrases.

Hash signals (``text``, ``text_near``) catch copies; a translation of a known
text shares none of its words. Every bank entry added *with a text* (``warding
bank add --text``, ``POST /api/banks/{name}/entries`` with ``text``, and the
add-to-bank action on a decided item) also gets a sentence embedding
(:mod:`warding.signals.embedding`, multilingual USE v3) stored in
``semantic_bank_texts``. A query text is embedded the same way and compared
with every stored vector of the enabled banks (exact inner product over unit
vectors = cosine similarity, ``faiss.IndexFlatIP``).

A match of signal type ``text_semantic`` is reported when the cosine
similarity is at least the bank's threshold: ``thresholds["text_semantic"]``
of the bank (a float in (0, 1]) or else ``WARDING_SEMANTIC_THRESHOLD``. The
match's ``distance`` is ``1 - similarity`` (rounded to 4 places), so that, as
for the Hamming signals, smaller is closer; ``similarity`` is reported too.

Cost: nothing is embedded unless some enabled bank holds a text vector. A scan
embeds and searches each batch of items at once, with one matrix product per
batch (:data:`BLAS_MIN_QUERIES`); a single query searches with one OpenMP thread
(on the shared 2-core machine two threads spin against other processes and were
several times slower). Lookups/s of both paths, against numpy, are in
docs/benchmarks.md (``make bench-detection``). The index is cached on
the app and rebuilt when a bank, its texts or the enabled state of an entry change
(like :func:`warding.matching.service.get_engine`). Stored vectors made by another
embedding model are re-computed from their text when the index is built.

Measured quality of the default threshold (translation recall, false matches
among unrelated pairs, all six languages) is in docs/model-card.md.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from warding.db.models import Bank, BankEntry, BankSignal
from warding.db.models_matching import MatchChange
from warding.db.models_semantic import SemanticBankText
from warding.errors import InvalidInput
from warding.matching.service import MatchResult
from warding.signals.text import TextSignal

SIGNAL_TYPE = "text_semantic"
#: How many closest known items an explanation lists.
NEAREST_K = 3
#: Batches of at least this many query vectors are searched with one matrix product.
BLAS_MIN_QUERIES = 4
_CACHE_KEY = "semantic_index"


@dataclass(frozen=True)
class SemanticMatch(MatchResult):
    """A ``text_semantic`` match; ``distance`` = 1 - ``similarity``."""

    similarity: float = 0.0

    def as_json(self) -> dict[str, Any]:
        out = super().as_json()
        out["similarity"] = self.similarity
        return out


def bank_threshold(thresholds: dict[str, Any] | None, default: float) -> float:
    """The bank's ``text_semantic`` threshold, or ``default``."""
    raw = (thresholds or {}).get(SIGNAL_TYPE, default)
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return default
    return value if 0.0 < value <= 1.0 else default


def check_threshold(value: float) -> float:
    """Validate a ``text_semantic`` threshold given by a user."""
    if not 0.0 < float(value) <= 1.0:
        raise InvalidInput(f"{SIGNAL_TYPE} threshold must be a cosine similarity in (0, 1], "
                           f"got {value}")
    return float(value)


_faiss_configured: set[int] = set()
_faiss_lock = threading.Lock()


def configure_faiss(faiss: Any, dims: int) -> None:
    """faiss's process-wide settings, set once (issue 22: not on each call from web threads):

    - a batch is computed with one matrix product (BLAS) only above a size (faiss 1.15:
      128,000 = 250 queries of 512 dimensions); below it, query by query, which made a scan
      batch of 200 texts 11 times slower (see docs/benchmarks.md): the threshold is lowered
      to :data:`BLAS_MIN_QUERIES` queries;
    - one OpenMP thread: a single query was several times slower with two threads spinning
      against other processes on the shared 2-core machine, and a batch's matrix product
      runs in BLAS's own threads."""
    if dims in _faiss_configured:
        return
    with _faiss_lock:
        if dims not in _faiss_configured:
            faiss.cvar.distance_compute_blas_threshold = BLAS_MIN_QUERIES * dims
            faiss.omp_set_num_threads(1)
            _faiss_configured.add(dims)


@dataclass
class SemanticIndex:
    """Vectors of the enabled banks' texts, with what each row refers to."""

    token: tuple[Any, ...]
    model: str
    default_threshold: float
    rows: list[tuple[int, int]] = field(default_factory=list)  # row -> (bank_id, entry_id)
    banks: dict[int, tuple[str, float]] = field(default_factory=dict)  # id -> (name, threshold)
    entries: dict[int, tuple[dict[str, Any], str]] = field(default_factory=dict)
    _faiss: Any = None

    def __len__(self) -> int:
        return len(self.rows)

    def index_vectors(self, vectors: np.ndarray) -> None:
        """Index ``vectors`` (unit rows, row ``i`` for ``self.rows[i]``) for exact
        inner-product search."""
        import faiss

        flat = faiss.IndexFlatIP(vectors.shape[1])
        if len(vectors):
            flat.add(np.ascontiguousarray(vectors, dtype=np.float32))
        self._faiss = flat

    def search(self, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(similarities, row indexes) of the ``k`` closest rows of each vector (-1: none)."""
        import faiss

        k = max(1, min(k, len(self.rows)))
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        configure_faiss(faiss, vectors.shape[1])
        return self._faiss.search(vectors, k)  # type: ignore[no-any-return]

    def _candidates(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        if not self.rows or not np.any(vector):
            return []
        sims, idx = self.search(vector[None, :], k)
        return [(int(i), float(s)) for s, i in zip(sims[0], idx[0], strict=True) if i >= 0]

    def first_k(self) -> int:
        return min(len(self.rows), 64)

    def complete(self, found: Sequence[tuple[int, float]], k: int) -> bool:
        """Whether ``found`` (the ``k`` best, best first) holds every row above the lowest
        bank threshold."""
        lowest = min((t for _, t in self.banks.values()), default=self.default_threshold)
        return len(found) < k or not found or found[-1][1] < lowest or k >= len(self.rows)

    def matches(self, vector: np.ndarray, *, query: str = "",
                found: Sequence[tuple[int, float]] | None = None) -> list[SemanticMatch]:
        """One match per bank entry whose similarity reaches its bank's threshold, closest
        first. ``found``: the :meth:`first_k` best rows, when already searched in a batch."""
        k = self.first_k()
        if found is None or not self.complete(found, k):
            found = self._candidates(vector, k)
        while not self.complete(found, k):
            k = min(len(self.rows), k * 4)  # everything within the threshold, however many
            found = self._candidates(vector, k)
        best: dict[tuple[int, int], SemanticMatch] = {}
        for row, sim in found:
            bank_id, entry_id = self.rows[row]
            name, threshold = self.banks[bank_id]
            if sim < threshold:
                continue
            labels, provenance = self.entries[entry_id]
            sim = round(min(sim, 1.0), 4)
            match = SemanticMatch(
                bank=name, bank_id=bank_id, entry_id=entry_id, signal_type=SIGNAL_TYPE,
                value=self.model, query=query, distance=round(1.0 - sim, 4),  # type: ignore[arg-type]
                labels=labels, provenance=provenance, similarity=sim,
            )
            key = (bank_id, entry_id)
            if key not in best or best[key].similarity < sim:
                best[key] = match
        return sorted(best.values(), key=lambda m: (-m.similarity, m.bank, m.entry_id))

    def nearest(self, vector: np.ndarray, k: int = NEAREST_K,
                found: Sequence[tuple[int, float]] | None = None) -> list[dict[str, Any]]:
        """The ``k`` closest bank texts, whatever their similarity (for explanations)."""
        out = []
        rows = list(found[:k]) if found is not None else self._candidates(vector, k)
        for row, sim in rows:
            bank_id, entry_id = self.rows[row]
            name, threshold = self.banks[bank_id]
            labels, provenance = self.entries[entry_id]
            out.append({"kind": "bank_entry", "bank": name, "entry_id": str(entry_id),
                        "similarity": round(min(sim, 1.0), 4), "threshold": threshold,
                        "matched": sim >= threshold, "labels": labels,
                        "provenance": provenance})
        return out


def _state_token(session: Session) -> tuple[Any, ...]:
    """Changes when the index must be rebuilt: a text vector added or removed, or anything
    that changes what can match -- a bank created, changed or deleted, an entry added,
    enabled, disabled or removed (an appeal reversing a decision whose item was added to a
    bank, for one). Each of those writes a change-feed row, as the match engines rely on."""
    texts = session.execute(
        select(func.count(SemanticBankText.id), func.max(SemanticBankText.id))).one()
    changes = session.execute(select(func.max(MatchChange.id))).scalar()
    return (tuple(texts), changes)


def _has_vectors(session: Session) -> bool:
    return session.execute(select(SemanticBankText.id).limit(1)).first() is not None


def build_index(session: Session, default_threshold: float) -> SemanticIndex:
    """Load the vectors of enabled banks and entries (re-embedding any made by another model)."""
    from warding.signals.embedding import get_embedder

    embedder = get_embedder()
    index = SemanticIndex(token=_state_token(session), model=embedder.name,
                          default_threshold=default_threshold)
    for bank in session.execute(select(Bank).where(Bank.enabled.is_(True))).scalars():
        index.banks[bank.id] = (bank.name, bank_threshold(bank.thresholds, default_threshold))
    rows = session.execute(
        select(SemanticBankText, BankEntry.labels, BankEntry.provenance)
        .join(BankEntry, SemanticBankText.entry_id == BankEntry.id)
        .where(BankEntry.enabled.is_(True), SemanticBankText.bank_id.in_(list(index.banks)))
        .order_by(SemanticBankText.id)
    ).all()
    stale = [r for r, _, _ in rows if r.model != embedder.name or r.dim != embedder.dim]
    if stale:
        fresh = embedder.encode([r.text for r in stale])
        for rec, vec in zip(stale, fresh, strict=True):
            rec.model, rec.dim, rec.vector = embedder.name, embedder.dim, vec.tobytes()
        session.flush()
    vectors = np.zeros((len(rows), embedder.dim), dtype=np.float32)
    for i, (rec, labels, provenance) in enumerate(rows):
        vectors[i] = np.frombuffer(rec.vector, dtype=np.float32)
        index.rows.append((rec.bank_id, rec.entry_id))
        index.entries[rec.entry_id] = (dict(labels or {}), provenance or "")
    index.index_vectors(vectors)
    if stale:
        index.token = _state_token(session)
    return index


def get_index(app: Any, session: Session) -> SemanticIndex | None:
    """The cached index, rebuilt when banks changed; None when no bank holds a text vector."""
    if not app.settings.semantic_matching or not _has_vectors(session):
        return None
    token = _state_token(session)
    cached: SemanticIndex | None = app.index_cache.get(_CACHE_KEY)
    if cached is None or cached.token != token:
        cached = build_index(session, app.settings.semantic_threshold)
        app.index_cache[_CACHE_KEY] = cached
    return cached if len(cached) else None


def embed(texts: Sequence[str]) -> np.ndarray:
    from warding.signals.embedding import get_embedder

    return get_embedder().encode(texts)


def match_text(app: Any, session: Session, text: str) -> list[SemanticMatch]:
    """``text_semantic`` matches of ``text`` in the enabled banks (empty when none hold texts)."""
    index = get_index(app, session)
    if index is None or not text.strip():
        return []
    return index.matches(embed([text])[0])


def with_nearest_known(app: Any, session: Session, text: str, result: Any) -> Any:
    """``result`` (a ClassifierResult) with the closest known bank texts of ``text`` added
    to its explanation, when some enabled bank holds text vectors."""
    index = get_index(app, session)
    if index is None or not text.strip():
        return result
    explanation = dict(result.explanation)
    explanation["nearest_known"] = index.nearest(embed([text])[0])
    return replace(result, explanation=explanation)


def add_bank_text(app: Any, session: Session, bank: Bank, text: str) -> int | None:
    """Store the embedding of ``text`` for the bank entry whose ``text`` signal it has.

    Call after the entry was added (``add_records``). Returns the entry id, or
    None when the bank has no entry for this text, when semantic matching is
    off, or when the entry already has a vector.
    """
    if not app.settings.semantic_matching:
        return None
    value = TextSignal().compute(text)
    if value is None:
        return None
    entry_id = session.execute(
        select(BankEntry.id).join(BankSignal, BankSignal.entry_id == BankEntry.id)
        .where(BankEntry.bank_id == bank.id, BankSignal.signal_type == TextSignal.name,
               BankSignal.value == value).order_by(BankEntry.id).limit(1)
    ).scalar_one_or_none()
    if entry_id is None:
        return None
    exists = session.execute(
        select(SemanticBankText.id).where(SemanticBankText.entry_id == entry_id)).first()
    if exists:
        return None
    from warding.signals.embedding import get_embedder

    embedder = get_embedder()
    vector = embedder.encode([text])[0]
    if not np.any(vector):
        return None
    session.add(SemanticBankText(entry_id=entry_id, bank_id=bank.id, text=text,
                                 model=embedder.name, dim=embedder.dim, vector=vector.tobytes()))
    session.flush()
    return entry_id


@dataclass
class ScanSemantic:
    """Per-scan helper: embeds a batch's texts once, then matches and explains per item."""

    app: Any
    vectors: dict[int, np.ndarray] = field(default_factory=dict)
    found: dict[int, list[tuple[int, float]]] = field(default_factory=dict)
    index: SemanticIndex | None = None

    def prepare(self, keyed_texts: Sequence[tuple[int, str]]) -> None:
        """Embed the batch's texts (keyed by the caller) and search them all at once, if
        any bank holds text vectors."""
        self.vectors, self.found = {}, {}
        with self.app.transaction() as session:
            self.index = get_index(self.app, session)
        if self.index is None or not keyed_texts:
            return
        vecs = embed([t for _, t in keyed_texts])
        live = [i for i in range(len(vecs)) if np.any(vecs[i])]
        if not live:
            return
        sims, idx = self.index.search(vecs[live], self.index.first_k())
        for pos, i in enumerate(live):
            key = keyed_texts[i][0]
            self.vectors[key] = vecs[i]
            self.found[key] = [(int(r), float(s)) for s, r in zip(sims[pos], idx[pos],
                                                                    strict=True) if r >= 0]

    def matches(self, key: int) -> list[MatchResult]:
        vec = self.vectors.get(key)
        if vec is None or self.index is None:
            return []
        return list(self.index.matches(vec, found=self.found.get(key)))

    def explain(self, key: int, result: Any) -> Any:
        """``result`` (a ClassifierResult) with its closest known bank texts added."""
        vec = self.vectors.get(key)
        if result is None or vec is None or self.index is None:
            return result
        explanation = dict(result.explanation)
        explanation["nearest_known"] = self.index.nearest(vec, found=self.found.get(key))
        return replace(result, explanation=explanation)
