"""The match engine's snapshots on disk: one index file per signal type in
``<data_dir>/index/``, all saved at one feed position. Reading checks that every file
belongs to this database, to these signal types and to one feed position not ahead of the
database; anything else means "rebuild from the database" (the engine logs why). The file
format is :mod:`warding.matching.store`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from warding.matching import feed
from warding.matching.engine_types import Index
from warding.matching.exact import ExactIndex
from warding.matching.index import exact_kind, index_for
from warding.matching.mih import HammingIndex
from warding.matching.store import IndexFileError, read_header, read_index, write_index
from warding.signals.base import SignalType

log = logging.getLogger("warding.matching")

SNAPSHOT_SUFFIX = ".widx"


@dataclass(frozen=True)
class Loaded:
    """Snapshots read: the indexes by signal type, the feed position they were saved at
    (watermark and gaps, as saved) and the time of the last change they hold."""

    indexes: dict[str, Index]
    watermark: int
    gaps: dict[str, Any]
    built_to: float


def snapshot_path(snapshot_dir: Path, signal_type: str) -> Path:
    return snapshot_dir / f"{signal_type}{SNAPSHOT_SUFFIX}"


def read_snapshots(present: Mapping[str, Path], types: Mapping[str, SignalType],
                   database_id: str, last: int) -> Loaded | None:
    """The snapshots ``present`` (signal type -> file) if all fit this database (``last`` is
    its latest feed row); None to rebuild."""
    watermark: int | None = None
    gaps: dict[str, Any] = {}
    loaded: dict[str, Index] = {}
    built_to = 0.0
    for name, path in present.items():
        try:
            header = read_header(path)
            meta = header["meta"]
            if meta.get("database_id") != database_id:
                log.info("index snapshot %s belongs to another database: rebuilding", path)
                return None
            if sorted(meta.get("types", [])) != sorted(types):
                log.info("signal types changed since the index snapshot: rebuilding")
                return None
            if watermark is None:
                watermark, gaps = int(meta["watermark"]), dict(meta.get("gaps", {}))
            elif int(meta["watermark"]) != watermark:
                log.info("index snapshots were saved at different times: rebuilding")
                return None
            if watermark > last:
                log.info("index snapshot is ahead of the database: rebuilding")
                return None
            meta, arrays = read_index(path)
            st = types[name]
            index: Index
            if meta["kind"] == "hamming":
                if st.match != "hamming" or meta["bits"] != st.bits:
                    raise IndexFileError(f"{path}: saved for another kind of signal")
                index = HammingIndex.from_snapshot(meta, arrays)
            else:
                if st.match != "exact" or meta.get("fingerprint") != exact_kind(st):
                    raise IndexFileError(f"{path}: saved for another kind of signal")
                index = ExactIndex.from_snapshot(meta, arrays)
            loaded[name] = index
            built_to = max(built_to, float(meta.get("built_to", 0.0)))
        except (IndexFileError, ValueError, KeyError, TypeError) as exc:
            log.warning("cannot use index snapshot %s (%s): rebuilding from the database",
                        path, exc)
            return None
    return Loaded(loaded, watermark or 0, gaps, built_to)


def write_snapshots(snapshot_dir: Path, types: Mapping[str, SignalType],
                    captured: dict[str, tuple[dict[str, Any], dict[str, Any]]],
                    database_id: str, cursor: feed.Cursor, built_to: float) -> list[Path]:
    """Write every signal type's index (``captured``: its meta and arrays; an empty index
    for a type without one, so that all files agree) at the feed position ``cursor``."""
    written = []
    for name in types:
        path = snapshot_path(snapshot_dir, name)
        if name not in captured:
            st = types[name]
            captured[name] = index_for(st).to_arrays()  # an empty one: all files agree
        meta, arrays = captured[name]
        meta.update({"signal_type": name, "database_id": database_id,
                     "types": sorted(types),
                     "watermark": cursor.watermark,
                     "gaps": {str(k): v for k, v in cursor.gaps.items()},
                     "built_to": built_to})
        write_index(path, meta, arrays)
        written.append(path)
    return written
