"""Warding's benchmarks, each against the reference in the same run; writes docs/benchmarks.md.

    make bench            # or: python -m benchmarks.run

1. PDQ lookups at 1M and 10M random hashes and on a clustered distribution: Warding's
   multi-index hashing index against threatexchange's ``PDQIndex`` (faiss multi-index
   hashing, the index HMA uses): build and load time, resident memory, batched and single
   lookups/s, p50/p99, recall against an exhaustive search. Every job runs in a fresh
   process so that its memory is its own.
2. The engine at scale: ``warding bank import`` of 10M ``pdq`` lines, opening the engine
   from the database and from its snapshot, ``warding match --hashes``, the exact index at
   10M and the text near-duplicate index at 1M.
3. HTTP: HMA's ``/m/lookup`` against ``warding serve`` on loopback at 1M entries for
   ``WARDING_BENCH_HTTP_SECONDS`` (default 600): requests/s, latency, memory over time,
   and how soon an added hash matches.
4. Scan and classifier throughput on the public data sets (SQLite).

Smaller runs for development (environment variables): WARDING_BENCH_SIZES (default
"1000000,10000000"), WARDING_BENCH_CLUSTERED ("1000000"), WARDING_BENCH_TE_MAX (largest
size for the reference, default 10000000), WARDING_BENCH_IMPORT (10000000),
WARDING_BENCH_EXACT (10000000), WARDING_BENCH_TEXT_NEAR (1000000),
WARDING_BENCH_HTTP_ENTRIES (1000000), WARDING_BENCH_HTTP_SECONDS (600),
WARDING_BENCH_HTTP_CONCURRENCY (8), WARDING_BENCH_SKIP_SCAN (set to skip part 4),
WARDING_BENCH_DIR (work folder, default a temporary one; needs about 3 GB), and
WARDING_BENCH_OUT (the report, default docs/benchmarks.md).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import ROOT, env_int, env_list, load_average, machine, run_job

SHARED = Path(os.environ.get("WARDING_SHARED_DATA_DIR") or ROOT.parent / "shared" / "data")
WARDING = str(Path(sys.executable).with_name("warding"))


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def bench_pdq(folder: Path, n: int, dist: str, te_max: int) -> dict[str, Any]:
    batch = 10_000 if n <= 1_000_000 else 4_000
    out: dict[str, Any] = {"n": n, "dist": dist}
    log(f"PDQ {dist} {n:,}: generating")
    out["generate"] = run_job("benchmarks.pdq", "generate", str(folder), str(n), dist,
                              str(batch), "1000")
    log(f"PDQ {dist} {n:,}: Warding")
    out["warding"] = run_job("benchmarks.pdq", "warding", str(folder), str(n), dist,
                             str(batch), "1000")
    out["warding_load"] = run_job("benchmarks.pdq", "warding-load", str(folder), str(n), dist)
    if n <= te_max:
        log(f"PDQ {dist} {n:,}: threatexchange PDQIndex")
        out["te"] = run_job("benchmarks.pdq", "te", str(folder), str(n), dist,
                            str(min(batch, 2000)), "500", timeout=7200)
        out["te_load"] = run_job("benchmarks.pdq", "te-load", str(folder), str(n), dist)
    return out


def _cli(db: str, data: Path, *args: str) -> tuple[float, str]:
    t = time.perf_counter()
    proc = subprocess.run([WARDING, "--db", db, "--data-dir", str(data), *args],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"warding {' '.join(args)}: {proc.stderr[-2000:]}")
    return time.perf_counter() - t, proc.stdout


def bench_engine(folder: Path, n: int) -> dict[str, Any]:
    """Import N lines with the real CLI, open the engine twice, batch-match from the CLI."""
    out: dict[str, Any] = {"n": n}
    if not (folder / f"uniform-{n}-codes.npy").exists():
        run_job("benchmarks.pdq", "generate", str(folder), str(n), "uniform", "10000", "1000")
    out["lines"] = run_job("benchmarks.scale", "lines", str(folder), str(n))
    work = folder / f"engine-{n}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    db, data = f"sqlite:///{work / 'w.db'}", work / "data"
    _cli(db, data, "init")
    log(f"engine {n:,}: warding bank import")
    out["import_s"], out["import_out"] = _cli(db, data, "bank", "import", "bench",
                                              str(folder / f"pdq-{n}.txt"))
    out["db_mb"] = (work / "w.db").stat().st_size / 2**20
    log(f"engine {n:,}: open from the database, then from the snapshot")
    out["open_db"] = run_job("benchmarks.scale", "open", db, str(data))
    out["open_snapshot"] = run_job("benchmarks.scale", "open", db, str(data))
    queries = folder / f"pdq-{n}-queries.txt"
    out["match_cli_s"], stdout = _cli(db, data, "match", "--hashes", str(queries), "--json")
    rows = [json.loads(line) for line in stdout.splitlines()]
    out["match_cli_queries"] = len(rows)
    out["match_cli_matched"] = sum(1 for r in rows if r["matches"])
    again_s, again = _cli(db, data, "bank", "import", "bench", str(folder / f"pdq-{n}.txt"))
    out["reimport_s"], out["reimport_out"] = again_s, again.strip()
    shutil.rmtree(work, ignore_errors=True)
    return out


def bench_scan() -> dict[str, Any]:
    from warding.app import Warding
    from warding.classify.service import train_model
    from warding.config import Settings
    from warding.pipeline.scan import scan_paths
    from warding.setup import initialise

    posts = SHARED / "tvec_tweets" / "posts.jsonl"
    if not posts.exists():
        return {"skipped": f"{posts} not found"}
    with tempfile.TemporaryDirectory() as tmp:
        app = Warding(Settings(database_url=f"sqlite:///{tmp}/b.db", data_dir=Path(tmp) / "d"))
        initialise(app, actor="bench")
        t = time.perf_counter()
        train_model(app, SHARED, actor="bench")
        train_s = time.perf_counter() - t
        t = time.perf_counter()
        summary = scan_paths(app, [posts], "bench")
        scan_s = time.perf_counter() - t
        texts = [line for line in posts.read_text(encoding="utf-8").splitlines()][:5000]
        batch = [json.loads(x)["text"] for x in texts]
        clf = app.classifier()
        t = time.perf_counter()
        clf.classify(batch)
        clf_s = time.perf_counter() - t
        app.close()
    return {"items": summary.items, "scan_s": scan_s, "items_per_s": summary.items / scan_s,
            "cases": summary.cases_opened, "train_s": train_s,
            "classify_per_s": len(batch) / clf_s}


def main() -> None:
    sizes = env_list("WARDING_BENCH_SIZES", "1000000,10000000")
    clustered = env_list("WARDING_BENCH_CLUSTERED", "1000000")
    te_max = env_int("WARDING_BENCH_TE_MAX", 10_000_000)
    import_n = env_int("WARDING_BENCH_IMPORT", 10_000_000)
    exact_n = env_int("WARDING_BENCH_EXACT", 10_000_000)
    near_n = env_int("WARDING_BENCH_TEXT_NEAR", 1_000_000)
    http_n = env_int("WARDING_BENCH_HTTP_ENTRIES", 1_000_000)
    http_s = env_int("WARDING_BENCH_HTTP_SECONDS", 600)
    http_c = env_int("WARDING_BENCH_HTTP_CONCURRENCY", 8)
    out_path = Path(os.environ.get("WARDING_BENCH_OUT", ROOT / "docs" / "benchmarks.md"))
    given = os.environ.get("WARDING_BENCH_DIR")
    folder = Path(given) if given else Path(tempfile.mkdtemp(prefix="warding-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"machine": machine(), "load_start": load_average(),
                               "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
                               "settings": {"sizes": sizes, "clustered": clustered,
                                            "http_entries": http_n, "http_seconds": http_s,
                                            "http_concurrency": http_c}}
    started = time.perf_counter()
    try:
        results["pdq"] = [bench_pdq(folder, n, "uniform", te_max) for n in sizes]
        results["pdq"] += [bench_pdq(folder, n, "clustered", te_max) for n in clustered]
        results["load_after_pdq"] = load_average()
        results["engine"] = bench_engine(folder, import_n)
        log("exact and text_near indexes")
        results["exact"] = run_job("benchmarks.scale", "exact", str(exact_n))
        results["text_near"] = run_job("benchmarks.scale", "text_near", str(near_n))
        log(f"HTTP load test: {http_n:,} entries, {http_s} s")
        if not (folder / f"uniform-{http_n}-codes.npy").exists():
            run_job("benchmarks.pdq", "generate", str(folder), str(http_n), "uniform",
                    "20000", "1000")
        results["load_before_http"] = load_average()
        results["http"] = run_job("benchmarks.http_load", str(folder), str(http_n),
                                  str(http_s), str(http_c), timeout=http_s + 3600)
        results["load_after_http"] = load_average()
        if not os.environ.get("WARDING_BENCH_SKIP_SCAN"):
            log("scan and classifier")
            results["scan"] = bench_scan()
    finally:
        results["total_minutes"] = (time.perf_counter() - started) / 60
        results["load_end"] = load_average()
        if not given:
            shutil.rmtree(folder, ignore_errors=True)
    from benchmarks.report import render

    from benchmarks.sections import keep_sections  # other scripts' sections survive

    text = render(results)
    out_path.write_text(keep_sections(out_path, text), encoding="utf-8")
    out_path.with_suffix(".json").write_text(json.dumps(results, indent=1, default=str),
                                             encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
