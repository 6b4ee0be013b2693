"""Intake benchmark (issue 13): ``warding scan`` and ``POST /api/items`` against
``warding classify --jsonl`` on the same posts, in one run.

    python -m benchmarks.intake        (or: make bench-intake)

Posts: the first ``WARDING_BENCH_INTAKE_POSTS`` (30,000) texts of
``../shared/data/everyday_tweets/posts.jsonl`` (everyday tweets in seven languages),
read at run time and never written into the repository; without the data set,
generated neutral placeholder posts. Each post has an id, an account, a time, a
language and its text. A bank ``known`` holds the text fingerprints of 1% of the posts
plus 20,000 random MD5 hashes, so lookups find something and open cases.

Measured, each in a fresh process and a fresh database: ``warding classify --jsonl``;
``warding scan`` on SQLite and on PostgreSQL (a throw-away server, as the tests start,
with fsync off), its time to the first stored item, and the same scan again (everything
a duplicate); ``POST /api/items`` to ``warding serve`` (SQLite) in batches of 500 and one
post per request; and ``kill -9`` of the server while a client posts batches,
``WARDING_BENCH_INTAKE_KILLS`` (20) times. Writes the ``intake`` section of
docs/benchmarks.md.

A trained model is needed: ``WARDING_BENCH_MODELS`` names a models folder to reuse
(its ``baseline/`` is copied); otherwise one is trained first (``warding model train``,
about 1.5 minutes).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.common import load_average, machine
from benchmarks.intake_http import Server, api_key, cli, kill_loop, post_batches, post_singles
from benchmarks.sections import publish

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("WARDING_SHARED_DATA_DIR", ROOT.parent / "shared" / "data"))
WARDING = str(Path(sys.executable).with_name("warding"))
PLACEHOLDER = ("Neutral placeholder post {n} about gardens, trains, recipes and the weather "
               "in town this week.")


def make_posts(n: int) -> tuple[list[dict[str, Any]], str]:
    src = SHARED / "everyday_tweets" / "posts.jsonl"
    posts: list[dict[str, Any]] = []
    if src.exists():
        with src.open(encoding="utf-8") as fh:
            for line in fh:
                rec = json.loads(line)
                i = len(posts)
                posts.append({"id": f"b{i}", "account": f"acct{i % 997}",
                              "time": f"2026-01-{1 + i % 28:02d}T12:00:00Z",
                              "lang": rec.get("lang"), "text": rec["text"]})
                if len(posts) >= n:
                    break
        where = f"the first {len(posts):,} posts of everyday_tweets/posts.jsonl"
    if len(posts) < n:
        posts += [{"id": f"b{i}", "account": f"acct{i % 997}", "time": "2026-01-01T12:00:00Z",
                   "lang": "en", "text": PLACEHOLDER.format(n=i)} for i in range(len(posts), n)]
        where = "generated neutral placeholder posts" if not src.exists() else where
    return posts, where


def write_bank(posts: list[dict[str, Any]], path: Path) -> int:
    from warding.signals.text import TextSignal

    rng = random.Random(7)
    sig = TextSignal()
    lines = []
    for p in posts[::100]:
        value = sig.compute(p["text"])
        if value:
            lines.append(f"text {value}")
    lines += [f"md5 {rng.getrandbits(128):032x}" for _ in range(20_000)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(lines)


def timed(args: list[str], out: Path | None = None) -> float:
    t0 = time.perf_counter()
    with (out.open("wb") if out else open(os.devnull, "wb")) as sink:
        subprocess.run(args, stdout=sink, stderr=subprocess.PIPE, check=True)
    return time.perf_counter() - t0


def first_item_poller(db: str) -> Any:
    """A function giving the item count (SQLite file or PostgreSQL URL), 0 when not ready."""
    if db.startswith("sqlite:///"):
        path = db.removeprefix("sqlite:///")

        def count_sqlite() -> int:
            try:
                con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=0.05)
                try:
                    return int(con.execute("SELECT count(*) FROM content_items").fetchone()[0])
                finally:
                    con.close()
            except sqlite3.Error:
                return 0
        return count_sqlite
    from sqlalchemy import create_engine, text

    engine = create_engine(db)

    def count_pg() -> int:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM content_items")).scalar_one())
    return count_pg


def bench_scan(db: str, data: Path, posts_file: Path, bank_file: Path) -> dict[str, Any]:
    cli(db, data, "init")
    cli(db, data, "bank", "import", "known", str(bank_file))
    count = first_item_poller(db)
    args = [WARDING, "--db", db, "--data-dir", str(data), "scan", str(posts_file),
            "--source", "bench", "--json"]
    t0 = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = None
    while proc.poll() is None:
        if first is None and count() > 0:
            first = time.perf_counter() - t0
        time.sleep(0.01)
    wall = time.perf_counter() - t0
    out, err = proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"scan failed: {err.decode()[-2000:]}")
    summary = json.loads(out)
    t1 = time.perf_counter()
    again = json.loads(subprocess.run(args, capture_output=True, check=True).stdout)
    rerun = time.perf_counter() - t1
    return {"seconds": round(wall, 2), "posts_per_s": round(summary["items"] / wall, 1),
            "first_item_s": round(first, 2) if first is not None else None,
            "items": summary["items"], "cases": summary["cases_opened"],
            "matches": summary["matches"], "rerun_seconds": round(rerun, 2),
            "rerun_duplicates": again["duplicates"], "rerun_items": again["items"]}


def models(work: Path) -> tuple[Path, str]:
    given = os.environ.get("WARDING_BENCH_MODELS")
    target = work / "models-data"
    if given:
        shutil.copytree(Path(given) / "baseline", target / "models" / "baseline")
        how = "an existing model (WARDING_BENCH_MODELS)"
    else:
        t0 = time.perf_counter()
        cli(f"sqlite:///{work / 'train.db'}", target, "init")
        cli(f"sqlite:///{work / 'train.db'}", target, "model", "train", "--data", str(SHARED))
        how = f"trained by this run in {time.perf_counter() - t0:.0f} s"
    card = json.loads((target / "models" / "baseline" / "model.json").read_text("utf-8"))
    return target, f"`{card.get('model', '?')}`, {how}"


def data_dir(work: Path, name: str, trained: Path) -> Path:
    d = work / name
    shutil.copytree(trained / "models", d / "models")
    return d


def main() -> None:
    n = int(os.environ.get("WARDING_BENCH_INTAKE_POSTS", 30_000))
    kills = int(os.environ.get("WARDING_BENCH_INTAKE_KILLS", 20))
    singles = int(os.environ.get("WARDING_BENCH_INTAKE_SINGLES", 2_000))
    started = datetime.now(UTC)
    loads = {"start": load_average()}
    res: dict[str, Any] = {"machine": machine()}
    with tempfile.TemporaryDirectory(prefix="warding-bench-intake-") as tmp:
        work = Path(tmp)
        posts, where = make_posts(n)
        res["posts"], res["posts_from"] = len(posts), where
        posts_file = work / "posts.jsonl"
        posts_file.write_text("".join(json.dumps(p) + "\n" for p in posts), encoding="utf-8")
        bank_file = work / "bank.txt"
        res["bank_entries"] = write_bank(posts, bank_file)
        trained, res["model"] = models(work)
        # classify --jsonl: the reference rate
        d = data_dir(work, "classify", trained)
        t = timed([WARDING, "--db", f"sqlite:///{work / 'c.db'}", "--data-dir", str(d),
                   "classify", "--jsonl", str(posts_file)])
        res["classify"] = {"seconds": round(t, 2), "posts_per_s": round(len(posts) / t, 1)}
        loads["after classify"] = load_average()
        res["scan_sqlite"] = bench_scan(f"sqlite:///{work / 's.db'}",
                                        data_dir(work, "s", trained), posts_file, bank_file)
        loads["after the SQLite scan"] = load_average()
        res["scan_postgres"] = bench_postgres(work, trained, posts_file, bank_file)
        loads["after the PostgreSQL scan"] = load_average()
        res.update(bench_http(work, trained, posts, bank_file, singles))
        loads["after the HTTP runs"] = load_average()
        db = f"sqlite:///{work / 'k.db'}"
        dk = data_dir(work, "k", trained)
        cli(db, dk, "init")
        key = api_key(db, dk)
        crash_posts = [dict(p, id=f"k{i}") for i, p in enumerate(posts[:20_000])]
        res["kill_loop"] = kill_loop(db, dk, key, work / "kill.log", crash_posts, kills)
        loads["at the end"] = load_average()
    from benchmarks.intake_report import section

    publish(ROOT, "intake", res, started, loads, section)


def bench_postgres(work: Path, trained: Path, posts_file: Path,
                   bank_file: Path) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    try:
        from tests import pgserver
    except ImportError as exc:
        return {"skipped": f"tests/pgserver.py not importable: {exc}"}
    try:
        server = pgserver.start()
    except (RuntimeError, OSError) as exc:
        return {"skipped": f"PostgreSQL not available: {exc}"}
    try:
        return bench_scan(server.url, data_dir(work, "pg", trained), posts_file, bank_file)
    finally:
        server.stop()


def bench_http(work: Path, trained: Path, posts: list[dict[str, Any]], bank_file: Path,
               singles: int) -> dict[str, Any]:
    db = f"sqlite:///{work / 'h.db'}"
    d = data_dir(work, "h", trained)
    cli(db, d, "init")
    cli(db, d, "bank", "import", "known", str(bank_file))
    key = api_key(db, d)
    server = Server(db, d, work / "serve.log")
    ready = server.start()
    try:
        warm = [dict(p, id=f"w{i}") for i, p in enumerate(posts[:1000])]
        post_batches(server.url, key, warm, 500, "warmup")  # the first request loads the model
        batches = post_batches(server.url, key, posts, 500, "bench")
        again = post_batches(server.url, key, posts, 500, "bench")
        ones = [dict(p, id=f"one{i}") for i, p in enumerate(posts[:singles])]
        single = post_singles(server.url, key, ones, "single")
    finally:
        server.kill(15)
    return {"serve_ready_s": round(ready, 2), "http_batches": batches,
            "http_batches_again": again, "http_single": single}


if __name__ == "__main__":
    main()
