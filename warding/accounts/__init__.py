"""Users, roles, passwords (argon2) and API keys (stored hashed)."""
