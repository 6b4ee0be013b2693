"""The scan pipeline: ingest → signals → match/classify → cases."""
