"""Hash lists that platforms receive from others: python-threatexchange's signal formats and
Tech Against Terrorism's TCAP content hash list.

threatexchange (``threatexchange dataset``, HMA exports, the ``file`` exchange):

- ``TYPE VALUE`` lines (``dataset -P -S``), optionally followed by the collaboration in
  quotes and the opinion (``dataset -P``): ``pdq <hex> 'Collab name' POSITIVE_CLASS tag1,tag2``;
- CSV with the header ``signal_type,signal_str,collab,category,tags`` (``dataset -P --csv``).

Type names are threatexchange's: ``pdq``, ``video_md5`` and ``video_sha256`` (hashes of
the file bytes: Warding's ``md5`` and ``sha256``), ``url``, ``raw_text`` (the text is
fingerprinted as ``text`` and ``text_near``; the text itself is not stored). ``url_md5``,
``trend_query`` and the video hash ``tmk`` have no Warding equivalent and are
rejected by line. An opinion of ``NEGATIVE_CLASS`` (a known false positive) is imported
disabled: kept, never matched.

TCAP (Tech Against Terrorism's Terrorist Content Analytics Platform), hash list API v2: a
JSON page ``{"count", "next", "previous", "checkpoint", "results": [...]}``, a JSON list of
results, or JSON lines of results. A result is ``{"id", "hash_digest", "algorithm",
"ideology", "file_type", "deleted", "updated_on", "created_on"}``; ``algorithm`` is ``MD5``,
``SHA256``, ``SHA512``, ``PDQ`` or ``TMK`` (rejected: no TMK in Warding). ``deleted: true``
removes the hash from the bank. What could and could not be confirmed about this format is
in docs/formats.md.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from warding.banks.records import EntryRecord, FormatError, Removal

TE_ALIASES = {
    "video_md5": "md5",
    "photo_md5": "md5",
    "video_sha256": "sha256",
    "photo_sha256": "sha256",
    "pdq": "pdq",
    "md5": "md5",
    "sha256": "sha256",
    "sha512": "sha512",
    "url": "url",
    "vpdq": "vpdq",
}
TE_UNSUPPORTED = {"url_md5", "trend_query", "tmk", "video_tmk_pdqf"}
TE_TEXT = "raw_text"
TE_NEGATIVE = "NEGATIVE_CLASS"
TCAP_ALGORITHMS = {"MD5": "md5", "SHA256": "sha256", "SHA-256": "sha256", "SHA512": "sha512",
                   "SHA-512": "sha512", "PDQ": "pdq", "VPDQ": "vpdq"}

_TE_TAIL = re.compile(r"""^(?:'(?P<q1>(?:[^'\\]|\\.)*)'|"(?P<q2>(?:[^"\\]|\\.)*)")?\s*"""
                      r"""(?P<category>[A-Z][A-Z_]*)?\s*(?P<tags>\S+)?\s*$""")


def signal_type_for(name: str) -> str:
    """Warding's name for a threatexchange (or Warding) signal type name; ValueError if none."""
    low = name.strip().lower()
    if low in TE_ALIASES:
        return TE_ALIASES[low]
    if low in TE_UNSUPPORTED:
        raise ValueError(f"threatexchange signal type {low!r} has no Warding equivalent")
    return low  # a Warding type name (or unknown: the validator says so)


def te_metadata(collab: str, category: str, tags: str) -> tuple[dict[str, Any], str, bool]:
    """(labels, provenance, enabled) from threatexchange's collaboration and opinion."""
    labels: dict[str, Any] = {}
    if category:
        labels["te_opinion"] = category
    if tags:
        labels["te_tags"] = tags.replace(" ", ",")
    provenance = f"threatexchange:{collab}" if collab else "threatexchange"
    return labels, provenance, category != TE_NEGATIVE


def parse_te_tail(tail: str) -> tuple[str, str, str] | None:
    """(collab, category, tags) from the rest of a ``dataset -P`` line, or None."""
    m = _TE_TAIL.match(tail.strip())
    if not m:
        return None
    collab = m.group("q1") if m.group("q1") is not None else (m.group("q2") or "")
    return collab.replace("\\'", "'"), m.group("category") or "", m.group("tags") or ""


# -- TCAP -------------------------------------------------------------------------------
def read_tcap(lines: Iterable[str], name: str) -> Iterator[EntryRecord | Removal | FormatError]:
    """Records of a TCAP hash list file (a JSON page, a JSON list or JSON lines)."""
    text_iter = iter(lines)
    first_lines: list[str] = []
    for line in text_iter:
        first_lines.append(line)
        if line.strip():
            break
    head = "".join(first_lines).strip()
    try:
        first = json.loads(head) if head else None
        whole = not isinstance(first, dict) or "results" in first  # a page or a list
    except ValueError:
        first, whole = None, True  # pretty-printed JSON: read it all
    if whole:
        try:
            doc = first if first is not None else json.loads(head + "".join(text_iter))
        except ValueError as exc:
            yield FormatError(name, f"not valid JSON: {exc}")
            return
        results = doc.get("results") if isinstance(doc, dict) else doc
        if not isinstance(results, list):
            yield FormatError(name, "a TCAP hash list has a 'results' list (or is a JSON list)")
            return
        for i, item in enumerate(results):
            yield _tcap_record(item, f"{name}:results[{i}]")
        return
    for n, line in enumerate([*first_lines, *text_iter], 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError as exc:
            yield FormatError(f"{name}:{n}", f"invalid JSON: {exc}")
            continue
        yield _tcap_record(item, f"{name}:{n}")


def _tcap_record(item: Any, ref: str) -> EntryRecord | Removal | FormatError:
    if not isinstance(item, dict):
        return FormatError(ref, "a TCAP result must be a JSON object")
    digest = item.get("hash_digest")
    algorithm = str(item.get("algorithm") or "").strip().upper()
    if not isinstance(digest, str) or not digest.strip():
        return FormatError(ref, "missing 'hash_digest'")
    if algorithm not in TCAP_ALGORITHMS:
        known = ", ".join(sorted({"MD5", "SHA256", "SHA512", "PDQ", "VPDQ"}))
        return FormatError(ref, f"TCAP algorithm {algorithm or '(none)'!r} is not supported "
                                f"(supported: {known})")
    signal = (TCAP_ALGORITHMS[algorithm], digest.strip())
    if item.get("deleted") is True:
        return Removal([signal], ref)
    labels: dict[str, Any] = {"source": "tcap"}
    for key in ("ideology", "file_type"):
        if item.get(key):
            labels[key] = str(item[key])
    if item.get("id") is not None:
        labels["tcap_id"] = str(item["id"])
    provenance = "Tech Against Terrorism TCAP hash list"
    updated = item.get("updated_on")
    if isinstance(updated, int | float):
        when = datetime.fromtimestamp(float(updated), UTC).date().isoformat()
        provenance += f", updated {when}"
    return EntryRecord(signals=[signal], labels=labels, provenance=provenance, ref=ref)
