"""Look signals up in the banks.

``get_engine(app, session)`` returns a :class:`MatchEngine`: the process's shared
:class:`~warding.matching.engine.MatchCore` (indexes kept current from the change
feed, never rebuilt) bound to the caller's session, which is used only to read
the labels, provenance and values of the entries that matched. Exact-type hits
are confirmed against the stored value, so fingerprint collisions never match.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from warding.matching import kernel
from warding.matching.engine import MatchCore
from warding.matching.entry_meta import EntryMeta
from warding.signals.base import SignalType
from warding.signals.compute import SignalValue

_open_lock = threading.Lock()


@dataclass(frozen=True)
class MatchResult:
    bank: str
    bank_id: int
    entry_id: int
    signal_type: str
    value: str
    query: str
    distance: int
    labels: dict[str, Any] = field(default_factory=dict)
    provenance: str = ""
    #: For a video (vPDQ): the shares of frames matched and which frames (timestamps).
    frames: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        out = {
            "bank": self.bank,
            "signal_type": self.signal_type,
            "distance": self.distance,
            "entry_id": str(self.entry_id),
            "labels": self.labels,
            "provenance": self.provenance,
        }
        if self.frames:
            out["frames"] = self.frames
        return out


class MatchEngine:
    """The shared indexes, bound to one session (or, without one, to the database engine,
    used only when an entry's details are not cached) for reading entry details."""

    def __init__(self, core: MatchCore, session: Session | None = None,
                 sa_engine: Engine | None = None) -> None:
        if session is None and sa_engine is None:
            raise ValueError("MatchEngine needs a session or a database engine")
        self.core = core
        self.session = session
        self.sa_engine = sa_engine

    @property
    def types(self) -> Mapping[str, SignalType]:
        return self.core.types

    def lookup(self, signal_type: str, value: str) -> list[MatchResult]:
        """Matches of one value in the enabled banks, closest first. Invalid values match
        nothing."""
        st = self.core.types.get(signal_type)
        if st is None:
            return []
        try:
            value = st.validate(value)
        except ValueError:
            return []
        return self.lookup_many([(signal_type, value)])[0]

    def lookup_all(self, signals: Iterable[SignalValue]) -> list[MatchResult]:
        """Matches of all ``signals``; one per (bank, entry, signal type), closest first."""
        return self.lookup_groups([signals])[0]

    def lookup_groups(self, groups: Sequence[Iterable[SignalValue]]) -> list[list[MatchResult]]:
        """:meth:`lookup_all` of each group (the signals of one item), with one search per
        signal type for all groups together (the bulk pipeline's batches)."""
        sigs: list[tuple[str, str]] = []
        owner: list[int] = []
        for g, signals in enumerate(groups):
            videos: dict[tuple[str, str], list[str]] = {}
            for s in signals:
                st = self.core.types.get(s.signal_type)
                if st is not None and st.multi:  # a video's frames are looked up together
                    videos.setdefault((s.signal_type, s.origin), []).append(s.value)
                    continue
                sigs.append((s.signal_type, s.value))
                owner.append(g)
            for (signal_type, _), values in videos.items():
                sigs.append((signal_type, self.core.types[signal_type].join(values)))
                owner.append(g)
        best: list[dict[tuple[int, int, str], MatchResult]] = [{} for _ in groups]
        for g, results in zip(owner, self.lookup_many(sigs) if sigs else [], strict=True):
            for result in results:
                key = (result.bank_id, result.entry_id, result.signal_type)
                if key not in best[g] or best[g][key].distance > result.distance:
                    best[g][key] = result
        return [sorted(b.values(), key=lambda r: (r.distance, r.bank, r.entry_id, r.signal_type))
                for b in best]

    def lookup_many(self, queries: Sequence[tuple[str, str]], *, banks: set[str] | None = None,
                    include_disabled: bool = False) -> list[list[MatchResult]]:
        """For each (signal type, validated value), its matches in input order: one per
        (bank, entry), closest first. ``banks`` restricts to those bank names;
        ``include_disabled`` also searches disabled banks (HMA's raw lookup). A multi-valued
        signal (a vPDQ video, its exchange form) is looked up frame by frame and matches as a
        whole (:mod:`warding.matching.video`)."""
        from warding.matching import video

        plain = [i for i, (t, _) in enumerate(queries)
                 if t not in self.core.types or not self.core.types[t].multi]
        out: list[list[MatchResult]] = [[] for _ in queries]
        if len(plain) < len(queries):
            for i, results in video.lookup(self, queries, banks, include_disabled).items():
                out[i] = results
        if not plain:
            return out
        raw, _ = self.raw_hits([queries[i] for i in plain], banks=banks,
                               include_disabled=include_disabled)
        for i, results in zip(plain, raw, strict=True):
            if len(results) > 1:
                best: dict[tuple[int, int], MatchResult] = {}
                for r in results:
                    key = (r.bank_id, r.entry_id)
                    if key not in best or best[key].distance > r.distance:
                        best[key] = r
                results = sorted(best.values(), key=lambda r: (r.distance, r.bank, r.entry_id))
            out[i] = results
        return out

    def raw_hits(self, queries: Sequence[tuple[str, str]], *, banks: set[str] | None = None,
                 include_disabled: bool = False,
                 ) -> tuple[list[list[MatchResult]], dict[int, EntryMeta]]:
        """Every hit of each query (an entry may appear once per stored value it matched) and
        the details of the entries hit."""
        core = self.core
        out: list[list[MatchResult]] = [[] for _ in queries]
        meta: dict[int, EntryMeta] = {}
        bank_ids = None if banks is None else {b.id for b in core.banks.values() if b.name in banks}
        by_type: dict[str, list[int]] = {}
        for i, (signal_type, _) in enumerate(queries):
            if signal_type in core.types:
                by_type.setdefault(signal_type, []).append(i)
        found = []
        for signal_type, positions in by_type.items():
            values = [queries[i][1] for i in positions]
            hits = core.search(signal_type, values, banks=bank_ids,
                               include_disabled=include_disabled)
            if len(hits):
                found.append((signal_type, positions, hits))
        if not found:
            return out, meta
        ids = sorted({int(e) for _, _, hits in found for e in hits.entry.tolist()})
        if self.session is not None:
            meta = core.entry_meta(self.session.connection(), ids)
        else:
            assert self.sa_engine is not None
            meta = core.entry_meta_cached(ids)
            if len(meta) < len(ids):
                with self.sa_engine.connect() as conn:
                    meta = core.entry_meta(conn, ids)
        for signal_type, positions, hits in found:
            exact = core.types[signal_type].match != "hamming"
            stored = hits.stored or []
            for k, (qi, entry, bank_id, dist) in enumerate(zip(
                    hits.query.tolist(), hits.entry.tolist(), hits.bank.tolist(),
                    hits.dist.tolist(), strict=True)):
                m = meta.get(entry)
                info = core.banks.get(bank_id)
                if m is None or info is None or not m.enabled or m.bank_id != bank_id:
                    continue  # removed since the index saw it
                query = queries[positions[qi]][1]
                if exact and query not in m.values.get(signal_type, ()):
                    continue  # a fingerprint collision, not the same value
                value = query if exact else stored[k]
                out[positions[qi]].append(MatchResult(
                    bank=info.name, bank_id=bank_id, entry_id=entry, signal_type=signal_type,
                    value=value, query=query, distance=dist, labels=m.labels,
                    provenance=m.provenance))
        return out, meta


def get_core(app: Any) -> MatchCore:
    """The app's match core: opened on first use (snapshot or database), then refreshed from
    the change feed (cheaply: at most every ``index_poll_seconds``)."""
    core: MatchCore | None = app.index_cache.get("match_core")
    if core is None:
        with _open_lock:
            core = app.index_cache.get("match_core")
            if core is None:
                s = app.settings
                kernel.use(s.match_kernel)
                core = MatchCore.open(app.engine, app.signal_types, snapshot_dir=s.index_dir,
                                      snapshot_min=s.index_snapshot_min,
                                      poll_seconds=s.index_poll_seconds)
                app.index_cache["match_core"] = core
                return core
    core.refresh(app.engine)
    return core


def get_engine(app: Any, session: Session | None = None) -> MatchEngine:
    """The app's match engine, current with every committed bank change. Without a session,
    entry details come from a cache or a short connection of the app's own. With the
    ``dask_scheduler`` setting, the index is sharded on a Dask cluster
    (:mod:`warding.distributed.shards`)."""
    if app.settings.dask_scheduler:
        from warding.distributed.shards import sharded_engine

        return sharded_engine(app)
    return MatchEngine(get_core(app), session, None if session is not None else app.engine)


def refresh_index(app: Any) -> None:
    """Open (on the first call) and refresh the index that lookups use: this process's, or
    the shards on the Dask cluster (``warding serve`` keeps it warm with this)."""
    if app.settings.dask_scheduler:
        from warding.distributed.shards import sharded_engine

        sharded_engine(app).index.warm()
        return
    get_core(app).refresh(app.engine, force=True)
