"""Sections of docs/benchmarks.md owned by different benchmark scripts.

A script that owns a section writes it between ``<!-- NAME:start -->`` and
``<!-- NAME:end -->``; :func:`put_section` replaces that block (or appends it),
and :func:`keep_sections` carries every marked block over when another script
rewrites the whole file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

_BLOCK = re.compile(r"<!-- (?P<name>[\w-]+):start -->.*?<!-- (?P=name):end -->\n?", re.S)


def put_section(path: Path, name: str, body: str) -> None:
    block = f"<!-- {name}:start -->\n{body.rstrip()}\n<!-- {name}:end -->\n"
    old = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    pattern = re.compile(rf"<!-- {re.escape(name)}:start -->.*?<!-- {re.escape(name)}:end -->\n?",
                         re.S)
    new = pattern.sub(lambda _: block, old) if pattern.search(old) else \
        old.rstrip() + "\n\n" + block
    path.write_text(new, encoding="utf-8")


def keep_sections(path: Path, text: str) -> str:
    """``text`` plus every marked block of the current file that ``text`` lacks."""
    if not path.exists():
        return text
    have = {m.group("name") for m in _BLOCK.finditer(text)}
    extra = [m.group(0) for m in _BLOCK.finditer(path.read_text(encoding="utf-8"))
             if m.group("name") not in have]
    return text.rstrip() + ("\n\n" + "\n".join(extra) if extra else "\n")


def publish(root: Path, name: str, res: dict[str, Any], started: datetime,
            loads: dict[str, str], section: Callable[[dict[str, Any]], str]) -> None:
    """Finish a benchmark's figures (loads, start, minutes), write its section of
    docs/benchmarks.md and docs/benchmarks-NAME.json, and print them."""
    res["loads"] = loads
    res["started"] = started.strftime("%Y-%m-%d %H:%M:%S UTC")
    res["minutes"] = round((datetime.now(UTC) - started).total_seconds() / 60, 1)
    put_section(root / "docs" / "benchmarks.md", name, section(res))
    (root / "docs" / f"benchmarks-{name}.json").write_text(json.dumps(res, indent=2) + "\n",
                                                           encoding="utf-8")
    print(json.dumps(res, indent=2))
