"""Warding's stand-in for HMA's ``OpenMediaMatch`` package, for HMA's own tests only.

HMA's test files (read from ../shared/hma-tests, never copied) import a few names from
``OpenMediaMatch``: the fixtures of ``OpenMediaMatch.tests.utils``, ``persistence.get_storage``,
``background_tasks`` and ``blueprints.matching``. This package supplies them, mapped onto
Warding: the ``client`` fixture speaks HTTP to a Warding app with the Flask test client's
interface, and the storage and background tasks are Warding's banks and match index.
"""
