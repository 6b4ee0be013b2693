"""Batch classification of JSON lines (``warding classify --jsonl FILE``).

Each input line is a JSON object with a string ``text`` (other fields are
ignored, except ``id``, which is copied to the output). Each input line gives
exactly one output object, in input order:

* ``{"line": n, "label": str, "score": float, "violating": bool, "model": str,
  "assessed": bool}`` (``assessed`` is false for texts too short to judge, never flagged)
  (plus ``"id"`` when the input had one), or
* ``{"line": n, "error": "line n: <reason>"}`` for a line that is not a JSON
  object with a string ``text``, is blank, or is over ``max_text_chars``.

A bad line never stops the batch. Texts are scored in chunks of :data:`CHUNK`
lines, which is what makes batch mode fast; explanations are left out.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from warding.classify.base import Classifier

CHUNK = 512


def _parse(n: int, line: str, max_chars: int) -> tuple[str, Any] | str:
    """(text, id) of one line, or the reason it is rejected."""
    if not line.strip():
        return "empty line"
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        return f"not valid JSON ({exc.msg} at column {exc.colno})"
    if not isinstance(obj, dict):
        return "not a JSON object"
    text = obj.get("text")
    if not isinstance(text, str):
        return "no string field 'text'"
    if len(text) > max_chars:
        return f"text is {len(text)} characters, over the {max_chars}-character limit (max_text_chars)"
    return text, obj.get("id")


def classify_lines(classifier: Classifier, lines: Iterable[str], *,
                   max_chars: int) -> Iterator[dict[str, Any]]:
    """One output object per input line, in order (see the module docstring)."""
    pending: list[tuple[int, str, Any]] = []
    out: list[tuple[int, dict[str, Any]]] = []

    def flush() -> Iterator[dict[str, Any]]:
        results = classifier.classify_batch([t for _, t, _ in pending]) if pending else []
        done = {n: r for (n, _, _), r in zip(pending, results, strict=True)}
        ids = {n: i for n, _, i in pending}
        for n, error in out:
            if error:
                yield error
                continue
            r = done[n]
            row: dict[str, Any] = {"line": n, "label": r.label, "score": round(r.score, 6),
                                   "violating": r.violating, "model": r.model,
                                   "assessed": r.assessed}
            if ids[n] is not None:
                row["id"] = ids[n]
            yield row
        pending.clear()
        out.clear()

    for n, line in enumerate(lines, 1):
        parsed = _parse(n, line, max_chars)
        if isinstance(parsed, str):
            out.append((n, {"line": n, "error": f"line {n}: {parsed}"}))
        else:
            pending.append((n, parsed[0], parsed[1]))
            out.append((n, {}))
        if len(pending) >= CHUNK:
            yield from flush()
    yield from flush()
