"""A real Dask cluster for the tests: ``dask scheduler`` and ``dask worker`` processes on this
machine (no nanny, so that a test can kill a worker with SIGKILL and nothing restarts it)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.pgserver import _free_port

DASK = str(Path(sys.executable).parent / "dask")


def require() -> None:
    """Skip the calling test module without Dask, except in CI (``make test`` installs the
    extra there, so its tests must run)."""
    import pytest

    if os.environ.get("CI"):
        import distributed  # noqa: F401 - an ImportError fails the module in CI
    else:
        pytest.importorskip("distributed")


@dataclass
class DaskCluster:
    address: str
    scheduler: subprocess.Popen[bytes]
    log_dir: Path
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def add_worker(self) -> subprocess.Popen[bytes]:
        with open(self.log_dir / f"worker{len(self.workers)}.log", "wb") as log:
            proc = subprocess.Popen(
                [DASK, "worker", self.address, "--nthreads", "1", "--no-nanny",
                 "--no-dashboard", "--host", "127.0.0.1", "--memory-limit", "0"],
                stdout=subprocess.DEVNULL, stderr=log,
                env={**os.environ, "PYTHONUNBUFFERED": "1"})
        self.workers.append(proc)
        return proc

    def wait_for_workers(self, n: int, timeout: float = 90) -> None:
        from distributed import Client

        with Client(self.address, timeout="30s") as client:
            client.wait_for_workers(n, timeout=timeout)

    def stop(self) -> None:
        for proc in [*self.workers, self.scheduler]:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in [*self.workers, self.scheduler]:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def start(workers: int, log_dir: Path) -> DaskCluster:
    port = _free_port()
    with open(log_dir / "scheduler.log", "wb") as log:
        scheduler = subprocess.Popen(
            [DASK, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
            stdout=subprocess.DEVNULL, stderr=log)
    cluster = DaskCluster(f"tcp://127.0.0.1:{port}", scheduler, log_dir=log_dir)
    deadline = time.time() + 60
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        if scheduler.poll() is not None:
            raise RuntimeError("dask scheduler exited at start")
        time.sleep(0.1)
    for _ in range(workers):
        cluster.add_worker()
    cluster.wait_for_workers(workers)
    return cluster
