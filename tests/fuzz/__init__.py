"""Fuzz targets for every parser (issue 22): a short run in ``make test``
(tests/test_fuzz.py), a long coverage-guided one with ``make fuzz`` (tests/fuzz/run.py)."""
