"""Cut a scan's inputs into partitions: deterministic, small to send, cheap to re-read.

A partition is a path and, for a JSON Lines file, a byte range that starts at a line start
with the number of that line (so that each item's ``input_ref``, ``<file>:<line>``, is the
one a single-process scan gives). The same inputs and partition size always give the same
partitions, so a rerun after a crash reads the same items in the same order. Other inputs
(CSV, folders, web pages, Telegram exports) are one partition each.

Finding the line starts reads the file once on the client (a count of newlines, about a
second per GB); the workers then read only their own range.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from warding.ingest.base import Connector
from warding.ingest.posts import JSONLPostsConnector

#: Default partition size in bytes of input (about 1,000 short posts): small enough to
#: balance two workers on a scan of a few MB (docs/benchmarks.md), large enough that the
#: per-partition cost stays a small share.
PARTITION_BYTES = 1 << 18
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Partition:
    """One unit of work: ``path`` (absolute), and for a JSONL file its byte range."""

    number: int
    path: str
    start: int = 0
    end: int | None = None
    first_line: int = 1

    @property
    def ranged(self) -> bool:
        return self.end is not None

    def describe(self) -> str:
        if self.end is None:
            return self.path
        return f"{self.path} bytes {self.start}-{self.end} (from line {self.first_line})"


def line_starts(path: Path, size: int) -> Iterator[tuple[int, int]]:
    """(byte offset, line number) of each cut: the first line start at least ``size`` bytes
    after the previous cut (the first cut after byte 0). The last cut may be the file's end."""
    line, pos = 1, 0
    with path.open("rb") as fh:
        while True:
            fh.seek(pos + size - 1)
            if not _to_line_end(fh):
                return
            cut = fh.tell()
            fh.seek(pos)
            left = cut - pos
            while left:
                chunk = fh.read(min(_CHUNK, left))
                line += chunk.count(b"\n")
                left -= len(chunk)
            yield cut, line
            pos = cut


def _to_line_end(fh: BinaryIO) -> bool:
    """Read up to and including the next newline; False at the end of the file."""
    read = False
    while True:
        part = fh.readline(_CHUNK)
        if not part:
            return read
        read = True
        if part.endswith(b"\n"):
            return True


def plan(paths: Sequence[Path], connectors: Sequence[Connector],
         size: int = PARTITION_BYTES) -> list[Partition]:
    """The partitions of ``paths``, in input order."""
    if size < 1:
        raise ValueError("the partition size must be at least 1 byte")
    out: list[Partition] = []
    for path in paths:
        absolute = path.resolve() if path.exists() else path
        reader = next((c for c in connectors if c.can_read(absolute)), None)
        if not isinstance(reader, JSONLPostsConnector):
            out.append(Partition(len(out), str(absolute)))
            continue
        total = absolute.stat().st_size
        start, first = 0, 1
        for cut, line in line_starts(absolute, size):
            if cut >= total:
                break
            out.append(Partition(len(out), str(absolute), start, cut, first))
            start, first = cut, line
        out.append(Partition(len(out), str(absolute), start, total, first))
    return out
