"""Incident response (issue 20): retroactive matching of stored items against bank entries
that arrived after them, incidents that group a surge of copies, cluster decisions and the
time-to-protect figures. See docs/incidents.md."""
