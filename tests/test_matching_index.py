"""The in-memory indexes: exact results against brute force."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from warding.matching.index import ExactIndex, HammingIndex, IndexHit, index_for
from warding.signals.pdq import PDQSignal
from warding.signals.text import TextNearSignal
from warding.signals.url import URLSignal


def _distance(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


def _near(value: str, flips: int, rng: random.Random, bits: int = 256) -> str:
    x = int(value, 16)
    for bit in rng.sample(range(bits), flips):
        x ^= 1 << bit
    return f"{x:0{bits // 4}x}"


hashes = st.integers(min_value=0, max_value=2**256 - 1).map(lambda x: f"{x:064x}")
# ops: ("add", hash, ref) or ("remove", ref)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("add"), hashes, st.integers(0, 40)),
        st.tuples(st.just("remove"), st.integers(0, 40)),
    ),
    max_size=120,
)


@settings(max_examples=60, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
@given(ops=operations, data=st.data())
def test_hamming_index_matches_brute_force(ops: list[tuple], data: st.DataObject) -> None:
    index = HammingIndex(bits=256)
    if data.draw(st.booleans()):
        index._MIN_CAPACITY = 2  # grow and compact often
    model: list[tuple[str, int]] = []
    rng = random.Random(data.draw(st.integers(0, 2**32)))
    for op in ops:
        if op[0] == "add":
            index.add(op[1], op[2])
            model.append((op[1], op[2]))
        else:
            index.remove(op[1])
            model = [(v, r) for v, r in model if r != op[1]]
    assert len(index) == len(model)
    queries = [data.draw(hashes) for _ in range(3)]
    # queries close to stored values, so that small thresholds find something
    queries += [_near(v, rng.randrange(0, 40), rng) for v, _ in model[:5]]
    for query in queries:
        threshold = data.draw(st.integers(0, 64))
        candidates = (IndexHit(v, r, _distance(v, query)) for v, r in model)
        expected = sorted(
            (h for h in candidates if h.distance <= threshold), key=lambda h: (h.distance, h.ref)
        )
        got = index.query(query, threshold)
        assert [(h.distance, h.ref) for h in got] == [(h.distance, h.ref) for h in expected]
        assert sorted((h.value, h.ref, h.distance) for h in got) == sorted(
            (h.value, h.ref, h.distance) for h in expected
        )


def test_hamming_build_query_many_and_compaction() -> None:
    rng = random.Random(5)
    values = [f"{rng.getrandbits(256):064x}" for _ in range(300)]
    index = HammingIndex.build((v, i) for i, v in enumerate(values))
    assert index.bits == 256 and len(index) == 300
    probes = [_near(values[10], 5, rng), _near(values[20], 31, rng), _near(values[30], 60, rng)]
    results = index.query_many(probes, 31)
    assert [[(h.ref, h.distance) for h in r] for r in results] == [[(10, 5)], [(20, 31)], []]
    for ref in range(0, 250):  # triggers compaction
        index.remove(ref)
    assert len(index) == 50
    assert index.query(values[260], 0) == [IndexHit(values[260], 260, 0)]
    everything = index.query(values[10], 256)
    assert sorted(h.ref for h in everything) == list(range(250, 300))
    index.add(values[10], 10)
    assert index.query(values[10], 0) == [IndexHit(values[10], 10, 0)]


def test_hamming_sorting_and_duplicates() -> None:
    index = HammingIndex(bits=64)
    index.add("00000000000000ff", 7)
    index.add("00000000000000FF", 3)  # upper case accepted, reported lower case
    index.add("0000000000000000", 9)
    index.add("0000000000000001", 1)
    hits = index.query("0000000000000000", 8)
    assert [(h.ref, h.distance) for h in hits] == [(9, 0), (1, 1), (3, 8), (7, 8)]
    assert hits[2].value == "00000000000000ff"
    assert index.query("0000000000000000", -1) == []


def test_hamming_rejects_bad_values() -> None:
    index = HammingIndex(bits=64)
    with pytest.raises(ValueError):
        index.add("abc", 1)
    with pytest.raises(ValueError):
        index.add("zz" * 8, 1)
    with pytest.raises(ValueError):
        index.query("00" * 32, 3)
    with pytest.raises(ValueError):
        HammingIndex(bits=12)
    with pytest.raises(ValueError):
        HammingIndex.build([])


def test_exact_index() -> None:
    index = ExactIndex.build([("a", 2), ("b", 1), ("a", 1)])
    assert len(index) == 3
    assert index.query("a", 0) == [IndexHit("a", 1, 0), IndexHit("a", 2, 0)]
    assert index.query("c", 10) == []
    index.remove(1)
    assert len(index) == 1
    assert index.query("a", 0) == [IndexHit("a", 2, 0)]
    assert index.query("b", 0) == []
    index.remove(1)  # unknown ref: ignored
    index.add("b", 5)
    assert index.query("b", 0) == [IndexHit("b", 5, 0)]
    assert len(index) == 2


def test_index_for() -> None:
    pdq = index_for(PDQSignal())
    assert isinstance(pdq, HammingIndex) and pdq.bits == 256
    near = index_for(TextNearSignal())
    assert isinstance(near, HammingIndex) and near.bits == 64
    assert isinstance(index_for(URLSignal()), ExactIndex)


def test_popcount_fallback_without_numpy2(monkeypatch: pytest.MonkeyPatch) -> None:
    import numpy as np

    rng = random.Random(9)
    values = [f"{rng.getrandbits(256):064x}" for _ in range(50)]
    index = HammingIndex.build((v, i) for i, v in enumerate(values))
    expected = index.query(values[0], 128)
    monkeypatch.delattr(np, "bitwise_count")
    assert index.query(values[0], 128) == expected
