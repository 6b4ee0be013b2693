"""``OpenMediaMatch.tests``: Warding's ``utils`` (fixtures and helpers), and HMA's test files
themselves, found in ../shared/hma-tests/OpenMediaMatch/tests (added to this package's path
by tests/hma/conftest.py, after this folder, so that ``utils`` is Warding's)."""
