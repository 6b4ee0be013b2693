"""HTTP load test of HMA's ``GET /m/lookup`` against ``warding serve`` on loopback.

    python -m benchmarks.http_load DIR N SECONDS [CONCURRENCY]

Sets up a SQLite database with N random PDQ hashes (``warding bank import``) and an API
key, starts ``warding serve`` on 127.0.0.1, waits for ``/status`` to say the index is
ready, then keeps CONCURRENCY keep-alive connections busy for SECONDS: half the queries
are stored hashes with 0-31 bits flipped (they match), half random (they do not).
Reports requests/s, latency percentiles, errors, and the server's resident memory over
time (growth from the end of the warm-up, the first tenth of the run, to the end). Every
10 seconds it also adds a new hash through ``POST /c/bank/<name>/signal`` and measures
how long until ``/m/lookup`` finds it.

Requests go only to 127.0.0.1; every loop is bounded by the deadline.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import emit, percentile, rss_mb

HOST = "127.0.0.1"
BANK = "BENCH"


WARDING = str(Path(sys.executable).with_name("warding"))


def _cli(db: str, data: Path, *args: str, stdin: str | None = None) -> str:
    proc = subprocess.run([WARDING, "--db", db, "--data-dir", str(data), *args], input=stdin, capture_output=True, text=True,
                          check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"warding {' '.join(args)}: {proc.stderr[-2000:]}")
    return proc.stdout


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _hex(codes: np.ndarray) -> list[str]:
    raw = np.ascontiguousarray(codes).view(np.uint8).reshape(len(codes), 32)
    return [row.tobytes().hex() for row in raw]


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    body = await reader.readexactly(length) if length else b""
    return status, body


def _request(method: str, path: str, key: str, body: bytes = b"") -> bytes:
    head = (f"{method} {path} HTTP/1.1\r\nHost: {HOST}\r\nAuthorization: Bearer {key}\r\n"
            f"Accept: application/json\r\n")
    if body:
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    return (head + "\r\n").encode() + body


async def _worker(port: int, requests: list[bytes], offset: int, step: int, deadline: float,
                  lat: list[float], counts: dict[str, int]) -> None:
    reader, writer = await asyncio.open_connection(HOST, port)
    i = offset
    try:
        while time.monotonic() < deadline and counts["total"] < 50_000_000:
            req = requests[i % len(requests)]
            i += step
            t = time.perf_counter()
            writer.write(req)
            status, _ = await _read_response(reader)
            lat.append(time.perf_counter() - t)
            counts["total"] += 1
            if status != 200:
                counts["errors"] += 1
    finally:
        writer.close()


async def _visibility(port: int, key: str, deadline: float, out: list[float],
                      rng: np.random.Generator) -> None:
    """Every 10 s: add a new hash, then look it up every 20 ms until it matches (a new
    connection each time: the server closes idle ones after 5 s)."""
    while time.monotonic() + 12 < deadline:
        await asyncio.sleep(10)
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            h = _hex(rng.integers(0, 2**64, size=(1, 4), dtype=np.uint64))[0]
            writer.write(_request("POST", f"/c/bank/{BANK}/signal", key,
                                  json.dumps({"pdq": h}).encode()))
            status, _ = await _read_response(reader)
            if status != 200:
                continue
            added = time.perf_counter()
            probe = _request("GET", f"/m/lookup?signal_type=pdq&signal={h}", key)
            while time.perf_counter() - added < 10:
                writer.write(probe)
                status, body = await _read_response(reader)
                if status == 200 and BANK.encode() in body:
                    out.append(time.perf_counter() - added)
                    break
                await asyncio.sleep(0.02)
        finally:
            writer.close()


async def _sample_rss(pid: int, deadline: float, samples: list[tuple[float, float]]) -> None:
    start = time.monotonic()
    while time.monotonic() < deadline:
        samples.append((time.monotonic() - start, rss_mb(pid)))
        await asyncio.sleep(2)
    samples.append((time.monotonic() - start, rss_mb(pid)))


async def _load(port: int, key: str, queries: list[str], seconds: float, concurrency: int,
                pid: int) -> dict[str, Any]:
    requests = [_request("GET", f"/m/lookup?signal_type=pdq&signal={q}", key) for q in queries]
    lat: list[float] = []
    counts = {"total": 0, "errors": 0}
    visible: list[float] = []
    samples: list[tuple[float, float]] = []
    started = time.monotonic()
    deadline = started + seconds
    tasks = [_worker(port, requests, k, concurrency, deadline, lat, counts)
             for k in range(concurrency)]
    tasks.append(_visibility(port, key, deadline, visible, np.random.default_rng(3)))
    tasks.append(_sample_rss(pid, deadline, samples))
    await asyncio.gather(*tasks)
    elapsed = time.monotonic() - started
    warm = [r for t, r in samples if t >= seconds * 0.1]
    base = warm[0] if warm else samples[0][1]
    return {"requests": counts["total"], "errors": counts["errors"], "seconds": elapsed,
            "per_s": counts["total"] / elapsed, "p50_ms": percentile(lat, 0.5) * 1000,
            "p99_ms": percentile(lat, 0.99) * 1000, "max_ms": max(lat) * 1000 if lat else 0,
            "rss_start_mb": samples[0][1], "rss_after_warmup_mb": base,
            "rss_end_mb": samples[-1][1], "rss_max_mb": max(r for _, r in samples),
            "rss_growth_pct": (samples[-1][1] - base) / base * 100 if base else 0.0,
            "visible_after_add_s": {"count": len(visible),
                                    "p50": percentile(visible, 0.5),
                                    "max": max(visible) if visible else None}}


def main(argv: list[str]) -> None:
    folder, n, seconds = Path(argv[0]), int(argv[1]), float(argv[2])
    concurrency = int(argv[3]) if len(argv) > 3 else 8
    work = folder / f"http-{n}"
    work.mkdir(parents=True, exist_ok=True)
    db = f"sqlite:///{work / 'w.db'}"
    data = work / "data"
    codes = np.load(folder / f"uniform-{n}-codes.npy")
    lines = folder / f"pdq-{n}.txt"
    if not lines.exists():
        lines.write_text("".join(f"pdq {h}\n" for h in _hex(codes)), encoding="ascii")
    _cli(db, data, "init")
    t = time.perf_counter()
    _cli(db, data, "bank", "import", BANK, str(lines))
    import_s = time.perf_counter() - t
    _cli(db, data, "user", "create", "bench", "--role", "api", "--password-stdin",
         stdin="a long benchmark password\n")
    key = _cli(db, data, "user", "api-key", "bench").strip().split()[-1]
    rng = np.random.default_rng(99)
    near = np.load(folder / f"uniform-{n}-queries.npy")[:20_000]
    random_codes = rng.integers(0, 2**64, size=(len(near), 4), dtype=np.uint64)
    mixed = [q for pair in zip(_hex(near), _hex(random_codes), strict=True) for q in pair]
    port = _free_port()
    env = dict(os.environ, WARDING_INDEX_POLL_SECONDS="0.25")
    server = subprocess.Popen([WARDING, "--db", db, "--data-dir", str(data), "serve", "--host", HOST, "--port",
                               str(port)], env=env, stdout=subprocess.DEVNULL,
                              stderr=open(work / "server.log", "w"))  # noqa: SIM115
    try:
        t = time.perf_counter()
        ready = False
        while time.perf_counter() - t < 600 and server.poll() is None:
            try:
                with urllib.request.urlopen(f"http://{HOST}:{port}/status", timeout=5) as r:
                    if json.loads(r.read()).get("index", {}).get("state") == "ready":
                        ready = True
                        break
            except OSError:
                pass
            time.sleep(0.5)
        if not ready:
            raise RuntimeError("the server did not become ready; see " + str(work / "server.log"))
        ready_s = time.perf_counter() - t
        try:
            import uvloop

            uvloop.install()
        except ImportError:
            pass
        result = asyncio.run(_load(port, key, mixed, seconds, concurrency, server.pid))
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
    result.update({"job": "http", "n": n, "concurrency": concurrency, "import_s": import_s,
                   "ready_s": ready_s, "query_mix": "50% near copies (match), 50% random"})
    emit(result)


if __name__ == "__main__":
    main(sys.argv[1:])
