"""Mark, in an item's text, what made Warding open the case.

- **Bank matches.** A link in the text whose canonical form is a bank's URL value is
  marked. Text matches (``text``, ``text_near`` and other text signals such as
  ``text_semantic``) compare the whole normalised text, and banks keep only
  fingerprints, never the known text itself, so the whole text counts as matched
  (``whole_text_match``; the console outlines the text) and a note says how (exact
  copy, near copy at distance d).
- **Classifier.** The top features of the explanation are character n-grams of the
  cleaned text (or, for other classifiers, words); each occurrence is marked,
  widened to the whole word so the reviewer reads words, not fragments. N-grams
  shorter than three letters are skipped: they would mark half the text.

The result is a list of segments ``{"text", "mark", "title"}`` that templates
render with autoescaping; nothing here produces HTML.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from warding.signals.normalize import trim_url
from warding.signals.url import canonical_url

MIN_TERM = 3
MAX_TERMS = 12
MAX_TEXT = 200_000
_URL_IN_TEXT = re.compile(r"(?i)(?<![\w@.])(?:[a-z][a-z0-9+.-]*://[^\s<>\"']+|www\.[^\s<>\"']+"
                          r"|(?:[a-z0-9-]+\.)+[a-z]{2,}/[^\s<>\"']*)")
_WORD_CHAR = re.compile(r"\w")
TEXT_SIGNALS = ("text", "text_near", "text_semantic")
PRIORITY = {"bank": 2, "classifier": 1}


def _features(explanation: object) -> list[tuple[str, float | None]]:
    if not isinstance(explanation, dict):
        return []
    out: list[tuple[str, float | None]] = []
    for key in ("top_features", "terms"):
        for feat in explanation.get(key) or []:
            if isinstance(feat, list | tuple) and feat and isinstance(feat[0], str):
                weight = feat[1] if len(feat) > 1 and isinstance(feat[1], int | float) else None
                out.append((feat[0], float(weight) if weight is not None else None))
            elif isinstance(feat, str):
                out.append((feat, None))
    return out


def classifier_terms(reasons: Sequence[dict[str, Any]],
                     classifications: Iterable[dict[str, Any]]) -> list[tuple[str, float | None]]:
    """Distinct feature strings (collisions "a | b" split), strongest first."""
    seen: dict[str, float | None] = {}
    sources = [r.get("explanation") for r in reasons if r.get("kind") == "classifier"]
    sources += [c.get("explanation") for c in classifications]
    for explanation in sources:
        for name, weight in _features(explanation):
            for part in name.split(" | "):
                term = part.strip()
                if len(term) >= MIN_TERM and term != "?" and term.lower() not in seen:
                    seen[term.lower()] = weight
    ranked = sorted(seen.items(), key=lambda kv: -(kv[1] or 0.0))
    return ranked[:MAX_TERMS]


def _widen(text: str, start: int, end: int) -> tuple[int, int]:
    while start > 0 and _WORD_CHAR.match(text[start - 1]) and _WORD_CHAR.match(text[start]):
        start -= 1
    while end < len(text) and _WORD_CHAR.match(text[end]) and _WORD_CHAR.match(text[end - 1]):
        end += 1
    return start, end


def highlight_text(text: str, reasons: Sequence[dict[str, Any]],
                   classifications: Iterable[dict[str, Any]] = (),
                   url_values: Iterable[str] = ()) -> dict[str, Any]:
    """Segments of ``text`` with marks, the terms that were looked for and notes."""
    text = text[:MAX_TEXT]
    marks: list[tuple[int, int, str, str]] = []
    notes: list[str] = []
    for r in reasons:
        if r.get("kind") in ("bank_match", "text_semantic") and \
                str(r.get("signal_type") or r.get("kind")) in TEXT_SIGNALS:
            how = "an exact copy of" if r.get("signal_type") == "text" else \
                f"a near copy (distance {r.get('distance')}) of"
            if r.get("kind") == "text_semantic" or r.get("signal_type") == "text_semantic":
                how = "close in meaning to"
            notes.append(f"The whole text is {how} known text in bank {r.get('bank', '?')}.")
    wanted_urls = set(url_values)
    url_reasons = {str(r.get("bank")) for r in reasons
                   if r.get("kind") == "bank_match" and r.get("signal_type") == "url"}
    if wanted_urls or url_reasons:
        for m in _URL_IN_TEXT.finditer(text):
            raw = trim_url(m.group(0))
            try:
                canon = canonical_url(raw)
            except ValueError:
                continue
            if canon in wanted_urls:
                marks.append((m.start(), m.start() + len(raw), "bank", "link known to a bank"))
    terms = classifier_terms(reasons, classifications)
    for term, weight in terms:
        title = f"classifier feature '{term}'" + (f" (+{weight:.3f})" if weight else "")
        for m in re.finditer(re.escape(term), text, flags=re.IGNORECASE):
            start, end = _widen(text, m.start(), m.end())
            marks.append((start, end, "classifier", title))
    segments = _segments(text, marks)
    return {
        "segments": segments,
        "terms": [{"term": t, "weight": w, "kind": "classifier"} for t, w in terms],
        "notes": list(dict.fromkeys(notes)),
        "whole_text_match": bool(notes),
        "marked": any(s["mark"] for s in segments),
        "bank_marked": any(s["mark"] == "bank" for s in segments),
        "classifier_marked": any(s["mark"] == "classifier" for s in segments),
    }


def _segments(text: str, marks: list[tuple[int, int, str, str]]) -> list[dict[str, Any]]:
    if not text:
        return []
    best: list[tuple[int, str, str] | None] = [None] * len(text)
    for start, end, kind, title in marks:
        rank = PRIORITY[kind]
        for i in range(max(0, start), min(len(text), end)):
            cur = best[i]
            if cur is None or cur[0] < rank:
                best[i] = (rank, kind, title)
    out: list[dict[str, Any]] = []
    run_start = 0
    for i in range(1, len(text) + 1):
        if i == len(text) or best[i] != best[run_start]:
            tag = best[run_start]
            out.append({"text": text[run_start:i], "mark": tag[1] if tag else None,
                        "title": tag[2] if tag else ""})
            run_start = i
    return out


def known_links(links: Iterable[object], url_values: Iterable[str]) -> list[str]:
    """The item's links whose canonical form a bank knows (marked in the link list)."""
    wanted = set(url_values)
    out = []
    for link in links:
        if not isinstance(link, str):
            continue
        try:
            if canonical_url(link) in wanted:
                out.append(link)
        except ValueError:
            continue
    return out
