"""Run the CLI in process, as Datasette's tests do."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from warding.cli.main import app


class CLI:
    def __init__(self, tmp: Path, db: str | None = None) -> None:
        self.db = db or f"sqlite:///{tmp / 'cli.db'}"
        self.data_dir = tmp / "cli-data"
        self.runner = CliRunner()

    def run(self, *args: str, input: str | None = None, code: int | None = 0) -> Any:
        result = self.runner.invoke(
            app, ["--db", self.db, "--data-dir", str(self.data_dir), *args], input=input)
        if code is not None:
            assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr,
                                              result.exception)
        return result

    def json(self, *args: str, code: int | None = 0) -> Any:
        return json.loads(self.run(*args, code=code).stdout)
