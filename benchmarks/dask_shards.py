"""Sharded matching benchmark (issue 18): the bank index sharded on Dask workers against the
single-process index, in the same run.

A bank of ``WARDING_BENCH_SHARD_ENTRIES`` (1,000,000) random PDQ hashes is imported (SQLite).
Queries: stored hashes with 0-31 bits flipped, and random hashes (no match). Measured:

- the single-process index (``MatchEngine``): batched (1,000 queries a call) and single
  lookups/s;
- the sharded index with 1 worker (1 shard) and 2 workers (2 shards, one each), a real
  ``dask scheduler`` and ``dask worker`` processes: the same, and whether every answer is
  the single index's;
- what a lookup costs in one shard (the core of shard 0 of 2 searched in process) and a Dask
  round trip (a task that does nothing), the inputs of the projection to 100M hashes on 10
  machines (:func:`project`).
"""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any

from tests.test_matching_engine import _flip as near_pdq
from tests.test_matching_engine import _pdq as random_pdq

BATCH = 1000


def _rate(lookup: Any, queries: list[tuple[str, str]], batch: int) -> tuple[float, list[Any]]:
    answers: list[Any] = []
    t0 = time.perf_counter()
    for i in range(0, len(queries), batch):
        answers += lookup(queries[i:i + batch])
    return len(queries) / (time.perf_counter() - t0), answers


def round_trip_ms(client: Any, n: int = 200) -> float:
    """A task that does nothing (``len(())``: a builtin, which every worker has), submitted
    and awaited: the Dask overhead of one call."""
    client.submit(len, (), pure=False).result()
    t0 = time.perf_counter()
    for _ in range(n):
        client.submit(len, (), pure=False).result()
    return (time.perf_counter() - t0) / n * 1000


def bench(work: Path, entries: int, n_queries: int, n_single: int) -> dict[str, Any]:
    from distributed import Client

    from benchmarks.intake_http import cli
    from tests import daskcluster
    from warding.app import Warding
    from warding.config import Settings
    from warding.distributed.shards import ShardedIndex, open_shard
    from warding.matching.service import get_core, get_engine

    rng = random.Random(18)
    hashes = [random_pdq(rng) for _ in range(entries)]
    bank = work / "pdq.txt"
    bank.write_text("".join(f"pdq {h}\n" for h in hashes), encoding="utf-8")
    db, data = f"sqlite:///{work / 'shards.db'}", work / "shards-data"
    cli(db, data, "init")
    t0 = time.perf_counter()
    cli(db, data, "bank", "import", "hashes", str(bank))
    res: dict[str, Any] = {"entries": entries, "import_s": round(time.perf_counter() - t0, 1),
                           "queries": n_queries, "single_queries": n_single}
    queries = [("pdq", near_pdq(h, rng.randint(0, 31), rng)) for h in rng.sample(hashes,
                                                                             n_queries // 2)]
    queries += [("pdq", random_pdq(rng)) for _ in range(n_queries - len(queries))]
    rng.shuffle(queries)
    app = Warding(Settings(database_url=db, data_dir=data))
    t0 = time.perf_counter()
    engine = get_engine(app)
    res["single_open_s"] = round(time.perf_counter() - t0, 2)
    res["single_batched"], want = _rate(engine.lookup_many, queries, BATCH)
    res["single_single"], want_one = _rate(engine.lookup_many, queries[:n_single], 1)
    res["matches"] = sum(1 for a in want if a)
    # the index search alone (no entry details), in the whole index and in one of 2 shards
    for key, core in (("full", get_core(app)), ("half", open_shard(app, 0, 2))):
        rate = _rate(lambda q, c=core: [c.search("pdq", [v for _, v in q])], queries, BATCH)[0]
        res[f"search_{key}_ms"] = round(1000 / rate, 4)
    logs = work / "logs"
    logs.mkdir()
    cluster = daskcluster.start(1, logs)
    try:
        for workers in (1, 2):
            if workers == 2:
                cluster.add_worker()
                cluster.wait_for_workers(2)
            with Client(cluster.address) as client:
                index = ShardedIndex(client, app.settings, workers)
                t0 = time.perf_counter()
                index.warm()
                key = f"workers_{workers}"
                res[f"{key}_open_s"] = round(time.perf_counter() - t0, 2)
                rate, got = _rate(index.lookup_many, queries, BATCH)
                rate_one, got_one = _rate(index.lookup_many, queries[:n_single], 1)
                res[f"{key}_batched"], res[f"{key}_single"] = rate, rate_one
                res[f"{key}_same"] = got == want and got_one == want_one
                res["round_trip_ms"] = round(round_trip_ms(client), 2)
    finally:
        cluster.stop()
        app.close()
    for k, v in list(res.items()):
        if isinstance(v, float) and ("batched" in k or k.endswith("_single")):
            res[k] = round(v, 1)
    # what a fan-out adds per query beyond the search and one round trip (sending the
    # queries, pickling the answers, merging): 1 worker, 1 shard against the same index
    res["fanout_ms_per_query"] = round(max(0.0, 1000 / res["workers_1_batched"]
                                           - 1000 / res["single_batched"]
                                           - res["round_trip_ms"] / BATCH), 4)
    res["projection"] = project(res)
    return res


#: Inputs of the projection that this run does not measure, with where they come from.
LAN_RTT_MS = 0.5  # one round trip between two machines of a data-centre network (assumed)
C_10M_BATCHED_MS = 1000 / 5233  # docs/benchmarks.md, issue 3: 10M PDQ, batched, this machine
C_10M_SINGLE_MS = 1000 / 2281  # the same, one lookup per call


def project(res: dict[str, Any], machines: int = 10, total: int = 100_000_000) -> dict[str, Any]:
    """100M PDQ hashes on ``machines`` machines, one 10M shard each (by entry: every query
    goes to every shard). A fan-out of B queries costs one shard's search of B queries (the
    shards work in parallel) + a network round trip + the Dask overhead of a task + merging;
    each machine searches every query, so the cluster serves what one 10M shard serves, with
    10x the hashes (more throughput comes from replicas of the shard set, not more shards)."""
    per_shard = total // machines
    overhead = float(res["round_trip_ms"]) + LAN_RTT_MS
    merge_ms = float(res["fanout_ms_per_query"])
    batch_ms = BATCH * C_10M_BATCHED_MS + overhead + BATCH * merge_ms
    single_ms = C_10M_SINGLE_MS + overhead
    return {"machines": machines, "hashes": total, "per_shard": per_shard,
            "batched_latency_ms": round(batch_ms, 1),
            "batched_lookups_per_s_one_client": round(BATCH / batch_ms * 1000),
            "batched_capacity_per_s": round(1000 / C_10M_BATCHED_MS),
            "single_latency_ms": round(single_ms, 2),
            "single_lookups_per_s_one_client": round(1000 / single_ms),
            "memory_per_machine_gb": round(1.03 * per_shard / 10_000_000, 2)}
