"""Lookup latency while uploads are hashed (issue 22): ``make bench-latency``.

    python -m benchmarks.latency [--seconds S] [--lookups C] [--uploads U] [--hashes N]
                                 [--warding PATH] [--out FILE]

Sets up a SQLite database with N random PDQ hashes in one bank and an API key, starts
``warding serve`` on 127.0.0.1, then runs two phases of S seconds each:

1. **lookups alone**: C keep-alive connections send ``GET /m/lookup`` (HMA's hot path)
   back to back;
2. **lookups while uploads are hashed**: the same, plus U connections that keep posting
   a 1,600 x 1,200 JPEG to ``POST /h/hash`` (PDQ hashing: CPU work), alternating with
   ``POST /c/bank/<name>/content`` (hashing plus database writes).

It prints one JSON line with each phase's lookups/s and latency percentiles and the
uploads/s. ``--compare PATH`` first runs the same test with another installation's
``warding`` (e.g. a checkout from before issue 22) for a before/after table on the same
machine; ``--docs`` writes the section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import ROOT, emit, load_average, percentile
from benchmarks.sections import put_section
from benchmarks.server import WARDING, Conn, Site, bench_env, multipart, serving

BANK = "LATENCY"


def _hexes(rng: np.random.Generator, n: int) -> list[str]:
    raw = rng.integers(0, 2**64, size=(n, 4), dtype=np.uint64)
    return [row.tobytes().hex() for row in raw.view(np.uint8).reshape(n, 32)]


def _jpeg(seed: int) -> bytes:
    from PIL import Image

    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, size=(60, 80, 3), dtype=np.uint8)
    image = Image.fromarray(small).resize((1600, 1200), Image.Resampling.BICUBIC)
    buf = io.BytesIO()
    image.save(buf, format="JPEG", quality=90)
    return buf.getvalue()


async def _lookups(port: int, key: str, queries: list[str], offset: int, step: int,
                   deadline: float, lat: list[float], counts: dict[str, int]) -> None:
    conn = Conn(port, key)
    i = offset
    try:
        while time.monotonic() < deadline:
            t = time.perf_counter()
            status, _ = await conn.request(
                "GET", f"/m/lookup?signal_type=pdq&signal={queries[i % len(queries)]}")
            lat.append(time.perf_counter() - t)
            counts["lookups"] += 1
            counts["errors"] += status != 200
            i += step
    finally:
        conn.close()


async def _uploads(port: int, key: str, images: list[bytes], offset: int, deadline: float,
                   lat: list[float], counts: dict[str, int]) -> None:
    conn = Conn(port, key)
    i = offset
    try:
        while time.monotonic() < deadline:
            body, ctype = multipart("photo", "upload.jpg", images[i % len(images)], "image/jpeg")
            path = "/h/hash" if i % 2 == 0 else f"/c/bank/{BANK}/content"
            t = time.perf_counter()
            status, _ = await conn.request("POST", path, body, ctype)
            lat.append(time.perf_counter() - t)
            counts["uploads"] += 1
            counts["errors"] += status != 200
            i += 1
    finally:
        conn.close()


async def _phase(port: int, key: str, queries: list[str], images: list[bytes], seconds: float,
                 lookups: int, uploads: int) -> dict[str, Any]:
    lat: list[float] = []
    up: list[float] = []
    counts = {"lookups": 0, "uploads": 0, "errors": 0}
    started = time.monotonic()
    deadline = started + seconds
    tasks = [_lookups(port, key, queries, k, lookups, deadline, lat, counts)
             for k in range(lookups)]
    tasks += [_uploads(port, key, images, k, deadline, up, counts) for k in range(uploads)]
    await asyncio.gather(*tasks)
    elapsed = time.monotonic() - started
    return {"lookups": counts["lookups"], "lookups_per_s": counts["lookups"] / elapsed,
            "p50_ms": percentile(lat, 0.5) * 1000, "p99_ms": percentile(lat, 0.99) * 1000,
            "max_ms": max(lat) * 1000 if lat else 0.0,
            "uploads": counts["uploads"], "uploads_per_s": counts["uploads"] / elapsed,
            "upload_p50_ms": percentile(up, 0.5) * 1000 if up else None,
            "errors": counts["errors"], "seconds": elapsed}


def run(seconds: float, lookups: int, uploads: int, hashes: int, warding: str,
        folder: Path) -> dict[str, Any]:
    rng = np.random.default_rng(22)
    stored = _hexes(rng, hashes)
    site = Site(f"sqlite:///{folder / 'w.db'}", folder / "data", warding)
    env = bench_env()
    site.cli("init", env=env)
    lines = folder / "hashes.txt"
    lines.write_text("".join(f"pdq {h}\n" for h in stored), encoding="ascii")
    site.cli("bank", "import", BANK, str(lines), env=env)
    key = site.api_key("bench", "admin", env=env)
    queries = [q for pair in zip(stored[:5000], _hexes(rng, 5000), strict=True) for q in pair]
    images = [_jpeg(seed) for seed in range(8)]
    with serving(site, folder / "server.log", env) as (port, _pid):
        asyncio.run(_phase(port, key, queries, images, 3, lookups, 0))  # warm-up
        alone = asyncio.run(_phase(port, key, queries, images, seconds, lookups, 0))
        loaded = asyncio.run(_phase(port, key, queries, images, seconds, lookups, uploads))
    return {"job": "latency", "warding": warding, "hashes": hashes, "lookup_connections": lookups,
            "upload_connections": uploads, "image_bytes": len(images[0]),
            "lookups_alone": alone, "lookups_while_uploading": loaded,
            "p50_ratio": loaded["p50_ms"] / alone["p50_ms"] if alone["p50_ms"] else None,
            "load_average": load_average(), "python": platform.python_version()}


def _row(name: str, r: dict[str, Any]) -> str:
    a, b = r["lookups_alone"], r["lookups_while_uploading"]
    return (f"| {name} | {a['lookups_per_s']:,.0f} | {a['p50_ms']:.2f} | {a['p99_ms']:.1f} | "
            f"{b['lookups_per_s']:,.0f} | {b['p50_ms']:.2f} | {b['p99_ms']:.1f} | "
            f"{b['max_ms']:.0f} | {b['uploads_per_s']:.1f} | {a['errors'] + b['errors']} |")


def section(results: list[tuple[str, dict[str, Any]]], seconds: float) -> str:
    """The latency section of docs/benchmarks.md."""
    r = results[-1][1]
    rows = "\n".join(_row(name, res) for name, res in results)
    loads = "; ".join(f"{name}: {res['load_average']}" for name, res in results)
    return f"""## Lookups while uploads are hashed (issue 22)

