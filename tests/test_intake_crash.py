"""kill -9 of ``warding serve`` while a client posts batches: every acknowledged post is stored
exactly once, and posting everything again adds nothing. (The benchmark repeats this 20
times: ``make bench-intake``.)"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
from sqlalchemy import create_engine, func, select

from warding.db.models import ContentItem

BATCH = 50


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(base: list[str], port: int, log: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ, WARDING_ACTION_WORKER_INTERVAL="0")
    with log.open("ab") as out:  # the child keeps its own copy of the descriptor
        proc = subprocess.Popen(base + ["serve", "--port", str(port)], env=env,
                                stdout=out, stderr=subprocess.STDOUT)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/status", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise AssertionError("warding serve did not start: " + log.read_text()[-2000:])


def _batch(n: int) -> list[dict[str, str]]:
    return [{"id": f"c{n}-{i}", "account": f"a{i % 5}",
             "text": f"Neutral placeholder post {n}-{i} about gardens and the weather."}
            for i in range(BATCH)]


def test_kill_9_while_posting_loses_no_acknowledged_item(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'crash.db'}"
    base = [sys.executable, "-m", "warding", "--db", url, "--data-dir", str(tmp_path / "d")]
    subprocess.run(base + ["init"], check=True, capture_output=True)
    subprocess.run(base + ["user", "create", "platform", "--role", "api", "--password-stdin"],
                   input=b"a long test password\n", check=True, capture_output=True)
    key = subprocess.run(base + ["user", "api-key", "platform"], check=True,
                         capture_output=True, text=True).stdout.strip()
    headers = {"Authorization": f"Bearer {key}"}
    port = _port()
    server = _serve(base, port, tmp_path / "serve.log")
    acked: list[str] = []
    sent: list[int] = []
    stop = threading.Event()

    def client() -> None:
        n = 0
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers,
                          timeout=30) as http:
            while not stop.is_set():
                sent.append(n)
                try:
                    r = http.post("/api/items", json={"source": "crash", "items": _batch(n)})
                except httpx.HTTPError:
                    return  # the server died under this request: not acknowledged
                if r.status_code == 200:
                    acked.extend(i["external_id"] for i in r.json()["items"]
                                 if i["status"] in ("accepted", "duplicate"))
                n += 1

    thread = threading.Thread(target=client)
    thread.start()
    deadline = time.time() + 60
    while time.time() < deadline and len(acked) < 3 * BATCH:
        time.sleep(0.01)
    server.send_signal(signal.SIGKILL)
    server.wait()
    stop.set()
    thread.join(30)
    assert len(acked) >= 3 * BATCH
    engine = create_engine(url)
    with engine.connect() as conn:
        stored = set(conn.execute(select(ContentItem.external_id)).scalars())
        total = conn.execute(select(func.count(ContentItem.id))).scalar_one()
    assert set(acked) <= stored and total == len(stored)
    server = _serve(base, port, tmp_path / "serve.log")
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers,
                          timeout=30) as http:
            for n in sent:
                r = http.post("/api/items", json={"source": "crash", "items": _batch(n)})
                assert r.status_code == 200
            again = [http.post("/api/items", json={"source": "crash", "items": _batch(n)}).json()
                     for n in sent]
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(30)
    assert all(a["accepted"] == 0 and a["duplicates"] == BATCH for a in again)
    with engine.connect() as conn:
        total = conn.execute(select(func.count(ContentItem.id))).scalar_one()
        distinct = conn.execute(select(func.count(func.distinct(ContentItem.external_id)))
                                ).scalar_one()
    engine.dispose()
    assert total == distinct == len(sent) * BATCH
