"""The multi-index hashing index: exact against brute force, with both kernels, under
incremental adds and removes, merges and snapshots."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from warding.matching import kernel
from warding.matching.mih import HammingIndex
from warding.matching.mih_layout import choose_layout, masks_within, plan_thresholds

KERNELS = ["c", "numpy"] if kernel.available() else ["numpy"]


@pytest.fixture(params=KERNELS)
def kernel_name(request: pytest.FixtureRequest) -> Iterator[str]:
    kernel.use(request.param)
    yield request.param
    kernel.use("auto")


def _brute(codes: np.ndarray, refs: np.ndarray, alive: np.ndarray, q: np.ndarray,
           r: int) -> list[tuple[int, int]]:
    if not len(codes):
        return []
    d = kernel.popcount_rows(codes ^ q)
    k = np.flatnonzero((d <= r) & alive)
    return sorted(zip(d[k].tolist(), refs[k].tolist(), strict=True))


def _got(index: HammingIndex, queries: np.ndarray, r: int) -> list[list[tuple[int, int]]]:
    res = index.search(queries, r)
    return [sorted(zip(res.dist[res.query == i].tolist(), res.refs[res.query == i].tolist(),
                       strict=True)) for i in range(len(queries))]


def _clustered(rng: np.random.Generator, n: int, words: int, bits: int) -> np.ndarray:
    """Codes around a few centres (real PDQ hashes cluster) plus uniform ones."""
    centres = rng.integers(0, 2**64, size=(max(1, n // 40), words), dtype=np.uint64)
    codes = centres[rng.integers(0, len(centres), n)]
    noise = rng.integers(0, 2**64, size=codes.shape, dtype=np.uint64)
    for _ in range(3):  # sparse noise: about 1 bit in 8 flipped
        noise &= rng.integers(0, 2**64, size=codes.shape, dtype=np.uint64)
    codes = codes ^ noise
    codes[: n // 4] = rng.integers(0, 2**64, size=(n // 4, words), dtype=np.uint64)
    if bits % 64:
        codes[:, -1] &= np.uint64((1 << (bits % 64)) - 1)
    return np.ascontiguousarray(codes)


def _near(rng: np.random.Generator, codes: np.ndarray, k: int, bits: int, max_flips: int
          ) -> np.ndarray:
    picks = codes[rng.integers(0, len(codes), k)].copy()
    for row in picks:
        for b in rng.choice(bits, int(rng.integers(0, max_flips + 1)), replace=False):
            row[b // 64] ^= np.uint64(1) << np.uint64(b % 64)
    return picks


@settings(max_examples=15, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), bits=st.sampled_from([64, 72, 128, 256]),
       n=st.sampled_from([0, 50, 3000, 9000]), delta_limit=st.sampled_from([64, 700, 100_000]),
       removed=st.floats(0, 0.6), thresholds=st.lists(st.integers(0, 300), min_size=1, max_size=4))
def test_exact_against_brute_force(kernel_name: str, seed: int, bits: int, n: int,
                                   delta_limit: int, removed: float,
                                   thresholds: list[int]) -> None:
    """Every live entry within the threshold and nothing else, whatever the layout, the
    threshold, the kernel, the mix of segments and delta, and the tombstones."""
    rng = np.random.default_rng(seed)
    index = HammingIndex(bits=bits, threshold=bits // 8, delta_limit=delta_limit,
                         background_merges=False)
    words = index.words
    codes = _clustered(rng, n, words, bits) if n else np.zeros((0, words), np.uint64)
    refs = rng.permutation(n).astype(np.int64) * 3 + 1
    step = int(rng.integers(1, 2000))
    for s in range(0, n, step):
        index.add_codes(codes[s:s + step], refs[s:s + step], refs[s:s + step] % 5)
    alive = np.ones(n, dtype=bool)
    if n:
        dead = rng.choice(n, int(n * removed), replace=False)
        assert index.remove_refs(refs[dead]) == len(dead)
        alive[dead] = False
    assert len(index) == int(alive.sum())
    queries = np.concatenate([
        _near(rng, codes, 12, bits, 40) if n else np.zeros((0, words), np.uint64),
        _clustered(rng, 4, words, bits)])
    for r in thresholds:
        r = min(r, bits + 1)
        expected = [_brute(codes, refs, alive, q, r) for q in queries]
        assert _got(index, queries, r) == expected


def test_both_kernels_agree_on_a_large_clustered_bank() -> None:
    """Tables built and searched by the compiled kernel and by numpy give the same answers."""
    if not kernel.available():
        pytest.skip("compiled kernel not built")
    rng = np.random.default_rng(7)
    codes = _clustered(rng, 60_000, 4, 256)
    refs = np.arange(60_000)
    queries = _near(rng, codes, 40, 256, 31)
    results = {}
    for name in ("c", "numpy"):
        kernel.use(name)
        index = HammingIndex.from_arrays(256, codes, refs, refs % 3, threshold=31)
        seg = index._view.segments[0]
        assert seg.tables is not None and seg.probe(31) is not None  # the MIH path is used
        results[name] = (_got(index, queries, 31), seg.tables.offsets.copy(), seg.tables.ids.copy())
    kernel.use("auto")
    assert results["c"][0] == results["numpy"][0]
    assert np.array_equal(results["c"][1], results["numpy"][1])
    assert np.array_equal(results["c"][2], results["numpy"][2])
    alive = np.ones(len(codes), bool)
    assert results["c"][0] == [_brute(codes, refs, alive, q, 31) for q in queries]


def test_incremental_add_and_remove_without_rebuild() -> None:
    rng = np.random.default_rng(3)
    base = _clustered(rng, 20_000, 4, 256)
    index = HammingIndex.from_arrays(256, base, np.arange(20_000), np.zeros(20_000, np.int32),
                                     threshold=31, delta_limit=1000, background_merges=False)
    main = index._view.segments[0]
    new = rng.integers(0, 2**64, size=(1, 4), dtype=np.uint64)
    index.add_codes(new, np.array([99_999]), np.array([7]))
    res = index.search(new, 0)
    assert res.refs.tolist() == [99_999] and res.banks.tolist() == [7]
    assert index._view.segments[0] is main  # not rebuilt: the entry sits in the delta
    index.remove_refs([99_999])
    assert len(index.search(new, 0)) == 0
    assert index._view.segments[0] is main
    # removing an entry of the big segment: a tombstone
    assert index.remove_refs([5]) == 1
    assert 5 not in index.search(base[5:6], 0).refs.tolist()
    assert index.contains_refs(np.array([5, 6, 99_999])).tolist() == [False, True, False]
    assert index.remove_refs([5]) == 0  # already gone
    assert len(index) == 19_999


def test_delta_flushes_into_segments_and_merges() -> None:
    rng = np.random.default_rng(4)
    codes = _clustered(rng, 9000, 4, 256)
    index = HammingIndex(bits=256, threshold=31, delta_limit=500, background_merges=False)
    for s in range(0, 9000, 100):
        index.add_codes(codes[s:s + 100], np.arange(s, s + 100))
    stats = index.stats()
    assert stats["entries"] == 9000 and stats["delta"] < 500
    assert 1 <= len(stats["segments"]) <= 6  # logarithmic: merged as it grew
    index.remove_refs(np.arange(0, 9000, 2))  # half dead: the next merge drops them
    index.compact()
    assert index.stats()["segments"] == [4500] and index.stats()["delta"] == 0
    q = _near(rng, codes, 20, 256, 20)
    alive = np.arange(9000) % 2 == 1
    assert _got(index, q, 31) == [_brute(codes, np.arange(9000), alive, x, 31) for x in q]


def test_background_merge_keeps_removals_made_meanwhile(monkeypatch: pytest.MonkeyPatch) -> None:
    import warding.matching.mih as mih

    monkeypatch.setattr(mih, "SYNC_MERGE_LIMIT", 1000)
    rng = np.random.default_rng(5)
    codes = _clustered(rng, 6000, 4, 256)
    index = HammingIndex(bits=256, threshold=31, delta_limit=2000, background_merges=True)
    gate = mih.threading.Event()
    real = index._merged

    def slow(plan, alive):  # type: ignore[no-untyped-def]
        gate.wait(5)
        return real(plan, alive)

    monkeypatch.setattr(index, "_merged", slow)
    for s in range(0, 6000, 2000):
        index.add_codes(codes[s:s + 2000], np.arange(s, s + 2000))
    assert index.stats()["merging"]
    index.remove_refs([10, 2500])  # while the merge runs on a copy
    index.add_codes(codes[:1], np.array([77_777]))
    gate.set()
    index.wait()
    assert not index.stats()["merging"]
    got = set(index.search(codes[[0, 10, 2500, 11]], 0).refs.tolist())
    assert got == {0, 11, 77_777}
    assert len(index) == 6000 - 2 + 1


def test_snapshot_arrays_round_trip(kernel_name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from warding.matching import mih_layout

    monkeypatch.setattr(mih_layout, "SCAN_COST", 100.0)  # tables even for small segments
    rng = np.random.default_rng(6)
    codes = _clustered(rng, 5000, 4, 256)
    index = HammingIndex(bits=256, threshold=31, delta_limit=3000, background_merges=False)
    index.add_codes(codes[:4000], np.arange(4000))
    index.add_codes(codes[4000:], np.arange(4000, 5000))
    index.remove_refs([1, 4001])
    meta, arrays = index.to_arrays()
    assert meta["segments"][0]["tables"]
    again = HammingIndex.from_snapshot(meta, arrays)
    q = _near(rng, codes, 30, 256, 31)
    assert _got(again, q, 31) == _got(index, q, 31)
    assert len(again) == len(index) == 4998
    broken = dict(arrays)
    broken["s0.ids"] = arrays["s0.ids"].copy()
    broken["s0.ids"][0, 0] = 10**9  # out of bounds: refused before the kernel sees it
    with pytest.raises(ValueError):
        HammingIndex.from_snapshot(meta, broken)


def test_planning_is_a_valid_pigeonhole() -> None:
    for bits, n, r in [(256, 10_000_000, 31), (256, 1_000_000, 31), (64, 1_000_000, 6),
                       (256, 50_000, 0), (256, 50_000, 100)]:
        layout = choose_layout(bits, n, r)
        if layout is None:
            continue
        widths = [w for _, w in layout]
        assert sum(widths) == bits
        t, _ = plan_thresholds(widths, n, r)
        assert sum(t) >= r - len(widths) + 1
    assert masks_within(5, 2).tolist()[:6] == [0, 1, 2, 4, 8, 16]
    assert len(masks_within(22, 2)) == 1 + 22 + 231


def test_parse_rejects_bad_values() -> None:
    index = HammingIndex(bits=64)
    with pytest.raises(ValueError, match="16 hex"):
        index.parse(["abc"])
    with pytest.raises(ValueError, match="not a hex"):
        index.parse(["0" * 15 + "z"])
    assert index.to_hex(index.parse(["00000000000000FF"])) == ["00000000000000ff"]
    with pytest.raises(ValueError):
        HammingIndex(bits=12)


def test_kernel_selection() -> None:
    assert kernel.use("numpy") == "numpy"
    assert kernel.use("auto") == ("c" if kernel.available() else "numpy")
