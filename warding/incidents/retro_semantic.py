"""Retroactive ``text_semantic`` matching: stored posts against bank texts that arrived later.

The changed entries' sentence vectors (``semantic_bank_texts``) form a small matrix; the
window's item texts are embedded in pages (their vectors kept in ``retro_item_vectors``,
so a later run embeds only items it has not seen) and compared with one matrix product
per page. The texts read from the items' images (``image_texts``, issue 21) are compared
too, as the live scan compares them; they are few and embedded on each run. A match is
reported when the cosine similarity reaches the bank's ``text_semantic`` threshold, with
``distance = 1 - similarity`` as live matches do; an item matched by its own text and by an
image's text for the same entry gets one match, the closer one (``origin: "ocr"`` when it is
the image's).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import Connection, Engine, delete, insert, select

from warding.db.models import ContentItem
from warding.db.models_incidents import RetroItemVector
from warding.db.models_ocr import ImageTextRow
from warding.incidents.retro import SEMANTIC, Entries, Hit
from warding.matching.semantic import bank_threshold
from warding.ocr.items import ORIGIN as OCR

PAGE = 2_000


def _entry_matrix(conn: Connection, entries: Entries, model: str) -> tuple[np.ndarray, list[int]]:
    from warding.db.models_semantic import SemanticBankText
    from warding.signals.embedding import get_embedder

    ids: list[int] = []
    rows: list[np.ndarray] = []
    stale: list[int] = []
    for eid, vec, vec_model in entries.semantic:
        if vec_model == model:
            ids.append(eid)
            rows.append(np.frombuffer(vec, dtype=np.float32))
        else:
            stale.append(eid)
    if stale:  # made by another model: embed the bank text again (as the live index does)
        texts = dict(conn.execute(select(SemanticBankText.entry_id, SemanticBankText.text)
                                  .where(SemanticBankText.entry_id.in_(stale))).all())
        todo = [e for e in stale if texts.get(e)]
        if todo:
            for eid, vec in zip(todo, get_embedder().encode([texts[e] for e in todo]),
                                strict=True):
                ids.append(eid)
                rows.append(np.asarray(vec, dtype=np.float32))
    if not rows:
        return np.zeros((0, 0), np.float32), []
    return np.vstack(rows).astype(np.float32), ids


def match_semantic(sa_engine: Engine, entries: Entries, since: datetime, default_threshold: float,
                   progress: Callable[[int], None] | None = None) -> tuple[list[Hit], int]:
    """(hits, item texts compared) of the entries' texts among the window's posts."""
    from warding.signals.embedding import get_embedder

    if not entries.semantic:
        return [], 0
    embedder = get_embedder()
    with sa_engine.connect() as conn:
        matrix, ids = _entry_matrix(conn, entries, embedder.name)
    if not ids:
        return [], 0
    threshold = bank_threshold(entries.thresholds, default_threshold)
    best: dict[tuple[int, int], Hit] = {}
    read = 0
    last = 0
    while True:
        with sa_engine.connect() as conn:
            rows = conn.execute(
                select(ContentItem.id, ContentItem.title, ContentItem.text)
                .where(ContentItem.id > last, ContentItem.ingested_at >= since)
                .order_by(ContentItem.id).limit(PAGE)).all()
            images = _image_texts(conn, int(rows[0][0]), int(rows[-1][0]), since) if rows else []
        if not rows:
            break
        last = int(rows[-1][0])
        texts = [(int(r[0]), "\n".join(p for p in (r[1], r[2]) if p)) for r in rows]
        texts = [(i, t) for i, t in texts if t.strip()]
        if texts:
            with sa_engine.begin() as conn:  # a short write: the vectors embedded now
                vectors = _vectors(conn, texts, embedder)
            _compare(vectors, [i for i, _ in texts], matrix, ids, threshold, embedder.name,
                     None, best)
        if images:
            vectors = np.asarray(embedder.encode([t for _, t in images]), dtype=np.float32)
            _compare(vectors, [i for i, _ in images], matrix, ids, threshold, embedder.name,
                     OCR, best)
        read += len(texts) + len(images)
        if progress is not None:
            progress(read)
        if len(rows) < PAGE:
            break
    return list(best.values()), read


def _image_texts(conn: Connection, first: int, last: int, since: datetime
                 ) -> list[tuple[int, str]]:
    """(item id, text) of the texts read from the images of the items ``first``..``last``
    of the window."""
    rows = conn.execute(
        select(ImageTextRow.item_id, ImageTextRow.text)
        .join(ContentItem, ContentItem.id == ImageTextRow.item_id)
        .where(ImageTextRow.item_id >= first, ImageTextRow.item_id <= last,
               ContentItem.ingested_at >= since, ImageTextRow.text != "")
        .order_by(ImageTextRow.item_id, ImageTextRow.position, ImageTextRow.part)).all()
    return [(int(i), str(t)) for i, t in rows if str(t).strip()]


def _compare(vectors: np.ndarray, items: list[int], matrix: np.ndarray, ids: list[int],
             threshold: float, model: str, origin: str | None,
             best: dict[tuple[int, int], Hit]) -> None:
    """Hits of the texts' ``vectors`` (one row per entry of ``items``) against the entries'
    ``matrix``, kept in ``best`` per (item, entry): the most similar."""
    sims = vectors @ matrix.T
    for row, col in zip(*np.nonzero(sims >= threshold), strict=True):
        sim = round(min(float(sims[row, col]), 1.0), 4)
        key = (items[row], ids[col])
        if key not in best or (best[key].similarity or 0.0) < sim:
            best[key] = Hit(items[row], ids[col], SEMANTIC, model, "", round(1.0 - sim, 4),
                            similarity=sim, origin=origin)


def _vectors(conn: Connection, texts: list[tuple[int, str]], embedder: Any) -> np.ndarray:
    """Unit vectors of the texts, from ``retro_item_vectors`` or embedded (and kept) now."""
    ids = [i for i, _ in texts]
    known = {int(i): np.frombuffer(v, dtype=np.float32) for i, v in conn.execute(
        select(RetroItemVector.item_id, RetroItemVector.vector)
        .where(RetroItemVector.item_id.in_(ids), RetroItemVector.model == embedder.name))}
    todo = [(i, t) for i, t in texts if i not in known]
    if todo:
        fresh = embedder.encode([t for _, t in todo])
        stale = [i for i, _ in todo]
        conn.execute(delete(RetroItemVector).where(RetroItemVector.item_id.in_(stale)))
        conn.execute(insert(RetroItemVector), [
            {"item_id": i, "model": embedder.name,
             "vector": np.asarray(v, dtype=np.float32).tobytes()}
            for (i, _), v in zip(todo, fresh, strict=True)])
        for (i, _), v in zip(todo, fresh, strict=True):
            known[i] = np.asarray(v, dtype=np.float32)
    return np.vstack([known[i] for i in ids]).astype(np.float32)


def keep_scan_vectors(session: Any, app: Any, stored: list[tuple[int, Any]]) -> None:
    """Keep the vectors a scan computed for semantic matching, [(item id, vector or None)],
    so that a later retroactive run does not embed those items again
    (``WARDING_RETRO_KEEP_VECTORS``)."""
    if not app.settings.retro_keep_vectors:
        return
    rows = [(item_id, vec) for item_id, vec in stored if vec is not None]
    if not rows:
        return
    from warding.signals.embedding import get_embedder

    model = get_embedder().name
    session.execute(insert(RetroItemVector), [
        {"item_id": item_id, "model": model, "vector": np.asarray(vec, np.float32).tobytes()}
        for item_id, vec in rows])
