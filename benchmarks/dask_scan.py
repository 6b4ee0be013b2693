"""Distributed scan benchmark (issue 18): ``warding scan --dask`` with two workers against the
single-process ``warding scan`` on the same posts, in the same run.

Posts: the first ``WARDING_BENCH_DASK_POSTS`` (40,000) posts of
``../shared/data/everyday_tweets/posts.jsonl`` (real posts; generated neutral placeholders
without the data set), with the intake benchmark's bank (text fingerprints of 1% of them and
20,000 random MD5 hashes) and a trained model (``WARDING_BENCH_MODELS`` or trained first).

Each scan runs as a CLI command in a fresh process on a fresh database. The cluster is a real
``dask scheduler`` with two ``dask worker`` processes (one thread each) on this machine,
warmed by a small scan first (imports), as a running cluster would be. Measured: the scans
on SQLite (the client writes) and PostgreSQL (the workers write), their results compared
table by table, the same scan in 4× larger and 4× smaller partitions, the cost of one
partition apart from its posts (an empty one), and ``--dask local:2`` (cluster start-up
included).
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

from benchmarks.intake import WARDING, data_dir, make_posts, models, write_bank
from benchmarks.intake_http import cli

DEFAULT = 1 << 18  # bytes per partition (warding.distributed.partitions.PARTITION_BYTES)
SIZES = {"big": DEFAULT * 4, "small": DEFAULT // 4}


def scan(db: str, data: Path, posts: Path, bank: Path, *extra: str) -> dict[str, Any]:
    """One scan in a fresh process on a fresh database: seconds and summary."""
    cli(db, data, "init")
    cli(db, data, "bank", "import", "known", str(bank))
    args = [WARDING, "--db", db, "--data-dir", str(data), "scan", str(posts), "--source",
            "bench", "--json", *extra]
    t0 = time.perf_counter()
    proc = subprocess.run(args, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"scan {' '.join(extra)} failed: {proc.stderr[-2000:]}")
    summary = json.loads(proc.stdout)
    keep = ("items", "duplicates", "rejected", "matches", "classified", "cases_opened")
    notes = [n for n in summary["notes"] if "partitions" in n]
    return {"seconds": round(seconds, 2), "posts_per_s": round(summary["items"] / seconds, 1),
            **{k: summary[k] for k in keep}, "partitions": _partitions(notes)}


def _partitions(notes: list[str]) -> int | None:
    for note in notes:
        head = note.split(" partitions", 1)[0]
        if head.isdigit():
            return int(head)
    return None


def partition_cost(addr: str, db: str, data: Path, posts: Path, n: int = 50) -> float:
    """The cost of one partition apart from its posts: an empty partition (a zero-byte
    range) prepared on a warm worker and its result back, one after another, in ms."""
    from distributed import Client

    from warding.config import Settings
    from warding.distributed.partitions import Partition
    from warding.distributed.worker import prepare_partition, settings_data

    settings = settings_data(Settings(database_url=db, data_dir=data))
    empty = Partition(0, str(posts.resolve()), 0, 0, 1)
    with Client(addr) as client:
        client.submit(prepare_partition, settings, empty, "bench", "bench", pure=False).result()
        t0 = time.perf_counter()
        for _ in range(n):
            client.submit(prepare_partition, settings, empty, "bench", "bench",
                          pure=False).result()
        return round((time.perf_counter() - t0) / n * 1000, 1)


def same_results(a: str, b: str) -> bool:
    from tests.scan_results import snapshot

    return snapshot(a) == snapshot(b)


def bench(work: Path, n: int) -> dict[str, Any]:
    from tests import daskcluster

    res: dict[str, Any] = {}
    posts, res["posts_from"] = make_posts(n)
    res["posts"] = len(posts)
    posts_file = work / "posts.jsonl"
    posts_file.write_text("".join(json.dumps(p) + "\n" for p in posts), encoding="utf-8")
    warm_file = work / "warm.jsonl"
    warm_file.write_text("".join(json.dumps(dict(p, id=f"w{i}")) + "\n"
                                 for i, p in enumerate(posts[:2000])), encoding="utf-8")
    bank = work / "bank.txt"
    res["bank_entries"] = write_bank(posts, bank)
    trained, res["model"] = models(work)
    logs = work / "logs"
    logs.mkdir()
    cluster = daskcluster.start(2, logs)
    try:
        addr = cluster.address
        scan(f"sqlite:///{work / 'warm.db'}", data_dir(work, "warm", trained), warm_file, bank,
             "--dask", addr)
        dbs = {k: f"sqlite:///{work / (k + '.db')}" for k in ("single", "dask", *SIZES)}
        res["sqlite_single"] = scan(dbs["single"], data_dir(work, "single", trained),
                                    posts_file, bank)
        res["sqlite_dask"] = scan(dbs["dask"], data_dir(work, "dask", trained), posts_file,
                                  bank, "--dask", addr)
        res["sqlite_identical"] = same_results(dbs["single"], dbs["dask"])
        for name, size in SIZES.items():
            res[f"sqlite_dask_{name}"] = scan(dbs[name], data_dir(work, name, trained),
                                              posts_file, bank, "--dask", addr,
                                              "--partition-bytes", str(size))
            res[f"sqlite_{name}_identical"] = same_results(dbs["single"], dbs[name])
        res["partition_ms"] = partition_cost(addr, dbs["dask"], work / "dask", posts_file)
        res.update(_postgres(work, trained, posts_file, bank, addr, dbs["single"]))
    finally:
        cluster.stop()
    res["sqlite_local2"] = scan(f"sqlite:///{work / 'local.db'}", data_dir(work, "local", trained),
                                posts_file, bank, "--dask", "local:2")
    for key in ("dask", *(f"dask_{name}" for name in SIZES)):
        res[f"speedup_sqlite_{key}"] = round(res["sqlite_single"]["seconds"]
                                             / res[f"sqlite_{key}"]["seconds"], 2)
    res["speedup_sqlite"] = res["speedup_sqlite_dask"]
    if "pg_dask" in res:
        res["speedup_postgres"] = round(res["pg_single"]["seconds"] / res["pg_dask"]["seconds"],
                                        2)
    return res


def _postgres(work: Path, trained: Path, posts: Path, bank: Path, addr: str,
              sqlite_single: str) -> dict[str, Any]:
    from sqlalchemy import create_engine, text

    from tests import pgserver

    try:
        server = pgserver.start()
    except (RuntimeError, OSError) as exc:
        return {"postgres_skipped": f"PostgreSQL not available: {exc}"}
    try:
        admin = create_engine(server.url, isolation_level="AUTOCOMMIT")
        urls = {}
        with admin.connect() as conn:
            for name in ("single", "dask"):
                conn.execute(text(f'CREATE DATABASE "bench_{name}"'))
                urls[name] = server.url.rsplit("/", 1)[0] + f"/bench_{name}"
        admin.dispose()
        out = {"pg_single": scan(urls["single"], data_dir(work, "pg-single", trained), posts,
                                 bank),
               "pg_dask": scan(urls["dask"], data_dir(work, "pg-dask", trained), posts, bank,
                               "--dask", addr)}
        out["pg_identical"] = same_results(urls["single"], urls["dask"])
        out["pg_same_as_sqlite"] = same_results(urls["dask"], sqlite_single)
        return out
    finally:
        server.stop()
