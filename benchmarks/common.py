"""Helpers shared by the benchmarks: memory, timing, the machine, and running jobs in fresh
processes (so that each one's resident memory is its own)."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def rss_mb(pid: int | str = "self") -> float:
    """Current resident memory (VmRSS) in MB."""
    return _status_kb(pid, "VmRSS") / 1024


def peak_rss_mb(pid: int | str = "self") -> float:
    return _status_kb(pid, "VmHWM") / 1024


def _status_kb(pid: int | str, field: str) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return float(line.split()[1])
    except OSError:
        pass
    return 0.0


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def machine() -> dict[str, Any]:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = 0.0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gb = float(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    import numpy

    versions = {"python": sys.version.split()[0], "numpy": numpy.__version__}
    for name in ("faiss", "threatexchange", "fastapi", "uvicorn", "sqlalchemy"):
        try:
            from importlib.metadata import version

            versions[name] = version(name if name != "faiss" else "faiss-cpu")
        except Exception:  # noqa: BLE001
            versions[name] = "?"
    from warding.matching import kernel

    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gb": round(mem_gb, 1),
            "platform": platform.platform(), "versions": versions,
            "kernel": "compiled C" if kernel.available() else "numpy"}


def run_job(module: str, *args: str, timeout: float = 3600) -> dict[str, Any]:
    """Run ``python -m module args`` in a fresh process; its last stdout line is JSON."""
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{module} {' '.join(args)} failed ({proc.returncode}):\n"
                           f"{proc.stderr[-3000:]}")
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    out: dict[str, Any] = json.loads(lines[-1])
    out.setdefault("wall_s", time.perf_counter() - started)
    return out


def emit(result: dict[str, Any]) -> None:
    print(json.dumps(result), flush=True)


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def env_list(name: str, default: str) -> list[int]:
    raw = os.environ.get(name, default)
    return [int(x) for x in raw.split(",") if x.strip()]
