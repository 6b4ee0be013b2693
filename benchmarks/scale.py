"""Engine-scale benchmark jobs (each in a fresh process, run by ``benchmarks.run``).

    python -m benchmarks.scale lines DIR N            # N 'pdq HEX' lines (from the PDQ codes)
    python -m benchmarks.scale open DB DATA_DIR       # open the engine: snapshot or database
    python -m benchmarks.scale exact N                # 10M-scale exact index (md5, url)
    python -m benchmarks.scale text_near N            # text_near (64-bit) near-duplicates

The import itself is timed by running the real command, ``warding bank import``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import emit, percentile, rss_mb


def lines(folder: Path, n: int) -> dict[str, Any]:
    codes = np.load(folder / f"uniform-{n}-codes.npy")
    out = folder / f"pdq-{n}.txt"
    t = time.perf_counter()
    raw = np.ascontiguousarray(codes).view(np.uint8).reshape(n, 32)
    with out.open("w", encoding="ascii") as fh:
        for start in range(0, n, 100_000):
            block = raw[start:start + 100_000]
            fh.write("".join(f"pdq {row.tobytes().hex()}\n" for row in block))
    queries = np.load(folder / f"uniform-{n}-queries.npy")[:10_000]
    qraw = np.ascontiguousarray(queries).view(np.uint8).reshape(len(queries), 32)
    (folder / f"pdq-{n}-queries.txt").write_text(
        "".join(f"pdq {row.tobytes().hex()}\n" for row in qraw), encoding="ascii")
    return {"job": "lines", "n": n, "seconds": time.perf_counter() - t,
            "file_mb": out.stat().st_size / 2**20}


def open_engine(db: str, data_dir: Path) -> dict[str, Any]:
    from warding.app import Warding
    from warding.config import Settings
    from warding.matching.service import get_core

    base = rss_mb()
    app = Warding(Settings(database_url=db, data_dir=data_dir))
    t = time.perf_counter()
    core = get_core(app)
    opened = time.perf_counter() - t
    rss = rss_mb()
    t = time.perf_counter()
    core.wait_saves()
    waited = time.perf_counter() - t
    out = {"job": "open", "source": core.source, "open_s": opened, "rss_mb": rss,
           "base_rss_mb": base, "entries": core.size(), "snapshot_wait_s": waited}
    app.close()
    return out


def _singles(fn: Any, items: list[Any]) -> dict[str, float]:
    lat = []
    for item in items:
        s = time.perf_counter()
        fn(item)
        lat.append(time.perf_counter() - s)
    return {"single_per_s": len(lat) / sum(lat), "p50_ms": percentile(lat, 0.5) * 1000,
            "p99_ms": percentile(lat, 0.99) * 1000}


def exact(n: int) -> dict[str, Any]:
    from warding.matching.exact import ExactIndex, fingerprints

    rng = np.random.default_rng(7)
    base = rss_mb()
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    values = [row.tobytes().hex() for row in raw[:20_000]]  # queries (hex md5 strings)
    t = time.perf_counter()
    hi = raw[:, :8].copy().view(">u8").reshape(n).astype(np.uint64)
    lo = raw[:, 8:].copy().view(">u8").reshape(n).astype(np.uint64)
    del raw
    index = ExactIndex.from_arrays("hex", hi, lo, np.arange(n, dtype=np.int64),
                                   np.zeros(n, np.int32))
    build_s = time.perf_counter() - t
    del hi, lo
    rss = rss_mb()
    misses = [f"{x:032x}" for x in rng.integers(0, 2**62, size=10_000)]
    batch = values[:10_000] + misses
    t = time.perf_counter()
    q, refs, _ = index.search(batch)
    batched = len(batch) / (time.perf_counter() - t)
    found = set(q.tolist())
    assert found == set(range(10_000)), "every stored md5 must be found, no random one"
    out: dict[str, Any] = {"job": "exact", "n": n, "build_s": build_s, "rss_mb": rss,
                           "base_rss_mb": base, "batched_per_s": batched}
    out.update(_singles(lambda v: index.search([v]), values[10_000:12_000] + misses[:1000]))
    # the same at 1M URL strings (BLAKE2b fingerprints)
    m = min(n, 1_000_000)
    urls = [f"https://example.org/placeholder/{i}?p={i * 7}" for i in range(m)]
    t = time.perf_counter()
    hu, lu = fingerprints(urls, "text")
    uindex = ExactIndex.from_arrays("text", hu, lu, np.arange(m, dtype=np.int64),
                                    np.zeros(m, np.int32))
    out["url_entries"] = m
    out["url_build_s"] = time.perf_counter() - t
    out["url_single"] = _singles(lambda v: uindex.search([v]), urls[:2000])
    return out


def text_near(n: int) -> dict[str, Any]:
    from warding.matching import kernel
    from warding.matching.mih import HammingIndex

    rng = np.random.default_rng(11)
    base = rss_mb()
    codes = rng.integers(0, 2**64, size=(n, 1), dtype=np.uint64)
    t = time.perf_counter()
    index = HammingIndex.from_arrays(64, codes, np.arange(n, dtype=np.int64),
                                     np.zeros(n, np.int32), threshold=6)
    build_s = time.perf_counter() - t
    rss = rss_mb()
    queries = codes[rng.integers(0, n, 5000)].copy()
    for row in queries:
        for b in rng.choice(64, int(rng.integers(0, 7)), replace=False):
            row[0] ^= np.uint64(1) << np.uint64(b)
    t = time.perf_counter()
    res = index.search(queries, 6)
    batched = len(queries) / (time.perf_counter() - t)
    truth = kernel.scan(codes, np.ones(n, np.uint8), queries[:200], 6)
    exact = sorted(zip(truth.query.tolist(), truth.pos.tolist(), strict=True)) == sorted(
        (q, r) for q, r in zip(res.query.tolist(), res.refs.tolist(), strict=True) if q < 200)
    out: dict[str, Any] = {"job": "text_near", "n": n, "build_s": build_s, "rss_mb": rss,
                           "base_rss_mb": base, "batched_per_s": batched, "exact": exact}
    out.update(_singles(lambda q: index.search(q[None, :], 6, threads=1), list(queries[:2000])))
    return out


def main(argv: list[str]) -> None:
    job = argv[0]
    if job == "lines":
        emit(lines(Path(argv[1]), int(argv[2])))
    elif job == "open":
        emit(open_engine(argv[1], Path(argv[2])))
    elif job == "exact":
        emit(exact(int(argv[1])))
    elif job == "text_near":
        emit(text_near(int(argv[1])))
    else:
        raise SystemExit(f"unknown job {job!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