`make bench-latency` (`python -m benchmarks.latency --seconds {seconds:.0f}`): one
`warding serve` process on 127.0.0.1, SQLite, {r["hashes"]:,} PDQ hashes in a bank.
{r["lookup_connections"]} keep-alive connections send `GET /m/lookup` back to back for
{seconds:.0f} s alone, then for {seconds:.0f} s while {r["upload_connections"]} more connections
keep uploading a 1,600 x 1,200 JPEG ({r["image_bytes"] / 1024:.0f} KiB), alternately to
`POST /h/hash` and `POST /c/bank/<name>/content` (PDQ hashing, and database writes for the
second). Before issue 22 these two routes hashed on the server's event loop, so every lookup
waited for each hash; now hashing and database work run in the thread pool and lookups go on
between them. The load generator runs on the same two cores as the server, and the machine
was shared with other developers' work (load average at the end of each run: {loads}), so the
figures are indicative; hashing still takes CPU from the lookups on two cores, which is why
their rate falls even when nothing waits on the event loop.

| server | alone: lookups/s | p50 ms | p99 ms | with uploads: lookups/s | p50 ms | p99 ms | max ms | uploads/s | errors |
|---|---|---|---|---|---|---|---|---|---|
{rows}"""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--lookups", type=int, default=4, help="lookup connections")
    parser.add_argument("--uploads", type=int, default=2, help="upload connections")
    parser.add_argument("--hashes", type=int, default=100_000)
    parser.add_argument("--warding", default=WARDING, help="the warding command to serve with")
    parser.add_argument("--compare", metavar="WARDING",
                        help="first run the same test with this warding command (e.g. a "
                             "checkout from before issue 22) for a before/after table")
    parser.add_argument("--docs", action="store_true",
                        help="write the section of docs/benchmarks.md")
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    args = parser.parse_args(argv)
    results: list[tuple[str, dict[str, Any]]] = []
    servers = ([("before (" + args.compare + ")", args.compare)] if args.compare else []) + \
        [("this checkout", args.warding)]
    for name, command in servers:
        with tempfile.TemporaryDirectory(prefix="warding-latency-") as tmp:
            result = run(args.seconds, args.lookups, args.uploads, args.hashes, command,
                         Path(tmp))
        emit(result)
        results.append((name, result))
    if args.out:
        import json

        args.out.write_text(json.dumps(dict(results), indent=2) + "\n", encoding="utf-8")
    if args.docs:
        put_section(ROOT / "docs" / "benchmarks.md", "latency", section(results, args.seconds))


if __name__ == "__main__":
    main()
