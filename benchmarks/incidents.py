"""Incident response benchmarks (issue 20): ``make bench-incidents``.

1. **Retroactive PDQ matching**: N stored item PDQ signals (``BENCH_RETRO_SIZES``, default
   1,000,000), 1,000 new hashes (100 of them near copies of stored items, within 0..25
   bits, the rest random); the run's time and peak memory (in a fresh process), and, at
   the sizes up to ``BENCH_RETRO_EXACT_MAX`` (1M), the same matches found by scanning
   every stored signal again through the full live index (exactness), with its time.
2. **Retroactive text_semantic matching**: 100 new bank texts against ``BENCH_RETRO_POSTS``
   stored posts (default 10,000: embedding runs at ~230 texts/s on this machine, so 1M
   posts is projected, not run): first run (embeds the posts) and second (vectors kept).
3. **Import to first retroactive case on a running server**: ``warding serve`` over
   100,000 stored items; ``bank import --no-retro`` of 1,000 hashes, then the seconds until
   the server's background worker opens the first retroactive case.
4. **A surge**: 10,000 copies of one picture (re-encoded, resized, bannered: real PDQ
   hashes of generated variants) among 100,000 other items; the reviewer actions needed
   to decide them all with cluster decisions, and the cases left undecided.

Item rows are written straight into SQLite (the pipeline's own cost is measured by
``make bench``); everything else goes through Warding's services.
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.common import emit, env_int, env_list, load_average, peak_rss_mb, run_job

OUT = Path(tempfile.gettempdir()) / "warding-bench-incidents.json"


def _app(db: Path, data: Path, **settings: Any) -> Any:
    from warding.app import Warding

    return Warding.from_env(database_url=f"sqlite:///{db}", data_dir=data,
                            semantic_matching=settings.pop("semantic_matching", False),
                            **settings)


def _init(work: Path) -> tuple[Path, Path]:
    from warding.setup import initialise

    db, data = work / "bench.db", work / "data"
    w = _app(db, data)
    initialise(w, actor="bench")
    w.close()
    return db, data


def _ts(d: datetime) -> str:
    return d.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")


def fill_items(db: Path, values: list[tuple[str, str]], *, texts: list[str] | None = None,
               start: datetime | None = None) -> None:
    """Items with one signal each (type, value), ingested over the last day."""
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("DROP INDEX IF EXISTS ix_signals_type_value")
    base = start or datetime.now(UTC) - timedelta(days=1)
    first = (conn.execute("SELECT MAX(id) FROM content_items").fetchone()[0] or 0) + 1
    n = len(values)
    step = 86_400 / max(n, 1)
    chunk = 200_000
    for lo in range(0, n, chunk):
        hi = min(n, lo + chunk)
        conn.executemany(
            "INSERT INTO content_items (id, source, external_id, kind, text, outlinks, metadata,"
            " input_ref, ingested_at) VALUES (?, 'bench', ?, 'post', ?, '[]', '{}', ?, ?)",
            [(first + i, f"b{first + i}", texts[i] if texts else None, f"b{first + i}",
              _ts(base + timedelta(seconds=i * step))) for i in range(lo, hi)])
        conn.executemany(
            "INSERT INTO signals (item_id, signal_type, value, origin) VALUES (?, ?, ?, 'media')",
            [(first + i, values[i][0], values[i][1]) for i in range(lo, hi) if values[i][1]])
        conn.commit()
    conn.execute("CREATE INDEX ix_signals_type_value ON signals (signal_type, value)")
    conn.commit()
    conn.close()


def _flip(value: str, bits: int, rng: random.Random) -> str:
    x = int(value, 16)
    for b in rng.sample(range(256), bits):
        x ^= 1 << b
    return f"{x:064x}"


# -- 1. PDQ --------------------------------------------------------------------------------
def pdq_job(size: int, work: Path) -> dict[str, Any]:
    """Fill, import 1,000 hashes, run retro (this process is fresh: its peak is the run's plus
    the fill's, so the fill runs in a child first)."""
    rng = random.Random(size)
    db, data = _init(work)
    values = [os.urandom(32).hex() for _ in range(size)]
    t = time.perf_counter()
    fill_items(db, [("pdq", v) for v in values])
    fill_s = time.perf_counter() - t
    near = [_flip(values[rng.randrange(size)], rng.randrange(0, 26), rng) for _ in range(100)]
    new = near + [os.urandom(32).hex() for _ in range(900)]
    (work / "hashes.txt").write_text("".join(f"pdq {h}\n" for h in new))
    del values
    return {"fill_s": round(fill_s, 1), "db": str(db), "data": str(data),
            "hashes": str(work / "hashes.txt")}


def pdq_retro(db: str, data: str, hashes: str) -> None:
    from warding.banks.bulk import import_path
    from warding.incidents.runs import run_for_bank

    w = _app(Path(db), Path(data))
    import_path(w, "incident", Path(hashes), actor="bench")
    before = peak_rss_mb()
    t = time.perf_counter()
    summary = run_for_bank(w, "incident", trigger="bench", actor="bench")
    secs = time.perf_counter() - t
    emit({"retro_s": round(secs, 2), "peak_rss_mb": round(peak_rss_mb(), 1),
          "rss_before_mb": round(before, 1), **summary.as_json()})


def pdq_exact(db: str, data: str) -> None:
    """Scan every stored signal again through the full live index; compare with retro's."""
    from sqlalchemy import select

    from warding.db.models import Match, Signal
    from warding.matching.service import get_engine

    w = _app(Path(db), Path(data))
    t = time.perf_counter()
    engine = get_engine(w)
    found: set[tuple[int, int]] = set()
    with w.engine.connect() as conn:
        rows = conn.execution_options(yield_per=100_000).execute(
            select(Signal.item_id, Signal.value).where(Signal.signal_type == "pdq"))
        for part in rows.partitions(100_000):
            res = engine.lookup_many([("pdq", v) for _, v in part])
            for (item_id, _), hits in zip(part, res, strict=True):
                for h in hits:
                    found.add((int(item_id), int(h.entry_id)))
    secs = time.perf_counter() - t
    with w.engine.connect() as conn:
        retro = {(int(a), int(b)) for a, b in conn.execute(
            select(Match.item_id, Match.entry_id).where(Match.signal_type == "pdq"))}
    emit({"rescan_s": round(secs, 2), "rescan_matches": len(found),
          "retro_matches": len(retro), "same": found == retro,
          "peak_rss_mb": round(peak_rss_mb(), 1)})


def bench_pdq(size: int, exact_max: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-retro-") as tmp:
        made = run_job("benchmarks.incidents", "pdq-fill", str(size), tmp, timeout=7200)
        out = {"stored_signals": size, "new_hashes": 1000, "fill_s": made["fill_s"]}
        out.update(run_job("benchmarks.incidents", "pdq-retro", made["db"], made["data"],
                           made["hashes"], timeout=7200))
        if size <= exact_max:
            out["exact"] = run_job("benchmarks.incidents", "pdq-exact", made["db"],
                                   made["data"], timeout=7200)
        return out


# -- 2. text_semantic ----------------------------------------------------------------------
DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def _corpus(posts: int) -> tuple[list[str], list[str], int]:
    """(stored posts, new bank texts, planted): everyday tweets as the stored posts, with 50
    sentences of the parallel set planted among them; the bank gets their English
    translations (to be found) and 50 tweets that are not stored."""
    tweets = [json.loads(line)["text"] for line in
              (DATA / "everyday_tweets" / "posts.jsonl").read_text(encoding="utf-8").splitlines()
              if line.strip()]
    pairs = [json.loads(line) for line in
             (DATA / "parallel" / "tatoeba_pairs.jsonl").read_text(encoding="utf-8").splitlines()
             if line.strip()]
    rng = random.Random(7)
    rng.shuffle(pairs)
    planted = pairs[:50]
    stored = tweets[:max(0, posts - 50)] + [p["text_a"] for p in planted]
    rng.shuffle(stored)
    new = [p["text_b"] for p in planted] + tweets[-50:]
    return stored, new, len(planted)


def semantic_job(posts: int, work_dir: str) -> None:
    from sqlalchemy import func, select

    from tests.conftest import bank_of_texts
    from warding.db.models import Match
    from warding.incidents.runs import run_for_bank

    work = Path(work_dir)
    db, data = _init(work)
    texts, new, planted = _corpus(posts)
    fill_items(db, [("text", "") for _ in texts], texts=texts)
    w = _app(db, data, semantic_matching=True)
    bank_of_texts(w, "texts", new)
    t0 = time.perf_counter()
    first = run_for_bank(w, "texts", actor="bench")
    first_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    second = run_for_bank(w, "texts", actor="bench")
    second_s = time.perf_counter() - t0
    with w.engine.connect() as conn:
        items = {int(i): t for i, t in conn.execute(
            __import__("sqlalchemy").text("SELECT id, text FROM content_items"))}
        found = conn.execute(select(Match.item_id).where(
            Match.signal_type == "text_semantic")).scalars().all()
        n_sem = conn.execute(select(func.count(Match.id)).where(
            Match.signal_type == "text_semantic")).scalar()
    emit({"stored_posts": len(texts), "new_texts": len(new), "first_s": round(first_s, 1),
          "second_s": round(second_s, 2), "matches": first.matches,
          "semantic_matches": n_sem, "items_matched": len(set(found)),
          "second_matches": second.matches, "planted_translations": planted,
          "planted_found": _planted_found(items, set(found), work),
          "peak_rss_mb": round(peak_rss_mb(), 1)})


def semantic_kept_job(posts: int, work_dir: str, base: int) -> None:
    """100 new texts against ``posts`` stored posts whose sentence vectors a scan kept
    (``WARDING_RETRO_KEEP_VECTORS``): the run embeds nothing; its cost is reading the vectors
    and one matrix product per page. The vectors are those of ``base`` real everyday tweets
    (embedded here) with a little noise each, so that ``posts`` distinct vectors exist without
    embedding them all; the 50 planted sentences keep their own real vectors."""
    import numpy as np
    from sqlalchemy import func, select

    from tests.conftest import bank_of_texts
    from warding.db.models import Match
    from warding.incidents.runs import run_for_bank
    from warding.signals.embedding import get_embedder

    work = Path(work_dir)
    db, data = _init(work)
    tweets, new, _ = _corpus(base + 50)
    pairs = [json.loads(line) for line in
             (DATA / "parallel" / "tatoeba_pairs.jsonl").read_text(encoding="utf-8").splitlines()
             if line.strip()]
    rng_p = random.Random(7)
    rng_p.shuffle(pairs)
    planted_texts = [p["text_a"] for p in pairs[:50]]
    tweets = [t for t in tweets if t not in set(planted_texts)][:base]
    embedder = get_embedder()
    t0 = time.perf_counter()
    base_vecs = np.asarray(embedder.encode(tweets), dtype=np.float32)
    planted_vecs = np.asarray(embedder.encode(planted_texts), dtype=np.float32)
    embed_s = time.perf_counter() - t0
    rng = np.random.default_rng(20)
    where = set(rng.choice(posts, size=50, replace=False).tolist())
    texts = [tweets[i % len(tweets)] for i in range(posts)]
    order = sorted(where)
    for k, i in enumerate(order):
        texts[i] = planted_texts[k]
    fill_items(db, [("text", "") for _ in range(posts)], texts=texts)
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA synchronous=OFF")
    first = conn.execute("SELECT MIN(id) FROM content_items").fetchone()[0]
    t0 = time.perf_counter()
    chunk = 50_000
    for lo in range(0, posts, chunk):
        hi = min(posts, lo + chunk)
        idx = np.arange(lo, hi) % len(tweets)
        vecs = base_vecs[idx] + rng.normal(0, 0.01, (hi - lo, base_vecs.shape[1])).astype(
            np.float32)
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        for i in range(lo, hi):
            if i in where:
                vecs[i - lo] = planted_vecs[order.index(i)]
        conn.executemany("INSERT INTO retro_item_vectors (item_id, model, vector) VALUES (?, ?, ?)",
                         [(first + i, embedder.name, vecs[i - lo].tobytes())
                          for i in range(lo, hi)])
        conn.commit()
    conn.close()
    fill_s = time.perf_counter() - t0
    w = _app(db, data, semantic_matching=True)
    bank_of_texts(w, "texts", new)
    rss_before = peak_rss_mb()
    t0 = time.perf_counter()
    run = run_for_bank(w, "texts", actor="bench")
    run_s = time.perf_counter() - t0
    with w.engine.connect() as conn2:
        pairs_found = set(conn2.execute(select(Match.item_id, Match.entry_id).where(
            Match.signal_type == "text_semantic")).tuples())
        found = {i for i, _ in pairs_found}
        n_sem = conn2.execute(select(func.count(Match.id)).where(
            Match.signal_type == "text_semantic")).scalar()
    t0 = time.perf_counter()
    brute = _brute_force_pairs(db, w)
    brute_s = time.perf_counter() - t0
    emit({"exact": brute == pairs_found, "brute_force_pairs": len(brute),
          "brute_force_s": round(brute_s, 1), "stored_posts": posts, "new_texts": len(new), "base_tweets_embedded": len(tweets),
          "embed_s": round(embed_s, 1), "vectors_written_s": round(fill_s, 1),
          "run_s": round(run_s, 1), "matches": run.matches, "semantic_matches": n_sem,
          "planted": 50, "planted_found": len({first + i for i in where} & found),
          "items_checked": run.items_checked, "peak_rss_before_run_mb": round(rss_before, 1),
          "peak_rss_mb": round(peak_rss_mb(), 1)})


def _brute_force_pairs(db: Path, w: Any) -> set[tuple[int, int]]:
    """(item, entry) of every kept item vector against every bank text vector at or above the
    threshold, by numpy over all of them (what matching everything again finds)."""
    import numpy as np

    from warding.matching.semantic import bank_threshold

    conn = sqlite3.connect(db)
    bank = conn.execute("SELECT entry_id, vector FROM semantic_bank_texts").fetchall()
    ids = [int(e) for e, _ in bank]
    matrix = np.vstack([np.frombuffer(v, dtype=np.float32) for _, v in bank])
    threshold = bank_threshold({}, w.settings.semantic_threshold)
    out: set[tuple[int, int]] = set()
    last = 0
    while True:
        rows = conn.execute("SELECT item_id, vector FROM retro_item_vectors WHERE item_id > ? "
                            "ORDER BY item_id LIMIT 50000", (last,)).fetchall()
        if not rows:
            break
        last = rows[-1][0]
        vecs = np.vstack([np.frombuffer(v, dtype=np.float32) for _, v in rows])
        for r, c in zip(*np.nonzero(vecs @ matrix.T >= threshold), strict=True):
            out.add((int(rows[r][0]), ids[c]))
    conn.close()
    return out


def _planted_found(items: dict[int, str], found: set[int], work: Path) -> int:
    pairs = [json.loads(line) for line in
             (DATA / "parallel" / "tatoeba_pairs.jsonl").read_text(encoding="utf-8").splitlines()
             if line.strip()]
    rng = random.Random(7)
    rng.shuffle(pairs)
    planted = {p["text_a"] for p in pairs[:50]}
    return sum(1 for i in found if items.get(i) in planted)


# -- 3. import -> first retroactive case on a running server -------------------------------
def bench_server(items: int = 100_000) -> dict[str, Any]:
    import socket

    with tempfile.TemporaryDirectory(prefix="bench-serve-") as tmp:
        work = Path(tmp)
        db, data = _init(work)
        values = [os.urandom(32).hex() for _ in range(items)]
        fill_items(db, [("pdq", v) for v in values])
        rng = random.Random(3)
        new = [_flip(values[rng.randrange(items)], 4, rng) for _ in range(10)] + [
            os.urandom(32).hex() for _ in range(990)]
        (work / "h.txt").write_text("".join(f"pdq {h}\n" for h in new))
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        env = {**os.environ, "WARDING_DATABASE_URL": f"sqlite:///{db}",
               "WARDING_DATA_DIR": str(data), "WARDING_SEMANTIC_MATCHING": "false",
               "WARDING_RETRO_POLL_SECONDS": "0.5"}
        server = subprocess.Popen([sys.executable, "-m", "warding", "serve", "--port", str(port)],
                                  env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            import urllib.request

            deadline = time.time() + 120
            while time.time() < deadline:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=2)
                    break
                except OSError:
                    time.sleep(0.2)
            time.sleep(2)  # the worker's first pass sets its cursor
            t0 = time.time()
            subprocess.run([sys.executable, "-m", "warding", "bank", "import", "incident",
                            str(work / "h.txt"), "--no-retro"], env=env, check=True,
                           capture_output=True)
            imported = time.time() - t0
            conn = sqlite3.connect(db)
            first = None
            while time.time() - t0 < 600:
                row = conn.execute("SELECT MIN(found_at) FROM retro_matches").fetchone()
                if row and row[0]:
                    first = time.time() - t0
                    break
                time.sleep(0.1)
            conn.close()
        finally:
            server.terminate()
            server.wait(timeout=30)
        return {"stored_items": items, "hashes": 1000, "import_s": round(imported, 2),
                "import_to_first_case_s": round(first, 2) if first else None}


# -- 4. a surge ----------------------------------------------------------------------------
def bench_surge(copies: int = 10_000, others: int = 100_000, distinct: int = 300,
                threshold: int = 31) -> dict[str, Any]:
    from sqlalchemy import func, select

    from warding.banks.records import EntryRecord
    from warding.banks.service import add_records, create_bank
    from warding.db.models import Case
    from warding.demo import content, surge
    from warding.incidents.clusters import SAMPLE, clusters, decide_cluster
    from warding.incidents.runs import run_for_bank
    from warding.incidents.service import create_incident, get_incident
    from warding.review.decisions import DecisionInput
    from warding.signals import compute

    with tempfile.TemporaryDirectory(prefix="bench-surge-") as tmp:
        work = Path(tmp)
        db, data = _init(work)
        w = _app(db, data)
        known = content.make_image(7)  # its bannered copies drift past 31 bits now and then
        types = w.signal_types

        def pdq(b: bytes) -> str:
            return next(s.value for s in compute.for_bytes(types, b, "image/png", "m")
                        if s.signal_type == "pdq")

        t0 = time.perf_counter()
        variants = [pdq(surge.variant(known, k)) for k in range(distinct)]
        hash_s = time.perf_counter() - t0
        rng = random.Random(5)
        rows = [("pdq", variants[rng.randrange(distinct)]) for _ in range(copies)]
        rows += [("pdq", os.urandom(32).hex()) for _ in range(others)]
        rng.shuffle(rows)
        fill_items(db, rows)
        with w.transaction() as session:
            create_bank(session, "surge", actor="bench", thresholds={"pdq": threshold})
        with w.transaction() as session:
            from warding.banks.service import get_bank

            add_records(session, get_bank(session, "surge"),
                        [EntryRecord(signals=[("pdq", pdq(content.png_bytes(known)))],
                                     labels={}, provenance="bench", ref="k")],
                        types, actor="bench", how="import")
            create_incident(session, name="surge", banks=["surge"], actor="bench",
                            started_at=datetime.now(UTC) - timedelta(days=2))
        t0 = time.perf_counter()
        summary = run_for_bank(w, "surge", actor="bench")
        retro_s = time.perf_counter() - t0
        actions = 0
        t0 = time.perf_counter()
        with w.transaction() as session:
            found = clusters(session, get_incident(session, "surge"), threshold)
        for c in found:
            seen = [s["case_id"] for s in c["sample"]]
            actions += 1 + len(seen)  # one decision, after viewing the sample
            decide_cluster(w, "surge", c["entry_id"], threshold,
                           DecisionInput(violating=True, reason="copy of the incident's material",
                                         category="perpetrator_content"),
                           sample_seen=seen, actor="bench", reviewer_id=None, run_actions=False)
        decide_s = time.perf_counter() - t0
        with w.transaction() as session:
            open_left = session.execute(select(func.count(Case.id))
                                        .where(Case.status == "open")).scalar()
            cased = session.execute(select(func.count(Case.id))).scalar()
        return {"copies": copies, "others": others, "pdq_threshold": threshold,
                "distinct_variants_hashed": distinct,
                "variant_hashing_s": round(hash_s, 1), "retro_s": round(retro_s, 1),
                "copies_found": summary.matches, "copies_not_found": copies - summary.matches,
                "cases": cased, "clusters": len(found), "sample_per_cluster": SAMPLE,
                "reviewer_actions": actions, "decide_s": round(decide_s, 1),
                "cases_left_undecided": open_left}


def main() -> None:
    cmd = sys.argv[1] if len(sys.argv) > 1 else "all"
    if cmd == "pdq-fill":
        emit(pdq_job(int(sys.argv[2]), Path(sys.argv[3])))
        return
    if cmd == "pdq-retro":
        pdq_retro(*sys.argv[2:5])
        return
    if cmd == "pdq-exact":
        pdq_exact(*sys.argv[2:4])
        return
    if cmd == "semantic":
        semantic_job(int(sys.argv[2]), sys.argv[3])
        return
    if cmd == "semantic-kept":
        semantic_kept_job(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]))
        return
    results: dict[str, Any] = {"load_average_before": load_average(),
                               "started": datetime.now(UTC).isoformat(timespec="seconds")}
    parts = set(os.environ.get("BENCH_INCIDENTS_PARTS",
                               "pdq,semantic,semantic-kept,server,surge").split(","))
    if "pdq" in parts:
        exact_max = env_int("BENCH_RETRO_EXACT_MAX", 1_000_000)
        results["pdq"] = [bench_pdq(n, exact_max)
                          for n in env_list("BENCH_RETRO_SIZES", "1000000")]
        print(json.dumps(results["pdq"]), flush=True)
    if "semantic" in parts:
        with tempfile.TemporaryDirectory(prefix="bench-sem-") as tmp:
            results["semantic"] = run_job("benchmarks.incidents", "semantic",
                                          str(env_int("BENCH_RETRO_POSTS", 10_000)), tmp,
                                          timeout=7200)
        print(json.dumps(results["semantic"]), flush=True)
    if "semantic-kept" in parts:
        with tempfile.TemporaryDirectory(prefix="bench-semkept-") as tmp:
            results["semantic_kept"] = run_job(
                "benchmarks.incidents", "semantic-kept",
                str(env_int("BENCH_RETRO_KEPT_POSTS", 1_000_000)), tmp,
                str(env_int("BENCH_RETRO_KEPT_BASE", 10_000)), timeout=7200)
        print(json.dumps(results["semantic_kept"]), flush=True)
    if "server" in parts:
        results["server"] = bench_server(env_int("BENCH_SERVER_ITEMS", 100_000))
        print(json.dumps(results["server"]), flush=True)
    if "surge" in parts:
        results["surge"] = [bench_surge(env_int("BENCH_SURGE_COPIES", 10_000),
                                        env_int("BENCH_SURGE_OTHERS", 100_000), threshold=t)
                            for t in env_list("BENCH_SURGE_THRESHOLDS", "31,40")]
        print(json.dumps(results["surge"]), flush=True)
    results["load_average_after"] = load_average()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
