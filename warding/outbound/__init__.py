"""Outbound requests: the one guard every fetch of a URL Warding did not choose goes through."""
