"""Every command, option and setting is documented (a Datasette habit)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer

from warding.cli.main import app
from warding.config import Settings
from warding.plugins import action_sink_classes, connector_classes, signal_type_classes

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _commands(group: Any, prefix: str = "warding") -> Iterator[tuple[str, Any]]:
    for name, cmd in sorted(group.commands.items()):
        path = f"{prefix} {name}"
        if hasattr(cmd, "commands"):
            yield from _commands(cmd, path)
        else:
            yield path, cmd


COMMANDS = list(_commands(typer.main.get_command(app)))


def _section(text: str, heading: str) -> str:
    pattern = re.compile(rf"^#+ `{re.escape(heading)}`\s*$(.*?)(?=^#+ `warding|\Z)", re.M | re.S)
    match = pattern.search(text)
    assert match, f"docs/cli.md has no section headed `{heading}`"
    return match.group(1)


@pytest.mark.parametrize("path,cmd", COMMANDS, ids=[p for p, _ in COMMANDS])
def test_command_documented(path: str, cmd: Any) -> None:
    section = _section((DOCS / "cli.md").read_text(encoding="utf-8"), path)
    for param in cmd.params:
        if param.param_type_name == "option":
            longest = max(param.opts, key=len)
            if longest == "--help":
                continue
            assert longest in section, f"{path}: option {longest} is not documented"


def test_global_options_documented() -> None:
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    for opt in ("--db", "--data-dir"):
        assert opt in text


def test_settings_documented() -> None:
    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    for name in Settings.model_fields:
        assert f"WARDING_{name.upper()}" in text, f"setting {name} is not documented"


def test_plugins_documented() -> None:
    text = (DOCS / "architecture.md").read_text(encoding="utf-8")
    names = list(signal_type_classes()) + [c.name for c in connector_classes()] \
        + list(action_sink_classes())
    for name in names:
        assert f"`{name}`" in text, f"plug-in {name} is not documented in docs/architecture.md"
