"""HMA's own HTTP tests (facebook/ThreatExchange) run against Warding: see conftest.py."""
