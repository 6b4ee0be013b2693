"""Hypothesis strategies for the fuzz targets: arbitrary bytes, and seeds with a few
bytes changed, inserted or cut (so that inputs reach past the first syntax check)."""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st


def _mutate(seed: bytes, edits: list[tuple[int, int, bytes]]) -> bytes:
    data = bytearray(seed)
    for kind, at, chunk in edits:
        pos = at % (len(data) + 1)
        if kind == 0:
            data[pos:pos + len(chunk)] = chunk  # overwrite
        elif kind == 1:
            data[pos:pos] = chunk  # insert
        else:
            del data[pos:pos + 1 + len(chunk)]  # cut
    return bytes(data)


def inputs(seeds: list[bytes]) -> st.SearchStrategy[bytes]:
    edits = st.lists(st.tuples(st.integers(0, 2), st.integers(0, 1 << 16),
                               st.binary(min_size=1, max_size=8)), max_size=6)
    mutated = st.builds(_mutate, st.sampled_from(seeds), edits)
    return st.one_of(mutated, st.binary(max_size=2048), st.sampled_from(seeds))


def run_hypothesis(one: Callable[[bytes], None], seeds: list[bytes], cases: int) -> None:
    """Run ``one`` on ``cases`` generated inputs (it records failures itself)."""

    @settings(max_examples=cases, database=None, deadline=None, derandomize=False,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    @given(inputs(seeds))
    def fuzz(data: bytes) -> None:
        one(data)

    fuzz()
