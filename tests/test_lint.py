"""The package stays clean under ruff and mypy, at the versions pinned in the ``test`` extra
(``pyproject.toml``); tests/ and benchmarks/ are not checked."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("tool", [["ruff", "check", "warding"], ["mypy", "warding"]],
                         ids=["ruff", "mypy"])
def test_the_package_is_clean(tool: list[str]) -> None:
    done = subprocess.run([sys.executable, "-m", *tool], cwd=ROOT, capture_output=True,
                          text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
