"""``warding scan --dask``: connect to (or start) the cluster and run the scan on it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from warding.pipeline.scan import Progress, ScanSummary


def scan_with_dask(app: Any, spec: str, paths: Sequence[Path], source: str,
                   partition_bytes: int, progress: Progress | None = None) -> ScanSummary:
    from warding.distributed.cluster import connect
    from warding.distributed.scan import scan_on_dask

    with connect(spec) as client:
        summary = scan_on_dask(app, client, paths, source, progress=progress,
                               partition_bytes=partition_bytes)
        link = dashboard_link(client)
        if link:
            summary.notes.append(f"Dask dashboard: {link}")
        return summary


def dashboard_link(client: Any) -> str | None:
    """The scheduler's dashboard URL; None when it runs without one (no bokeh, or
    ``--no-dashboard``)."""
    try:
        link = client.dashboard_link
    except (AttributeError, KeyError, TypeError):
        return None
    return link or None
