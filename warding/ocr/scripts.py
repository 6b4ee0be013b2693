"""The writing system of a text, from its letters' Unicode blocks."""

from __future__ import annotations

import unicodedata
from collections import Counter

# Unicode character-name prefixes of the scripts Warding reads, and the Tesseract script
# model that reads each (tessdata ``script/<Name>.traineddata``, Debian
# ``tesseract-ocr-script-<code>``).
_PREFIXES = (("LATIN", "Latin"), ("ARABIC", "Arabic"), ("CYRILLIC", "Cyrillic"))


def script_of(text: str) -> str:
    """``Latin``, ``Arabic``, ``Cyrillic``, ``Other`` (letters of another script) or
    ``None``-like ``""`` when the text has no letters at all."""
    counts: Counter[str] = Counter()
    for ch in text:
        if not ch.isalpha():
            continue
        name = unicodedata.name(ch, "")
        for prefix, script in _PREFIXES:
            if name.startswith(prefix):
                counts[script] += 1
                break
        else:
            counts["Other"] += 1
    if not counts:
        return ""
    return counts.most_common(1)[0][0]


def letter_share(text: str) -> float:
    """Share of the non-space characters that are letters (OCR noise is mostly symbols)."""
    chars = [c for c in text if not c.isspace()]
    if not chars:
        return 0.0
    return sum(c.isalpha() for c in chars) / len(chars)
