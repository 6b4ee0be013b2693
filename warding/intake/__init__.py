"""Live intake: platforms send posts to ``POST /api/items`` (issue 13)."""
