"""Text in an item's images, for the pipeline (scans and ``POST /api/items``), ``bank add``
and ``warding hash``: read each image, turn the text into text signals with origin ``ocr``,
and keep what was read (``image_texts``) with the classifier's score of it.

OCR never refuses an item: an image it cannot read keeps its hashes, and the row says why.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from warding.ocr import inside
from warding.ocr.model import ImageText, OcrError, OcrUnavailable
from warding.signals import compute
from warding.signals.base import SignalType

ORIGIN = "ocr"
"""The origin of every signal computed from text read in an image."""

log = logging.getLogger(__name__)


@dataclass
class ImageRead:
    """What reading one image of an item gave."""

    position: int
    name: str
    sha256: str
    text: ImageText | None = None
    error: str | None = None
    score: Any = None  # a ClassifierResult of the text, once scored
    part: int = 0  # 0: the media file itself; 1, 2...: an image inside it (PDF page, frame)

    def row(self, item_id: int, now: Any) -> dict[str, Any]:
        t = self.text
        r = self.score
        return {"item_id": item_id, "position": self.position, "part": self.part,
                "sha256": self.sha256,
                "name": self.name, "text": t.text if t else "", "lang": t.lang if t else None,
                "script": t.script if t else "", "confidence": t.confidence if t else 0.0,
                "model": t.model if t else "", "error": self.error,
                "score": r.score if r is not None and r.assessed else None,
                "label": r.label if r is not None and r.assessed else None,
                "violating": r.violating if r is not None and r.assessed else None,
                "created_at": now}


def read_one(app: Any, data: bytes, mime: str) -> tuple[ImageText | None, str | None]:
    """(text read or None, error or None) of one file; nothing when OCR is off or the
    file is not an image."""
    reader = app.ocr
    if reader is None or not compute.is_image_mime(mime):
        return None, None
    try:
        return reader.read_bytes(data), None
    except OcrError as exc:
        return None, str(exc)
    except OcrUnavailable as exc:
        _warn_once(str(exc))
        return None, None


def read_media(app: Any, media: Sequence[tuple[int, str, str, bytes, str]],
               derived: Sequence[compute.MediaSignals], prefix: str) -> list[ImageRead]:
    """Reads of the images among ``media`` = (position, name, sha256, bytes, mime), and of
    the images inside them: a PDF's scanned pages (from ``derived``, what
    :func:`compute.for_media` found in each file, under origins starting with ``prefix``),
    a few frames of a video."""
    out: list[ImageRead] = []
    if app.ocr is None:
        return out
    for (position, name, sha256, data, mime), found in zip(media, derived, strict=True):
        if compute.is_video(mime, data):
            out += _inside(app, position, sha256, inside.video_frames(app, data, name))
            continue
        if found.images:
            out += _inside(app, position, sha256, inside.pdf_images(found, prefix))
            continue
        text, error = read_one(app, data, mime)
        if text is not None or error is not None:
            out.append(ImageRead(position, name, sha256, text, error))
    return out


def _inside(app: Any, position: int, sha256: str, images: list[tuple[str, Any]]
            ) -> list[ImageRead]:
    return [ImageRead(position, where, sha256, text, error, part=k)
            for k, (where, text, error) in enumerate(inside.read_all(app, images), 1)]


def signals(types: Mapping[str, SignalType], reads: Iterable[ImageRead]
            ) -> list[compute.SignalValue]:
    out: list[compute.SignalValue] = []
    for r in reads:
        if r.text is not None:
            out += compute.for_text(types, r.text.text, origin=ORIGIN)
    return out


def score(classifier: Any, reads: Sequence[ImageRead]) -> None:
    """The classifier's score of each image's text (apart from the item's own text)."""
    texted = [(r, r.text.text) for r in reads if r.text is not None]
    if texted:
        results = classifier.classify_batch([text for _, text in texted])
        for (r, _), result in zip(texted, results, strict=True):
            r.score = result


def reasons(reads: Sequence[ImageRead], policy: Any) -> list[dict[str, Any]]:
    """Classifier reasons of the image texts whose score opens a case (``origin: ocr``)."""
    from warding.cases.routing import reasons_for

    out: list[dict[str, Any]] = []
    for r in reads:
        if r.text is not None and r.score is not None:
            for reason in reasons_for([], r.score, policy, words=len(r.text.text.split())):
                out.append({**reason, "origin": ORIGIN, "image": r.name})
    return out


def semantic_keys(prepared: Sequence[Any]) -> dict[int, tuple[int, str]]:
    """Keys for the semantic matcher of every image text of a batch: {key: (the item's
    index in the batch, text)}; negative, so they never meet the items' own keys."""
    keys: dict[int, tuple[int, str]] = {}
    for p in prepared:
        for r in p.images:
            if r.text is not None:
                keys[-1 - len(keys)] = (p.index, r.text.text)
    return keys


def from_ocr(matches: Iterable[Any], values: Iterable[compute.SignalValue]) -> list[Any]:
    """The matches (MatchResult) whose query value is a signal of an image's text."""
    ocr = {(v.signal_type, v.value) for v in values if v.origin == ORIGIN}
    return [m for m in matches if (m.signal_type, m.query) in ocr]


def mark_origins(reasons: list[dict[str, Any]], ocr_matches: Iterable[Any]
                 ) -> list[dict[str, Any]]:
    """Bank-match reasons that image text matched say so (``"origin": "ocr"``), so the
    case view shows the text beside the image."""
    keys = {(m.bank, str(m.entry_id), m.signal_type) for m in ocr_matches}
    for reason in reasons:
        if reason.get("kind") == "bank_match" and (
                (reason.get("bank"), reason.get("entry_id"), reason.get("signal_type")) in keys):
            reason["origin"] = ORIGIN
    return reasons


_warned: set[str] = set()


def _warn_once(message: str) -> None:
    if message not in _warned:
        _warned.add(message)
        log.warning("text in images is not read: %s", message)
