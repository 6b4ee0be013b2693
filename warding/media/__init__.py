"""Content-addressed media store."""
