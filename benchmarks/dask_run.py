"""The Dask benchmarks (issue 18), one command: ``make bench-dask``
(``python -m benchmarks.dask_run``). Writes the ``dask`` section of docs/benchmarks.md and
docs/benchmarks-dask.json.

Sizes: ``WARDING_BENCH_DASK_POSTS`` (40,000 posts), ``WARDING_BENCH_SHARD_ENTRIES``
(1,000,000 PDQ hashes), ``WARDING_BENCH_SHARD_QUERIES`` (20,000; 1,000 of them one by one).
"""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import dask_scan, dask_shards
from benchmarks.common import load_average, machine
from benchmarks.dask_report import section
from benchmarks.sections import publish

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    started = datetime.now(UTC)
    res: dict[str, object] = {"machine": machine()}
    loads = {"start": load_average()}
    with tempfile.TemporaryDirectory(prefix="warding-bench-dask-") as tmp:
        work = Path(tmp)
        (work / "scan").mkdir()
        (work / "shards").mkdir()
        res["scan"] = dask_scan.bench(work / "scan",
                                      int(os.environ.get("WARDING_BENCH_DASK_POSTS", "40000")))
        loads["after the scans"] = load_average()
        queries = int(os.environ.get("WARDING_BENCH_SHARD_QUERIES", "20000"))
        res["shards"] = dask_shards.bench(
            work / "shards", int(os.environ.get("WARDING_BENCH_SHARD_ENTRIES", "1000000")),
            queries, min(1_000, queries))
        loads["at the end"] = load_average()
    publish(ROOT, "dask", res, started, loads, section)

if __name__ == "__main__":
    main()
