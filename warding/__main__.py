"""``python -m warding`` runs the CLI."""

from warding.cli.main import run

run()
