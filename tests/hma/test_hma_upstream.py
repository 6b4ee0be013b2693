"""Placeholder: HMA's own tests are collected here from ../shared/hma-tests (see conftest.py).
Run them with ``.venv/bin/python -m pytest tests/hma``."""
