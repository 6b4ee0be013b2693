"""The on-disk index format: numpy arrays and a JSON header, versioned and checksummed.

No pickle: a file is read into plain numpy arrays whose dtypes and shapes the
header declares, and nothing in it is executed.

Layout (integers little-endian)::

    0   8  magic b"WARDIDX1"
    8   4  format version (1)
    12  4  header length H
    16  4  CRC-32 of the header
    20  4  zero
    24  H  header: UTF-8 JSON {"version", "created", "meta", "arrays": [{"name", "dtype",
           "shape", "offset", "nbytes", "crc32"}, ...]}
    ...    each array's bytes, at 64-byte aligned offsets
    -16 16 trailer: b"WARDEND1" and the total file length (u64)

Reading checks the magic, the version, the header checksum, the trailer and
length (a truncated file), and every array's CRC-32 (a corrupted one), and
raises :class:`IndexFileError` naming the file and the problem.

Writing is crash-safe: the file is written under a temporary name in the same
folder, flushed and fsync'ed, then renamed over the old one (atomic on POSIX),
and the folder is fsync'ed. A crash at any point leaves the previous file
intact; a leftover temporary file is ignored by readers and removed by the
next writer.
"""

from __future__ import annotations

import io
import json
import os
import secrets
import struct
import time
import zlib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

MAGIC = b"WARDIDX1"
TRAILER = b"WARDEND1"
VERSION = 1
ALIGN = 64
CHUNK = 16 << 20
TMP_MARK = ".tmp-"
ALLOWED_DTYPES = frozenset({"<u1", "|u1", "<u4", "<u8", "<i4", "<i8", "<i2"})

# Called after each block written (tests use it to simulate a crash mid-write).
_after_block: Callable[[int], None] | None = None


class IndexFileError(ValueError):
    """An index file that cannot be used; the message names the file and the reason."""


def _pad(n: int) -> int:
    return (-n) % ALIGN


def _le(arr: np.ndarray) -> np.ndarray:
    """A C-contiguous little-endian view or copy of ``arr``."""
    dtype = arr.dtype.newbyteorder("<") if arr.dtype.byteorder not in ("|", "<") else arr.dtype
    return np.ascontiguousarray(arr, dtype=dtype)


def _bytes(arr: np.ndarray) -> memoryview:
    # numpy's stubs declare ndarray.__buffer__ only for Python >= 3.12; arrays are buffers.
    return (memoryview(arr.reshape(-1)).cast("B")  # type: ignore[arg-type]
            if arr.size else memoryview(b""))


def _crc(buf: memoryview) -> int:
    crc = 0
    for start in range(0, len(buf), CHUNK):
        crc = zlib.crc32(buf[start:start + CHUNK], crc)
    return crc


def write_index(path: Path, meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> int:
    """Write ``arrays`` and ``meta`` to ``path`` atomically; returns the file size."""
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temporaries(path)
    prepared = {name: _le(a) for name, a in arrays.items()}
    entries = []
    offset = 0  # relative to the data start, fixed below
    for name, arr in prepared.items():
        entries.append({"name": name, "dtype": arr.dtype.str, "shape": list(arr.shape),
                        "offset": offset, "nbytes": int(arr.nbytes),
                        "crc32": _crc(_bytes(arr))})
        offset += arr.nbytes + _pad(arr.nbytes)
    header = {"version": VERSION, "created": datetime.now(UTC).isoformat(timespec="seconds"),
              "meta": dict(meta), "arrays": entries}
    # The data start depends on the header length, which depends on the offsets: fix it up.
    data_start = 0
    for _ in range(3):
        raw = json.dumps({**header, "data_start": data_start}, sort_keys=True).encode()
        new_start = 24 + len(raw) + _pad(24 + len(raw))
        if new_start == data_start:
            break
        data_start = new_start
    raw = json.dumps({**header, "data_start": data_start}, sort_keys=True).encode()
    assert 24 + len(raw) + _pad(24 + len(raw)) == data_start
    total = data_start + offset + len(TRAILER) + 8
    tmp = path.with_name(f"{path.name}{TMP_MARK}{os.getpid()}-{secrets.token_hex(4)}")
    try:
        with open(tmp, "wb") as fh:
            fh.write(MAGIC + struct.pack("<III", VERSION, len(raw), zlib.crc32(raw)) + b"\0" * 4)
            fh.write(raw + b"\0" * _pad(24 + len(raw)))
            for arr in prepared.values():
                _write_blocks(fh, _bytes(arr))
                fh.write(b"\0" * _pad(arr.nbytes))
            fh.write(TRAILER + struct.pack("<Q", total))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)
    return total


