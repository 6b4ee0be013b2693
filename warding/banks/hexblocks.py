"""Read ``TYPE VALUE`` hash lists in blocks, vectorised.

A hash list of millions of lines is almost always one type of hash, one per line, in the
same layout (``pdq 9a3f…``). This reader takes the file in blocks of about
:data:`BLOCK_BYTES` that end at a line break, and when every line of a block has the first
line's layout (the same type word, one space, a hex value of that type's length, a line
break), it checks and decodes the whole block with numpy: one :class:`HexBlock` of raw
bytes, no Python object per line. Any other block (comments, headers, labels, other types,
bad lines) is decoded as UTF-8 and handed back as text lines, with their line numbers, to
the general line reader, which reports every bad line by number.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np

from warding.errors import InvalidInput

BLOCK_BYTES = 4 << 20
_BOM = b"\xef\xbb\xbf"


def _hex_table() -> np.ndarray:
    table = np.full(256, 255, np.uint8)
    for i, ch in enumerate(b"0123456789abcdef"):
        table[ch] = i
    for i, ch in enumerate(b"ABCDEF"):
        table[ch] = 10 + i
    return table


_HEX_VALUE = _hex_table()


@dataclass(frozen=True)
class HexBlock:
    """Consecutive lines ``first_line``… of one hex signal type, already valid."""

    signal_type: str
    raw: np.ndarray  # (lines, width // 2) uint8: the decoded values
    first_line: int


@dataclass(frozen=True)
class TextLines:
    """Lines to read one by one, the first of them numbered ``first_line``."""

    lines: list[str]
    first_line: int


def read_blocks(fh: BinaryIO, shown: str, widths: Mapping[str, int],
                aliases: Mapping[str, str]) -> Iterator[HexBlock | TextLines]:
    """Blocks of a binary file; ``widths`` maps hex signal types to their hex length and
    ``aliases`` maps other type words (threatexchange's) to Warding's. Raises InvalidInput
    naming ``shown`` and the byte offset at the first invalid UTF-8."""
    line = 1
    offset = 0
    first = True
    while True:
        block = fh.read(BLOCK_BYTES)
        if not block:
            return
        block += fh.readline()  # up to the next line break
        start = offset
        offset += len(block)
        if first:
            first = False
            if block.startswith(_BOM):
                block = block[len(_BOM):]
                start += len(_BOM)
        if not block.endswith(b"\n"):
            block += b"\n"  # the last line of a file without a final line break
        uniform = _uniform(block, widths, aliases)
        if uniform is not None:
            signal_type, raw = uniform
            yield HexBlock(signal_type, raw, line)
            line += len(raw)
            continue
        try:
            text = block.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidInput(f"{shown}: not valid UTF-8 at byte {start + exc.start}") from exc
        lines = io.StringIO(text, newline=None).readlines()
        yield TextLines(lines, line)
        line += len(lines)


def _uniform(block: bytes, widths: Mapping[str, int],
             aliases: Mapping[str, str]) -> tuple[str, np.ndarray] | None:
    """(signal type, raw values) if every line of ``block`` (which ends with a line break)
    is ``TYPE HEX`` with the first line's type word and a valid hex value; else None."""
    end = block.find(b"\n")
    head = block[:end]
    cr = 1 if head.endswith(b"\r") else 0
    space = head.find(b" ")
    if space <= 0:
        return None
    try:
        word = head[:space].decode("ascii").lower()
    except UnicodeDecodeError:
        return None
    signal_type = aliases.get(word, word)
    width = widths.get(signal_type)
    line_len = end + 1
    if not width or space + 1 + width + cr != end or len(block) % line_len:
        return None
    rows = np.frombuffer(block, np.uint8).reshape(-1, line_len)
    if not (rows[:, :space + 1] == rows[0, :space + 1]).all() or not (rows[:, -1] == 10).all():
        return None
    if cr and not (rows[:, -2] == 13).all():
        return None
    nibbles = _HEX_VALUE[rows[:, space + 1:space + 1 + width]]
    if (nibbles == 255).any():
        return None
    raw = (nibbles[:, 0::2] << 4) | nibbles[:, 1::2]
    return signal_type, raw
