"""HTTP parts of the intake benchmark: ``warding serve`` as a child process, batched and
single-post ``POST /api/items``, and the kill -9 loop. Requests go only to 127.0.0.1."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, func, select

from benchmarks.common import percentile
from warding.db.models import ContentItem

HOST = "127.0.0.1"
WARDING = str(Path(sys.executable).with_name("warding"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def cli(db: str, data: Path, *args: str, stdin: str | None = None) -> str:
    proc = subprocess.run([WARDING, "--db", db, "--data-dir", str(data), *args], input=stdin,
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"warding {' '.join(args)}: {proc.stderr[-2000:]}")
    return proc.stdout


def api_key(db: str, data: Path) -> str:
    cli(db, data, "user", "create", "platform", "--role", "api", "--password-stdin",
        stdin="a long benchmark password\n")
    return cli(db, data, "user", "api-key", "platform").strip()


class Server:
    """``warding serve`` on a free port of 127.0.0.1 (action worker off)."""

    def __init__(self, db: str, data: Path, log: Path) -> None:
        self.db, self.data, self.log = db, data, log
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self, timeout: float = 120) -> float:
        """Start and wait for ``/status``; seconds it took."""
        env = dict(os.environ, WARDING_ACTION_WORKER_INTERVAL="0")
        t0 = time.perf_counter()
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [WARDING, "--db", self.db, "--data-dir", str(self.data), "serve", "--host", HOST,
                 "--port", str(self.port)], env=env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                if httpx.get(self.url + "/status", timeout=1).status_code == 200:
                    return time.perf_counter() - t0
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.kill()
        raise RuntimeError("warding serve did not start: " + self.log.read_text()[-2000:])

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(60)
        self.proc = None


def post_batches(url: str, key: str, posts: Sequence[dict[str, Any]], size: int,
                 source: str) -> dict[str, Any]:
    """Send every post in batches of ``size`` (one client, keep-alive); posts/s."""
    accepted = 0
    latencies: list[float] = []
    t0 = time.perf_counter()
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"},
                      timeout=300) as http:
        for start in range(0, len(posts), size):
            t = time.perf_counter()
            r = http.post("/api/items", json={"source": source,
                                              "items": list(posts[start:start + size])})
            latencies.append(time.perf_counter() - t)
            r.raise_for_status()
            accepted += r.json()["accepted"]
    wall = time.perf_counter() - t0
    return {"posts": len(posts), "batch": size, "accepted": accepted, "seconds": round(wall, 2),
            "posts_per_s": round(len(posts) / wall, 1),
            "request_p50_ms": round(percentile(latencies, 0.5) * 1000, 1),
            "request_p99_ms": round(percentile(latencies, 0.99) * 1000, 1)}


def post_singles(url: str, key: str, posts: Sequence[dict[str, Any]],
                 source: str) -> dict[str, Any]:
    """One post per request, one after another; latency percentiles."""
    latencies: list[float] = []
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"},
                      timeout=60) as http:
        for p in posts:
            t = time.perf_counter()
            r = http.post("/api/items", json={"source": source, "items": [p]})
            latencies.append(time.perf_counter() - t)
            r.raise_for_status()
    ms = [x * 1000 for x in latencies]
    return {"requests": len(ms), "p50_ms": round(percentile(ms, 0.5), 1),
            "p90_ms": round(percentile(ms, 0.9), 1), "p99_ms": round(percentile(ms, 0.99), 1),
            "max_ms": round(max(ms), 1), "requests_per_s": round(len(ms) / (sum(ms) / 1000), 1)}


def _stored(db: str) -> tuple[int, set[str]]:
    engine = create_engine(db)
    try:
        with engine.connect() as conn:
            ids = set(conn.execute(select(ContentItem.external_id)
                                   .where(ContentItem.source == "crash")).scalars())
            total = int(conn.execute(select(func.count(ContentItem.id))
                                     .where(ContentItem.source == "crash")).scalar_one())
    finally:
        engine.dispose()
    return total, ids


def kill_loop(db: str, data: Path, key: str, log: Path, posts: Sequence[dict[str, Any]],
              rounds: int, batch: int = 100, seed: int = 13) -> dict[str, Any]:
    """``rounds`` times: start the server, post batches from one client thread, kill -9 it
    after a random number of acknowledged batches (while a request is in flight), and check
    that every acknowledged post is stored exactly once. Then post everything sent again
    (twice): the second time nothing may be added."""
    rng = random.Random(seed)
    acked: set[str] = set()
    sent: list[dict[str, Any]] = []
    problems: list[str] = []
    cursor = 0
    for n in range(rounds):
        server = Server(db, data, log)
        server.start()
        want = rng.randint(1, 6)
        done = threading.Event()
        state = {"acked_batches": 0}

        def client() -> None:
            nonlocal cursor
            with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {key}"},
                              timeout=60) as http:
                while cursor < len(posts):
                    chunk = list(posts[cursor:cursor + batch])
                    cursor += batch
                    sent.extend(chunk)
                    try:
                        r = http.post("/api/items", json={"source": "crash", "items": chunk})
                    except httpx.HTTPError:
                        break
                    if r.status_code == 200:
                        acked.update(i["external_id"] for i in r.json()["items"]
                                     if i["status"] != "rejected")
                        state["acked_batches"] += 1
            done.set()

        thread = threading.Thread(target=client, daemon=True)
        thread.start()
        deadline = time.time() + 120
        while time.time() < deadline and state["acked_batches"] < want and not done.is_set():
            time.sleep(0.005)
        time.sleep(rng.uniform(0, 0.2))  # land somewhere inside the next request
        server.kill()
        thread.join(60)
        total, stored = _stored(db)
        missing = acked - stored
        if missing:
            problems.append(f"round {n + 1}: {len(missing)} acknowledged posts missing")
        if total != len(stored):
            problems.append(f"round {n + 1}: {total - len(stored)} posts stored twice")
    _, stored = _stored(db)
    in_flight_lost = len({p["id"] for p in sent} - stored)
    in_flight_kept = len(stored - acked)
    server = Server(db, data, log)
    server.start()
    try:
        first = post_batches(server.url, key, sent, batch, "crash")
        second = post_batches(server.url, key, sent, batch, "crash")
    finally:
        server.kill(signal.SIGTERM)
    total, stored = _stored(db)
    if second["accepted"] != 0:
        problems.append(f"re-posting everything a second time added {second['accepted']}")
    if total != len(stored) or not acked <= stored:
        problems.append("after re-posting: duplicates or missing acknowledged posts")
    return {"rounds": rounds, "posts_sent": len(sent), "acknowledged": len(acked),
            "unacknowledged_not_stored": in_flight_lost,
            "unacknowledged_stored": in_flight_kept,
            "stored_after_reposting": total, "added_by_first_repost": first["accepted"],
            "added_by_second_repost": second["accepted"], "problems": problems}