def _write_blocks(fh: BinaryIO, buf: memoryview) -> None:
    for start in range(0, len(buf), CHUNK):
        fh.write(buf[start:start + CHUNK])
        if _after_block is not None:
            _after_block(start)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def _remove_stale_temporaries(path: Path, older_than: float = 3600.0) -> None:
    """Remove temporary files a crashed writer left behind (after an hour: not a live writer's)."""
    now = time.time()
    for tmp in path.parent.glob(f"{path.name}{TMP_MARK}*"):
        try:
            if now - tmp.stat().st_mtime > older_than:
                tmp.unlink()
        except OSError:
            pass


def read_header(path: Path) -> dict[str, Any]:
    """The checked header of an index file (without reading the arrays)."""
    with _open(path) as fh:
        return _header(path, fh)


def read_index(path: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """(meta, arrays) of an index file; IndexFileError if it is not complete and intact."""
    with _open(path) as fh:
        header = _header(path, fh)
        arrays: dict[str, np.ndarray] = {}
        for spec in header["arrays"]:
            name = spec["name"]
            arr = np.empty(tuple(spec["shape"]), dtype=np.dtype(spec["dtype"]))
            if arr.nbytes != spec["nbytes"]:
                raise IndexFileError(f"{path}: array {name!r} has an inconsistent size")
            fh.seek(header["data_start"] + spec["offset"])
            view = _bytes(arr)
            if arr.nbytes and fh.readinto(view) != arr.nbytes:
                raise IndexFileError(f"{path}: truncated inside array {name!r}")
            if _crc(view) != spec["crc32"]:
                raise IndexFileError(f"{path}: array {name!r} fails its checksum (corrupt file)")
            native = arr.dtype.newbyteorder("=")
            arrays[name] = arr if arr.dtype == native else arr.astype(native)
    return header["meta"], arrays


def _open(path: Path) -> io.BufferedReader:
    try:
        return open(path, "rb")
    except FileNotFoundError:
        raise IndexFileError(f"{path}: no such index file") from None
    except OSError as exc:
        raise IndexFileError(f"{path}: cannot read ({exc.strerror or exc})") from None


def _header(path: Path, fh: BinaryIO) -> dict[str, Any]:
    size = os.fstat(fh.fileno()).st_size
    start = fh.read(24)
    if len(start) < 24 or start[:8] != MAGIC:
        raise IndexFileError(f"{path}: not a Warding index file")
    version, hlen, hcrc = struct.unpack("<III", start[8:20])
    if version > VERSION:
        raise IndexFileError(f"{path}: format version {version} was written by a newer Warding "
                             f"(this one reads version {VERSION}); rebuild the index")
    if version < 1:
        raise IndexFileError(f"{path}: unknown format version {version}")
    raw = fh.read(hlen)
    if len(raw) != hlen:
        raise IndexFileError(f"{path}: truncated header")
    if zlib.crc32(raw) != hcrc:
        raise IndexFileError(f"{path}: header fails its checksum (corrupt file)")
    try:
        header = json.loads(raw)
    except ValueError as exc:
        raise IndexFileError(f"{path}: unreadable header ({exc})") from None
    if size < len(TRAILER) + 8:
        raise IndexFileError(f"{path}: truncated file")
    fh.seek(size - len(TRAILER) - 8)
    tail = fh.read(len(TRAILER) + 8)
    if tail[:8] != TRAILER:
        raise IndexFileError(f"{path}: truncated or incomplete file (no end marker)")
    (declared,) = struct.unpack("<Q", tail[8:])
    if declared != size:
        raise IndexFileError(f"{path}: file is {size} bytes, its header says {declared} "
                             "(truncated or extended)")
    data_start = header.get("data_start")
    if not isinstance(data_start, int) or not isinstance(header.get("arrays"), list):
        raise IndexFileError(f"{path}: malformed header")
    for spec in header["arrays"]:
        if (not isinstance(spec, dict) or spec.get("dtype") not in ALLOWED_DTYPES
                or not isinstance(spec.get("offset"), int) or not isinstance(spec.get("nbytes"), int)
                or not isinstance(spec.get("shape"), list)
                or data_start + spec["offset"] + spec["nbytes"] > size - len(TRAILER) - 8):
            raise IndexFileError(f"{path}: malformed array description {spec!r:.100}")
    return header
