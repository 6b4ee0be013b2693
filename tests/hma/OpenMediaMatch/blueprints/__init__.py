"""The names HMA's tests import from ``OpenMediaMatch.blueprints`` (see ``matching``)."""
