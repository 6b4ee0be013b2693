"""Connect to a Dask cluster: ``--dask ADDRESS`` (a running scheduler) or ``--dask local:N``
(a cluster of N worker processes on this machine, started and stopped with the command).

Dask is an optional dependency (``pip install 'warding[dask]'``); it is imported here, when a
command asks for a cluster, never at import time.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

from warding.errors import WardingError

INSTALL_HINT = "Dask is not installed: pip install 'warding[dask]' (or: make setup)"
CONNECT_TIMEOUT = "30s"


def require_dask() -> ModuleType:
    """The ``distributed`` module, or a clear error saying how to install it."""
    try:
        import distributed
    except ImportError as exc:
        raise WardingError(INSTALL_HINT) from exc
    return distributed


def local_workers(spec: str) -> int | None:
    """N for ``local:N`` (None for a scheduler address); a bad N is an error."""
    if not spec.startswith("local:"):
        return None
    raw = spec.split(":", 1)[1]
    if not raw.isdigit() or not 1 <= int(raw) <= 1024:
        raise WardingError(f"--dask {spec!r}: local:N needs a number of workers from 1 to 1024")
    return int(raw)


@contextmanager
def connect(spec: str) -> Iterator[Any]:
    """A ``distributed.Client`` for ``spec``; a local cluster is shut down on exit."""
    n = local_workers(spec)
    if not spec.strip():
        raise WardingError("--dask needs a scheduler address (tcp://host:8786) or local:N")
    distributed = require_dask()
    if n is not None:
        cluster = distributed.LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                           dashboard_address=":0")
        try:
            with distributed.Client(cluster) as client:
                yield client
        finally:
            cluster.close()
        return
    try:
        client = distributed.Client(spec, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError, ValueError) as exc:
        raise WardingError(f"cannot reach the Dask scheduler at {spec}: {exc}") from exc
    with client:
        yield client


def worker_count(client: Any) -> int:
    """Workers the scheduler knows now (at least 1, to size work windows)."""
    return max(1, len(client.scheduler_info().get("workers", {})))
