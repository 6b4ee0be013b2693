"""HMA's background tasks, mapped onto Warding (see ``build_index`` and ``fetcher``)."""
