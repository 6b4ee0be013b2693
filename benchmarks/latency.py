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
uploads/s. ``--warding`` runs another installation's ``warding`` (e.g. a checkout from
before issue 22) for a before/after comparison on the same machine.
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

from benchmarks.common import emit, load_average, percentile
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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--lookups", type=int, default=4, help="lookup connections")
    parser.add_argument("--uploads", type=int, default=2, help="upload connections")
    parser.add_argument("--hashes", type=int, default=100_000)
    parser.add_argument("--warding", default=WARDING, help="the warding command to serve with")
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="warding-latency-") as tmp:
        result = run(args.seconds, args.lookups, args.uploads, args.hashes, args.warding,
                     Path(tmp))
    emit(result)
    if args.out:
        import json

        args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
