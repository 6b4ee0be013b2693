"""The short fuzz run of ``make test``: every parser's target (tests/fuzz/targets.py) with
a few dozen hypothesis inputs each (seeds, mutated seeds and arbitrary bytes). The long,
coverage-guided run is ``make fuzz`` (docs/benchmarks.md has its figures).

A known failure of the HTTP target (tests.fuzz.targets.HTTP_KNOWN, owned by the web-layer
part of issue 22) is reported, not failed on."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fuzz.run import ALL
from tests.fuzz.strategies import run_hypothesis
from tests.fuzz.targets import Target, build, signature

SHORT = {"html": 15, "http_api": 25}
DEFAULT = 60


@pytest.fixture(scope="module")
def targets(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Target]]:
    yield build(tmp_path_factory.mktemp("fuzz"))


@pytest.mark.parametrize("name", ALL)
def test_short_fuzz_run(name: str, targets: dict[str, Target]) -> None:
    target = targets[name]
    crashes: dict[str, str] = {}
    known: dict[str, str] = {}

    def one(data: bytes) -> None:
        try:
            target.run(data)
        except Exception as exc:  # noqa: BLE001 - every unexpected exception is a finding
            why = target.known(data, exc) if target.known else ""
            (known if why else crashes).setdefault(signature(exc), f"{exc!r:.300} on {data!r:.200}")

    for seed in target.seeds:  # every seed is a valid input and must go through
        one(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run_hypothesis(one, target.seeds, SHORT.get(name, DEFAULT))
    assert not crashes, crashes
    if known:
        print(f"{name}: known failure(s) still present: {sorted(known)}")


def test_every_parser_has_a_target() -> None:
    assert set(ALL) == {"posts_jsonl", "posts_csv", "telegram", "html", "hashlist_jsonl",
                        "hashlist_csv", "hashlist_lines", "hashlist_tcap", "image", "http_api"}
    assert all(Path(__file__).parent.joinpath("fuzz", f).exists()
               for f in ("targets.py", "run.py", "strategies.py"))
