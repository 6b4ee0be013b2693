"""What the case view shows of an item's image texts: the text beside its (blurred) image,
the words that matched a bank text marked, and the classifier's score of the text."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from warding.db.models_ocr import ImageTextRow
from warding.ocr.items import ORIGIN

_TOKENS = re.compile(r"(\w+)", re.UNICODE)
_TEXT_TYPES = ("text", "text_near", "text_semantic")


def image_texts(session: Session, item_id: int, reasons: Sequence[dict[str, Any]]
                ) -> dict[int, list[dict[str, Any]]]:
    """{media position: what to show, for the file itself and the images inside it} of the
    item's images whose text was read (or not)."""
    rows = session.execute(select(ImageTextRow).where(ImageTextRow.item_id == item_id)
                           .order_by(ImageTextRow.position, ImageTextRow.part)).scalars().all()
    if not rows:
        return {}
    matched = [r for r in reasons if r.get("kind") == "bank_match"
               and r.get("origin") == ORIGIN and r.get("signal_type") in _TEXT_TYPES]
    whole = any(r.get("signal_type") == "text" for r in matched)
    words = _bank_words(session, [int(r["entry_id"]) for r in matched])
    out: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        out.setdefault(row.position, []).append({
            "part": row.part, "name": row.name, "text": row.text, "lang": row.lang, "script": row.script,
            "confidence": row.confidence, "model": row.model, "error": row.error,
            "score": row.score, "label": row.label, "violating": row.violating,
            "matched": [{"signal_type": r["signal_type"], "bank": r.get("bank"),
                         "entry_id": r.get("entry_id")} for r in matched],
            "segments": segments(row.text, words, whole=whole and bool(row.text)),
            "rtl": row.script == "Arabic",
        })
    return out


def segments(text: str, words: set[str], *, whole: bool) -> list[dict[str, Any]]:
    """The text cut into pieces, ``mark`` set on the words a bank text shares (all of them
    for an exact ``text`` match)."""
    if whole:
        return [{"text": text, "mark": True}]
    out: list[dict[str, Any]] = []
    for piece in _TOKENS.split(text):
        if piece:
            out.append({"text": piece, "mark": piece.casefold() in words})
    return out


def _bank_words(session: Session, entry_ids: list[int]) -> set[str]:
    """Words of the matched entries' texts (kept for ``text_semantic``), case-folded."""
    if not entry_ids:
        return set()
    from warding.db.models_semantic import SemanticBankText

    texts = session.execute(select(SemanticBankText.text)
                            .where(SemanticBankText.entry_id.in_(entry_ids))).scalars()
    return {w.casefold() for t in texts for w in _TOKENS.findall(t) if len(w) > 1}
