"""PDQ index benchmark jobs, each run in a fresh process by ``benchmarks.run``.

    python -m benchmarks.pdq generate DIR N DIST      # codes, queries and brute-force truth
    python -m benchmarks.pdq warding DIR N DIST       # build, save, batched/single lookups
    python -m benchmarks.pdq warding-load DIR N DIST  # load the saved index in a new process
    python -m benchmarks.pdq te DIR N DIST            # threatexchange's PDQIndex (faiss MIH)
    python -m benchmarks.pdq te-load DIR N DIST       # its pickle round trip (HMA's index store)

DIST is ``uniform`` (random 256-bit hashes) or ``clustered`` (biased bits, Zipf-sized
clusters of near-duplicates up to 2,000 members: real PDQ hashes are not uniform and make
buckets uneven). Queries are stored hashes with 0-31 bits flipped; threshold 31. Recall
is against an exhaustive search of the first TRUTH queries.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import emit, percentile, rss_mb

THRESHOLD = 31
TRUTH = 200
SEED = 20261126


def _paths(folder: Path, n: int, dist: str) -> dict[str, Path]:
    stem = f"{dist}-{n}"
    return {"codes": folder / f"{stem}-codes.npy", "queries": folder / f"{stem}-queries.npy",
            "truth": folder / f"{stem}-truth.npz", "index": folder / f"{stem}.widx",
            "te": folder / f"{stem}-te.pickle"}


def _pack(bits: np.ndarray) -> np.ndarray:
    packed = np.packbits(bits, axis=1)  # (m, 32) bytes
    return np.ascontiguousarray(packed).view(np.uint64).reshape(len(bits), 4)


def _clustered(rng: np.random.Generator, n: int) -> np.ndarray:
    n_centres = max(1, n // 50)
    bias = rng.uniform(0.25, 0.75, size=256).astype(np.float32)
    centres = np.empty((n_centres, 4), np.uint64)
    for s in range(0, n_centres, 100_000):
        m = min(100_000, n_centres - s)
        centres[s:s + m] = _pack(rng.random((m, 256), dtype=np.float32) < bias)
    weights = 1.0 / np.arange(1, n_centres + 1)
    weights = np.minimum(weights / weights.sum(), 2000 / n)
    weights /= weights.sum()
    owner = rng.choice(n_centres, size=n, p=weights)
    codes = np.empty((n, 4), np.uint64)
    for s in range(0, n, 200_000):
        m = min(200_000, n - s)
        p = rng.uniform(0.0, 0.06, size=(m, 1)).astype(np.float32)
        noise = _pack(rng.random((m, 256), dtype=np.float32) < p)
        codes[s:s + m] = centres[owner[s:s + m]] ^ noise
    return codes


def generate(folder: Path, n: int, dist: str, nq: int) -> dict[str, Any]:
    from warding.matching import kernel

    rng = np.random.default_rng(SEED + n + (1 if dist == "clustered" else 0))
    t = time.perf_counter()
    codes = rng.integers(0, 2**64, size=(n, 4), dtype=np.uint64) if dist == "uniform" \
        else _clustered(rng, n)
    picks = codes[rng.integers(0, n, nq)].copy()
    for i in range(nq):
        for b in rng.choice(256, int(rng.integers(0, THRESHOLD + 1)), replace=False):
            picks[i, b // 64] ^= np.uint64(1) << np.uint64(b % 64)
    paths = _paths(folder, n, dist)
    np.save(paths["codes"], codes)
    np.save(paths["queries"], picks)
    kernel.use("c" if kernel.available() else "numpy")
    hits = kernel.scan(codes, np.ones(n, np.uint8), picks[:TRUTH], THRESHOLD)  # exhaustive
    np.savez(paths["truth"], query=hits.query, pos=hits.pos)
    # cross-check the exhaustive search with plain numpy on a few queries
    for qi in range(3):
        d = kernel.popcount_rows(codes ^ picks[qi])
        assert set(np.flatnonzero(d <= THRESHOLD).tolist()) == \
            set(hits.pos[hits.query == qi].tolist())
    per_query = np.bincount(hits.query, minlength=TRUTH)
    return {"job": "generate", "n": n, "dist": dist, "seconds": time.perf_counter() - t,
            "truth_matches_mean": float(per_query.mean()),
            "truth_matches_max": int(per_query.max())}


def _truth(paths: dict[str, Path]) -> list[set[int]]:
    data = np.load(paths["truth"])
    out: list[set[int]] = [set() for _ in range(TRUTH)]
    for q, p in zip(data["query"].tolist(), data["pos"].tolist(), strict=True):
        out[q].add(p)
    return out


def _recall(found: list[set[int]], truth: list[set[int]]) -> tuple[float, bool]:
    total = sum(len(t) for t in truth)
    got = sum(len(f & t) for f, t in zip(found, truth, strict=True))
    exact = all(f == t for f, t in zip(found, truth, strict=True))
    return (got / total if total else 1.0), exact


def _singles(fn: Any, queries: Any, count: int) -> dict[str, float]:
    lat = []
    for q in queries[:count]:
        s = time.perf_counter()
        fn(q)
        lat.append(time.perf_counter() - s)
    return {"single_per_s": len(lat) / sum(lat), "p50_ms": percentile(lat, 0.5) * 1000,
            "p99_ms": percentile(lat, 0.99) * 1000}


def warding(folder: Path, n: int, dist: str, batch: int, single: int) -> dict[str, Any]:
    from warding.matching import kernel
    from warding.matching.mih import HammingIndex
    from warding.matching.store import write_index

    kernel.use("auto")
    paths = _paths(folder, n, dist)
    base = rss_mb()
    codes = np.load(paths["codes"])
    queries = np.load(paths["queries"])
    data_mb = rss_mb() - base
    t = time.perf_counter()
    index = HammingIndex.from_arrays(256, codes, np.arange(n, dtype=np.int64),
                                     np.zeros(n, np.int32), threshold=THRESHOLD)
    build_s = time.perf_counter() - t
    del codes  # the index holds the codes
    rss = rss_mb()
    seg = index._view.segments[0]
    layout = seg.tables.cbits.tolist() if seg.tables is not None else []
    t = time.perf_counter()
    meta, arrays = index.to_arrays()
    size = write_index(paths["index"], meta, arrays)
    save_s = time.perf_counter() - t
    del arrays
    out: dict[str, Any] = {"job": "warding", "n": n, "dist": dist, "build_s": build_s,
                           "save_s": save_s, "file_mb": size / 2**20, "rss_mb": rss,
                           "base_rss_mb": base, "queries_rss_mb": data_mb,
                           "chunks": layout, "kernel": kernel.active()}
    index.search(queries[:64], THRESHOLD)  # warm up
    qb = queries[:batch]
    t = time.perf_counter()
    res = index.search(qb, THRESHOLD)
    out["batched_per_s"] = len(qb) / (time.perf_counter() - t)
    out["batch"] = len(qb)
    out["matches_per_query"] = len(res) / len(qb)
    out.update(_singles(lambda q: index.search(q[None, :], THRESHOLD, threads=1), queries,
                        single))
    res = index.search(queries[:TRUTH], THRESHOLD)
    found: list[set[int]] = [set() for _ in range(TRUTH)]
    for q, r in zip(res.query.tolist(), res.refs.tolist(), strict=True):
        found[q].add(r)
    out["recall"], out["exact"] = _recall(found, _truth(paths))
    out["peak_rss_mb"] = max(rss, rss_mb())
    return out


def warding_load(folder: Path, n: int, dist: str) -> dict[str, Any]:
    from warding.matching.mih import HammingIndex
    from warding.matching.store import read_index

    paths = _paths(folder, n, dist)
    base = rss_mb()
    t = time.perf_counter()
    meta, arrays = read_index(paths["index"])
    index = HammingIndex.from_snapshot(meta, arrays)
    load_s = time.perf_counter() - t
    del arrays
    queries = np.load(paths["queries"])
    res = index.search(queries[:TRUTH], THRESHOLD)
    found: list[set[int]] = [set() for _ in range(TRUTH)]
    for q, r in zip(res.query.tolist(), res.refs.tolist(), strict=True):
        found[q].add(r)
    recall, exact = _recall(found, _truth(paths))
    return {"job": "warding-load", "n": n, "dist": dist, "load_s": load_s, "rss_mb": rss_mb(),
            "base_rss_mb": base, "recall_after_load": recall, "exact_after_load": exact}


def _hex(codes: np.ndarray) -> list[str]:
    raw = np.ascontiguousarray(codes).view(np.uint8).reshape(len(codes), 32)
    return [row.tobytes().hex() for row in raw]


def te(folder: Path, n: int, dist: str, batch: int, single: int) -> dict[str, Any]:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from threatexchange.signal_type.pdq.pdq_index import PDQIndex

    paths = _paths(folder, n, dist)
    base = rss_mb()
    codes = np.load(paths["codes"])
    hexes = _hex(codes)
    del codes
    queries = _hex(np.load(paths["queries"]))
    data_mb = rss_mb() - base
    t = time.perf_counter()
    index = PDQIndex.build((h, i) for i, h in enumerate(hexes))
    build_s = time.perf_counter() - t
    del hexes  # the index keeps its own (hash, entry) list
    rss = rss_mb()
    out: dict[str, Any] = {"job": "te", "n": n, "dist": dist, "build_s": build_s,
                           "rss_mb": rss, "base_rss_mb": base, "queries_rss_mb": data_mb}
    qb = list(dict.fromkeys(queries[:batch]))
    t = time.perf_counter()
    index.index.search_with_distance_in_result(qb, THRESHOLD)  # faiss batch search
    out["batched_per_s"] = len(qb) / (time.perf_counter() - t)
    out["batch"] = len(qb)
    out.update(_singles(index.query, queries, single))
    found = [{m.metadata for m in index.query(q)} for q in queries[:TRUTH]]
    out["recall"], out["exact"] = _recall(found, _truth(paths))
    t = time.perf_counter()
    with open(paths["te"], "wb") as fh:
        index.serialize(fh)
    out["save_s"] = time.perf_counter() - t
    out["file_mb"] = paths["te"].stat().st_size / 2**20
    out["peak_rss_mb"] = max(rss, rss_mb())
    return out


def te_load(folder: Path, n: int, dist: str) -> dict[str, Any]:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from threatexchange.signal_type.pdq.pdq_index import PDQIndex

    paths = _paths(folder, n, dist)
    base = rss_mb()
    t = time.perf_counter()
    with open(paths["te"], "rb") as fh:
        index = PDQIndex.deserialize(fh)
    load_s = time.perf_counter() - t
    out = {"job": "te-load", "n": n, "dist": dist, "load_s": load_s, "rss_mb": rss_mb(),
           "base_rss_mb": base, "entries": len(index)}
    paths["te"].unlink(missing_ok=True)
    return out


def main(argv: list[str]) -> None:
    job, folder, n, dist = argv[0], Path(argv[1]), int(argv[2]), argv[3]
    batch = int(argv[4]) if len(argv) > 4 else 10_000
    single = int(argv[5]) if len(argv) > 5 else 1000
    if job == "generate":
        emit(generate(folder, n, dist, max(batch, single, TRUTH)))
    elif job == "warding":
        emit(warding(folder, n, dist, batch, single))
    elif job == "warding-load":
        emit(warding_load(folder, n, dist))
    elif job == "te":
        emit(te(folder, n, dist, batch, single))
    elif job == "te-load":
        emit(te_load(folder, n, dist))
    else:
        raise SystemExit(f"unknown job {job!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
