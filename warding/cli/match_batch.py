"""``warding match --hashes FILE``: look up many hashes at once, one JSON line per query.

Lines are ``TYPE VALUE`` (threatexchange's type names are accepted); blank lines and
``#`` comments are not queries. Queries are looked up in batches through the engine's
batched search, and answered in input order. A line that is not a valid query gets an
``error`` and no matches, and the rest go on.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import IO, Any

from warding.app import Warding
from warding.banks.sources import signal_type_for
from warding.matching.service import get_engine

BATCH = 10_000


def _queries(lines: Iterable[str], types: Any) -> Iterator[tuple[str, tuple[str, str] | None, str]]:
    """(line as given, (type, value) or None, error) per query line."""
    for line in lines:
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        parts = text.split()
        if len(parts) != 2:
            yield text, None, "expected 'TYPE VALUE'"
            continue
        try:
            kind = signal_type_for(parts[0])
            st = types.get(kind)
            if st is None:
                raise ValueError(f"unknown signal type {parts[0]!r} (known: {', '.join(sorted(types))})")
            yield text, (kind, st.validate(parts[1])), ""
        except ValueError as exc:
            yield text, None, str(exc)


def match_lines(app: Warding, lines: Iterable[str], out: IO[str], *, as_json: bool) -> tuple[int, int]:
    """Answer every query line on ``out``; returns (queries, queries with a match)."""
    total = matched = 0
    batch: list[tuple[str, tuple[str, str] | None, str]] = []

    def flush() -> None:
        nonlocal matched
        valid = [q for _, q, _ in batch if q is not None]
        with app.transaction() as session:
            results = iter(get_engine(app, session).lookup_many(valid)) if valid else iter(())
        for text, query, error in batch:
            found = next(results) if query is not None else []
            matched += bool(found)
            if as_json:
                row: dict[str, Any] = {"query": text, "matches": [
                    {"bank": r.bank, "entry_id": str(r.entry_id), "distance": r.distance,
                     "labels": r.labels, "provenance": r.provenance} for r in found]}
                if error:
                    row["error"] = error
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
            elif error:
                out.write(f"{text}\terror: {error}\n")
            else:
                hits = ", ".join(f"{r.bank}:{r.entry_id}:{r.distance}" for r in found)
                out.write(f"{text}\t{hits or 'no match'}\n")
        batch.clear()

    for item in _queries(lines, app.signal_types):
        batch.append(item)
        total += 1
        if len(batch) >= BATCH:
            flush()
    if batch:
        flush()
    out.flush()
    return total, matched
