"""Index files: versioned and checksummed; damaged files are refused with a clear error;
a crash while writing never leaves a damaged index."""

from __future__ import annotations

import os
import signal
import struct
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from warding.matching import store
from warding.matching.store import IndexFileError, read_index, write_index


def _arrays(n: int = 1000, seed: int = 1) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {"codes": rng.integers(0, 255, size=(n, 32), dtype=np.uint8),
            "refs": np.arange(n, dtype=np.int64), "banks": np.full(n, 3, np.int32),
            "empty": np.zeros((0, 4), np.uint64)}


def test_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "pdq.widx"
    arrays = _arrays()
    size = write_index(path, {"kind": "hamming", "watermark": 12}, arrays)
    assert path.stat().st_size == size
    meta, back = read_index(path)
    assert meta == {"kind": "hamming", "watermark": 12}
    for name, arr in arrays.items():
        assert back[name].dtype == arr.dtype and np.array_equal(back[name], arr)
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left


@pytest.mark.parametrize("damage, message", [
    ("flip_data", "fails its checksum"),
    ("flip_header", "header fails its checksum"),
    ("truncate", "truncated"),
    ("truncate_half", "truncated"),
    ("extend", "header says"),
    ("magic", "not a Warding index file"),
    ("empty", "not a Warding index file"),
    ("newer", "newer Warding"),
])
def test_damaged_files_are_refused(tmp_path: Path, damage: str, message: str) -> None:
    path = tmp_path / "x.widx"
    write_index(path, {"kind": "exact"}, _arrays())
    raw = bytearray(path.read_bytes())
    if damage == "flip_data":
        raw[len(raw) // 2] ^= 0x40
    elif damage == "flip_header":
        raw[30] ^= 0x01
    elif damage == "truncate":
        raw = raw[:-1]
    elif damage == "truncate_half":
        raw = raw[: len(raw) // 2]
    elif damage == "extend":
        raw += b"\0" * 64 + raw[-16:]
    elif damage == "magic":
        raw[:8] = b"NOTMAGIC"
    elif damage == "empty":
        raw = bytearray()
    elif damage == "newer":
        raw[8:12] = struct.pack("<I", 99)
    path.write_bytes(bytes(raw))
    with pytest.raises(IndexFileError, match=message) as info:
        read_index(path)
    assert str(path) in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(IndexFileError, match="no such index file"):
        read_index(tmp_path / "nope.widx")


def test_an_error_while_writing_keeps_the_previous_file(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "pdq.widx"
    write_index(path, {"v": 1}, _arrays(seed=1))

    def boom(offset: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(store, "CHUNK", 4096)
    monkeypatch.setattr(store, "_after_block", boom)
    with pytest.raises(OSError, match="disk full"):
        write_index(path, {"v": 2}, _arrays(n=5000, seed=2))
    meta, back = read_index(path)
    assert meta == {"v": 1} and np.array_equal(back["codes"], _arrays(seed=1)["codes"])
    assert list(tmp_path.iterdir()) == [path]


def test_a_killed_writer_leaves_the_previous_index_loadable(tmp_path: Path) -> None:
    """SIGKILL in the middle of writing a new index: the old one still loads, and the next
    writer clears the leftover temporary file once it is stale."""
    path = tmp_path / "pdq.widx"
    write_index(path, {"v": 1}, _arrays(seed=1))
    script = textwrap.dedent(f"""
        import sys, time
        import numpy as np
        from pathlib import Path
        from warding.matching import store
        store.CHUNK = 1 << 16
        def slow(offset):
            if offset >= 1 << 18:
                print("writing", flush=True)
                time.sleep(60)
        store._after_block = slow
        big = {{"codes": np.ones((100_000, 32), np.uint8)}}
        store.write_index(Path({str(path)!r}), {{"v": 2}}, big)
    """)
    with subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                          text=True) as proc:
        try:
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == "writing"
            os.kill(proc.pid, signal.SIGKILL)
        finally:
            proc.wait(timeout=30)
    leftovers = [p for p in tmp_path.iterdir() if p != path]
    assert leftovers and all(store.TMP_MARK in p.name for p in leftovers)
    meta, back = read_index(path)
    assert meta == {"v": 1} and np.array_equal(back["refs"], np.arange(1000))
    old = time.time() - 7200
    for p in leftovers:
        os.utime(p, (old, old))
    write_index(path, {"v": 3}, _arrays(seed=3))
    assert list(tmp_path.iterdir()) == [path]
    assert read_index(path)[0] == {"v": 3}
