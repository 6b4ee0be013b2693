"""HMA's own HTTP tests, run against Warding (issue 13).

The test files are read from ``../shared/hma-tests/OpenMediaMatch/tests`` (facebook/
ThreatExchange, BSD; never copied into this repository, never written to: the folder is
read-only in CI, so no bytecode is written for them). They import ``OpenMediaMatch``,
which is Warding's stand-in package in this folder (see ``OpenMediaMatch/__init__.py``).
``tests/hma/test_hma_upstream.py`` is where they appear in a run; without ../shared
(a bare clone) one skipped test says why.

A test that cannot pass against Warding would be marked xfail here (XFAIL), with the reason;
each difference left is documented in docs/api.md.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
UPSTREAM = HERE.parents[2] / "shared" / "hma-tests" / "OpenMediaMatch" / "tests"
FILES = ("test_api.py", "test_api_banks.py", "test_match_api.py", "test_e2e_workflow.py")
PLACEHOLDER = "test_hma_upstream.py"

# HMA's tests that cannot pass against Warding, with the reason (none today).
XFAIL: dict[str, str] = {}


def _stand_ins() -> None:
    """Make ``OpenMediaMatch`` Warding's stand-in, with HMA's test files in its ``tests``."""
    if str(HERE) not in sys.path:
        sys.path.insert(0, str(HERE))
    tests_pkg = importlib.import_module("OpenMediaMatch.tests")
    if str(UPSTREAM) not in tests_pkg.__path__:
        tests_pkg.__path__.append(str(UPSTREAM))


class UpstreamModule(pytest.Module):
    """One of HMA's test files, imported as ``OpenMediaMatch.tests.<name>``."""

    def _getobj(self) -> ModuleType:
        _stand_ins()
        before = sys.dont_write_bytecode
        sys.dont_write_bytecode = True  # ../shared is read-only: no __pycache__ there
        try:
            return importlib.import_module(f"OpenMediaMatch.tests.{self.path.stem}")
        finally:
            sys.dont_write_bytecode = before


class Missing(pytest.Item):
    def runtest(self) -> None:
        pytest.skip(f"HMA's tests are not here: {UPSTREAM} is missing (they are laid out "
                    "in ../shared/hma-tests beside the checkout; see tests/hma/conftest.py)")

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, "HMA's tests"


class UpstreamFiles(pytest.File):
    def collect(self) -> Iterator[Any]:
        if not all((UPSTREAM / name).is_file() for name in FILES):
            yield Missing.from_parent(self, name="hma_tests_missing")
            return
        for name in FILES:
            yield UpstreamModule.from_parent(self, path=UPSTREAM / name,
                                             nodeid=f"{self.nodeid}::{name}")


def pytest_pycollect_makemodule(module_path: Path, parent: Any) -> Any:
    if module_path.name == PLACEHOLDER and module_path.parent == HERE:
        return UpstreamFiles.from_parent(parent, path=module_path)
    return None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if isinstance(item.parent, UpstreamModule) and item.name in XFAIL:
            item.add_marker(pytest.mark.xfail(reason=XFAIL[item.name], strict=True))
