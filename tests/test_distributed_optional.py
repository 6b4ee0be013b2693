"""Dask is optional: without it Warding works, and ``--dask`` says how to install it."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.cli_helpers import CLI
from warding.distributed.cluster import INSTALL_HINT, local_workers
from warding.errors import WardingError


def test_scan_dask_without_dask_says_how_to_install_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cli = CLI(tmp_path)
    cli.run("init")
    posts = tmp_path / "posts.jsonl"
    posts.write_text(json.dumps({"id": "p1", "text": "a neutral placeholder post"}) + "\n")
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if it were not installed
    result = cli.run("scan", str(posts), "--dask", "local:2", code=1)
    assert "pip install 'warding[dask]'" in result.stderr
    assert INSTALL_HINT.startswith("Dask is not installed")
    assert cli.json("scan", str(posts), "--json")["items"] == 1  # a local scan still works


@pytest.mark.parametrize("spec", ["local:0", "local:x", "local:", "local:99999"])
def test_bad_local_cluster_sizes_are_refused(spec: str) -> None:
    with pytest.raises(WardingError, match="local:N"):
        local_workers(spec)


def test_an_address_is_not_a_local_cluster() -> None:
    assert local_workers("tcp://127.0.0.1:8786") is None and local_workers("local:3") == 3


def test_shard_answers_merge_in_the_single_index_order() -> None:
    """Closest first, then bank and entry; a video: the largest share of frames first (the
    order of warding.matching.video)."""
    from warding.distributed.shards import merge
    from warding.matching.service import MatchResult

    def hit(entry: int, distance: int, bank: str = "b", share: float | None = None) -> Any:
        frames = {} if share is None else {"query_match_percent": share}
        return MatchResult(bank, 1, entry, "pdq", "v", "q", distance, frames=frames)

    one = [[hit(1, 5), hit(3, 9)], [hit(7, 2, share=50.0)]]
    two = [[hit(2, 5), hit(4, 0, "a")], [hit(8, 0, share=40.0), hit(6, 3, share=90.0)]]
    got = merge([one, two])
    assert [r.entry_id for r in got[0]] == [4, 1, 2, 3]
    assert [r.entry_id for r in got[1]] == [6, 7, 8]
    assert merge([]) == []
