"""Roles and what each may do. Every page and endpoint checks one of these permissions."""

from __future__ import annotations

ROLES = ("admin", "reviewer", "analyst", "legal", "api")

PERMISSIONS: dict[str, frozenset[str]] = {
    "admin": frozenset({"view_cases", "decide", "view_media", "manage_banks", "view_banks",
                        "scan", "match", "classify", "manage_users", "view_audit", "view_stats",
                        "view_actions", "manage_actions", "view_statements", "own_settings",
                        "legal", "view_legal", "submit_notice"}),
    "reviewer": frozenset({"view_cases", "decide", "view_media", "view_banks", "match",
                           "classify", "view_actions", "view_statements", "own_settings",
                           "view_legal"}),
    "analyst": frozenset({"view_cases", "view_banks", "match", "classify", "view_stats",
                          "view_actions", "view_statements", "own_settings"}),
    # The legal officer: removal orders, complaints, notices, preservation, legal reports.
    # Reviewers see the orders, notices and complaints of the cases they can open.
    "legal": frozenset({"view_cases", "view_media", "view_banks", "match", "view_stats",
                        "view_actions", "view_statements", "own_settings", "legal",
                        "view_legal", "submit_notice"}),
    # The platform's own client: matching, banks, and the statements it passes on.
    # It also forwards the DSA notices its users send (submit_notice).
    "api": frozenset({"view_banks", "match", "classify", "scan", "manage_banks",
                      "view_statements", "submit_notice"}),
}


def allowed(role: str, permission: str) -> bool:
    return permission in PERMISSIONS.get(role, frozenset())
