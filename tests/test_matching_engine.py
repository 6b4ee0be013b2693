"""The match engine over the database: incremental updates from the change feed (also from
other processes), per-bank thresholds, snapshots, and exact answers."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from warding.app import Warding
from warding.banks.curation import delete_bank, remove_entries, set_entry_enabled
from warding.banks.records import EntryRecord
from warding.banks.service import add_records, create_bank, get_bank, update_bank
from warding.matching import engine as engine_mod
from warding.matching.service import MatchResult, get_core, get_engine


def _pdq(rng: random.Random) -> str:
    return f"{rng.getrandbits(256):064x}"


def _flip(value: str, bits: int, rng: random.Random) -> str:
    x = int(value, 16)
    for b in rng.sample(range(256), bits):
        x ^= 1 << b
    return f"{x:064x}"


def _add(app: Warding, bank: str, signals: list[tuple[str, str]], **labels: str) -> list[int]:
    with app.transaction() as s:
        b = get_bank(s, bank)
        recs = [EntryRecord(signals=[sig], labels=dict(labels), provenance="test") for sig in signals]
        return add_records(s, b, recs, app.signal_types, actor="t", how="test").entry_ids


def _match(app: Warding, signal_type: str, value: str) -> list[MatchResult]:
    with app.transaction() as s:
        return get_engine(app, s).lookup(signal_type, value)


def test_added_and_removed_entries_change_matches_without_rebuild(wapp: Warding) -> None:
    rng = random.Random(1)
    with wapp.transaction() as s:
        create_bank(s, "known", actor="t")
    hashes = [_pdq(rng) for _ in range(50)]
    ids = _add(wapp, "known", [("pdq", h) for h in hashes], group="g1")
    core = get_core(wapp)
    pdq = core.indexes["pdq"]
    got = _match(wapp, "pdq", _flip(hashes[3], 9, rng))
    assert [(r.entry_id, r.distance, r.labels, r.provenance) for r in got] == \
        [(ids[3], 9, {"group": "g1"}, "test")]
    assert got[0].value == hashes[3]

    new = _pdq(rng)
    (new_id,) = _add(wapp, "known", [("pdq", new)])
    assert [r.entry_id for r in _match(wapp, "pdq", new)] == [new_id]
    assert get_core(wapp) is core and core.indexes["pdq"] is pdq  # updated in place

    with wapp.transaction() as s:
        assert remove_entries(s, "known", [new_id, ids[3]], actor="t") == 2
    assert _match(wapp, "pdq", new) == []
    assert _match(wapp, "pdq", hashes[3]) == []
    with wapp.transaction() as s:
        set_entry_enabled(s, "known", ids[4], False, actor="t")
    assert _match(wapp, "pdq", hashes[4]) == []
    with wapp.transaction() as s:
        set_entry_enabled(s, "known", ids[4], True, actor="t")
    assert [r.entry_id for r in _match(wapp, "pdq", hashes[4])] == [ids[4]]
    assert core.indexes["pdq"] is pdq


def test_changes_made_by_another_process_arrive(app_factory: Callable[..., Warding],
                                                tmp_path: Path) -> None:
    """Two app objects on one database stand for two processes (e.g. the server and a CLI)."""
    rng = random.Random(2)
    server = app_factory(index_poll_seconds=0.0)
    cli = Warding(server.settings)
    try:
        with cli.transaction() as s:
            create_bank(s, "list", actor="t")
        h = _pdq(rng)
        assert _match(server, "pdq", h) == []  # the server's engine opens on an empty bank
        (eid,) = _add(cli, "list", [("pdq", h)])
        assert [r.entry_id for r in _match(server, "pdq", h)] == [eid]
        with cli.transaction() as s:
            update_bank(s, "list", actor="t", enabled=False)
        assert _match(server, "pdq", h) == []
        with cli.transaction() as s:
            update_bank(s, "list", actor="t", enabled=True, new_name="renamed")
        assert [r.bank for r in _match(server, "pdq", h)] == ["renamed"]
        with cli.transaction() as s:
            delete_bank(s, "renamed", actor="t")
        assert _match(server, "pdq", h) == []
        assert len(get_core(server).indexes["pdq"]) == 0
    finally:
        cli.close()


def test_per_bank_thresholds(wapp: Warding) -> None:
    rng = random.Random(3)
    h = _pdq(rng)
    with wapp.transaction() as s:
        create_bank(s, "strict", actor="t", thresholds={"pdq": 5})
        create_bank(s, "loose", actor="t", thresholds={"pdq": 40})
        create_bank(s, "default", actor="t")
    for bank in ("strict", "loose", "default"):
        _add(wapp, bank, [("pdq", h)])
    banks = lambda q: sorted(r.bank for r in _match(wapp, "pdq", q))  # noqa: E731
    assert banks(_flip(h, 5, rng)) == ["default", "loose", "strict"]
    assert banks(_flip(h, 20, rng)) == ["default", "loose"]
    assert banks(_flip(h, 35, rng)) == ["loose"]
    with wapp.transaction() as s:
        update_bank(s, "strict", actor="t", thresholds={"pdq": 36})
    assert banks(_flip(h, 35, rng)) == ["loose", "strict"]


def test_exact_types_and_fingerprint_collisions(wapp: Warding,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    with wapp.transaction() as s:
        create_bank(s, "exact", actor="t")
    md5 = "0123456789abcdef0123456789abcdef"
    url = "https://example.org/known-page"
    ids = _add(wapp, "exact", [("md5", md5), ("url", url), ("sha512", "ab" * 64)])
    assert [r.entry_id for r in _match(wapp, "md5", md5.upper())] == [ids[0]]
    assert [r.entry_id for r in _match(wapp, "url", url + "?utm_source=x")] == [ids[1]]
    assert [r.entry_id for r in _match(wapp, "sha512", "AB" * 64)] == [ids[2]]
    assert _match(wapp, "md5", "f" * 32) == []
    # Force every URL onto one fingerprint: the stored value still decides.
    core = get_core(wapp)
    index = core.indexes["url"]
    monkeypatch.setattr(index, "search", lambda values: (
        np.zeros(1, np.int64), np.array([ids[1]], np.int64), np.array([1], np.int32)))
    assert _match(wapp, "url", "https://example.org/other") == []


def test_snapshot_is_saved_and_reused(app_factory: Callable[..., Warding]) -> None:
    rng = random.Random(4)
    app = app_factory(index_snapshot_min=1)
    with app.transaction() as s:
        create_bank(s, "b", actor="t")
    hashes = [_pdq(rng) for _ in range(30)]
    _add(app, "b", [("pdq", h) for h in hashes] + [("md5", "a" * 32)])
    core = get_core(app)
    core.save()
    files = sorted(p.name for p in app.settings.index_dir.iterdir())
    assert "pdq.widx" in files and "md5.widx" in files

    later = Warding(app.settings)  # a new process
    try:
        _add(later, "b", [("pdq", _pdq(rng))])  # written before it opens
        core2 = get_core(later)
        assert core2.source == "snapshot"
        assert len(core2.indexes["pdq"]) == 31
        assert [r.entry_id for r in _match(later, "pdq", hashes[7])]
        core2.wait_saves()
    finally:
        later.close()

    # A damaged snapshot is refused (clear error in the log) and the engine rebuilds.
    path = app.settings.index_dir / "pdq.widx"
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    path.write_bytes(bytes(raw))
    again = Warding(app.settings)
    try:
        core3 = get_core(again)
        assert core3.source == "database"
        assert len(core3.indexes["pdq"]) == 31
        core3.wait_saves()
    finally:
        again.close()


def test_snapshot_of_another_database_is_ignored(app_factory: Callable[..., Warding],
                                                tmp_path: Path) -> None:
    rng = random.Random(5)
    first = app_factory(index_snapshot_min=1)
    with first.transaction() as s:
        create_bank(s, "b", actor="t")
    _add(first, "b", [("pdq", _pdq(rng))])
    get_core(first).save()
    from tests.conftest import make_app

    other = make_app(tmp_path / "other")  # a new database ...
    other.settings.data_dir = first.settings.data_dir  # ... with the first one's data folder
    try:
        core = get_core(other)
        assert core.source == "database" and len(core.indexes.get("pdq", [])) == 0
    finally:
        other.close()


def test_lookup_many_keeps_input_order_and_restricts_banks(wapp: Warding) -> None:
    rng = random.Random(6)
    h1, h2 = _pdq(rng), _pdq(rng)
    with wapp.transaction() as s:
        create_bank(s, "a", actor="t")
        create_bank(s, "b", actor="t")
    (a1,) = _add(wapp, "a", [("pdq", h1)])
    (b2,) = _add(wapp, "b", [("pdq", h2)])
    with wapp.transaction() as s:
        eng = get_engine(wapp, s)
        out = eng.lookup_many([("pdq", h2), ("md5", "c" * 32), ("pdq", h1), ("pdq", h2)])
        assert [[r.entry_id for r in rs] for rs in out] == [[b2], [], [a1], [b2]]
        only_a = eng.lookup_many([("pdq", h1), ("pdq", h2)], banks={"a"})
        assert [[r.entry_id for r in rs] for rs in only_a] == [[a1], []]


def test_engine_survives_unparseable_stored_values(wapp: Warding) -> None:
    from warding.db.models import BankEntry, BankSignal

    with wapp.transaction() as s:
        bank = create_bank(s, "raw", actor="t")
        s.add(BankEntry(bank_id=bank.id, labels={}, provenance="", enabled=True, note="",
                        signals=[BankSignal(signal_type="pdq", value="zz")]))
    assert engine_mod.MatchCore.open(wapp.engine, wapp.signal_types, snapshot_dir=None).size() == 0
