"""The demo: neutral placeholder content standing in for known material."""
