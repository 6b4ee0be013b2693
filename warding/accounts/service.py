"""Account services."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from warding.accounts.roles import PERMISSIONS, ROLES
from warding.audit.log import record
from warding.db.models import ApiKey, User
from warding.errors import Conflict, InvalidInput, NotFound
from warding.events import (
    ApiKeyCreated,
    LoginFailed,
    LoginSucceeded,
    PasswordChanged,
    RoleChanged,
    UserActiveChanged,
    UserCreated,
)

MIN_PASSWORD = 12


def _hasher() -> PasswordHasher:
    return PasswordHasher()


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """A hash of a random password, made on first use: an unknown or disabled user's login
    is checked against it, so that it costs as much as a wrong password (no user name
    enumeration by timing)."""
    return _hasher().hash(secrets.token_urlsafe(16))


def generate_password() -> str:
    return secrets.token_urlsafe(15)


@dataclass(frozen=True)
class UserView:
    id: int
    username: str
    role: str
    active: bool


def view(user: User) -> UserView:
    return UserView(user.id, user.username, user.role, user.active)


def create_user(session: Session, username: str, role: str, password: str, *, actor: str) -> User:
    if role not in ROLES:
        raise InvalidInput(f"unknown role {role!r}; use one of {', '.join(ROLES)}")
    if not username or len(username) > 120 or not username.isprintable() or " " in username:
        raise InvalidInput("a username is 1–120 printable characters without spaces")
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"the password must have at least {MIN_PASSWORD} characters")
    if session.execute(select(User.id).where(User.username == username)).first():
        raise Conflict(f"user {username!r} already exists")
    user = User(username=username, role=role, password_hash=_hasher().hash(password), active=True)
    session.add(user)
    session.flush()
    record(session, UserCreated(username, role), actor)
    return user


def set_password(session: Session, username: str, password: str, *, actor: str) -> User:
    user = get_user(session, username)
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"the password must have at least {MIN_PASSWORD} characters")
    user.password_hash = _hasher().hash(password)
    record(session, PasswordChanged(username), actor)
    return user


def _active_admins(session: Session) -> int:
    return len(session.execute(
        select(User.id).where(User.role == "admin", User.active.is_(True))).all())


def set_role(session: Session, username: str, role: str, *, actor: str) -> User:
    """Change a user's role (a setting change, audited with the old and new role).
    The last active admin keeps the role, so nobody can lock the installation out."""
    if role not in ROLES:
        raise InvalidInput(f"unknown role {role!r}; use one of {', '.join(ROLES)}")
    user = get_user(session, username)
    if user.role == role:
        return user
    if user.role == "admin" and user.active and _active_admins(session) <= 1:
        raise Conflict(f"{username!r} is the last active admin; make another admin first")
    old = user.role
    user.role = role
    record(session, RoleChanged(username, old, role), actor)
    return user


def set_active(session: Session, username: str, active: bool, *, actor: str) -> User:
    """Disable (or re-enable) a user: a disabled user's sessions and API keys stop working."""
    user = get_user(session, username)
    if user.active == active:
        return user
    if not active and user.role == "admin" and _active_admins(session) <= 1:
        raise Conflict(f"{username!r} is the last active admin; make another admin first")
    user.active = active
    record(session, UserActiveChanged(username, active), actor)
    return user


def get_user(session: Session, username: str) -> User:
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        raise NotFound(f"no user {username!r}")
    return user


def list_users(session: Session) -> list[UserView]:
    return [view(u) for u in session.execute(select(User).order_by(User.username)).scalars()]


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The user if the password is right; the attempt is audited either way.

    Every attempt verifies one argon2 hash (a dummy one for an unknown or disabled user), so
    all failures cost the same time. A stored hash made with older argon2 parameters is
    replaced by one with the current parameters when the password is right."""
    hasher = _hasher()
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    known = user is not None and user.active
    stored = user.password_hash if known and user is not None else _dummy_hash()
    try:
        ok = hasher.verify(stored, password) and known
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    if not ok:
        record(session, LoginFailed(username[:120]), "anonymous")
        return None
    assert user is not None
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    record(session, LoginSucceeded(username), username)
    return user


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_key(session: Session, username: str, *, actor: str,
                   scopes: list[str] | None = None) -> str:
    """A new key for ``username``; only its SHA-256 is stored, the key is shown once.

    ``scopes`` narrows what the key may do to these permissions (each one the user's role
    has); without scopes the key may do all its user's role may."""
    user = get_user(session, username)
    wanted = sorted(set(scopes or []))
    granted = PERMISSIONS.get(user.role, frozenset())
    unknown = [s for s in wanted if s not in granted]
    if unknown:
        raise InvalidInput(f"the {user.role} role does not have {', '.join(unknown)}; "
                           f"scopes must be among: {', '.join(sorted(granted))}")
    key = "wd_" + secrets.token_urlsafe(32)
    session.add(ApiKey(user_id=user.id, prefix=key[:10], key_hash=_key_hash(key),
                       scopes=wanted))
    record(session, ApiKeyCreated(username, key[:10], wanted), actor)
    return key


def api_key_owner(session: Session, key: str) -> tuple[User, frozenset[str] | None] | None:
    """The active user a key acts as and the key's scopes (None: the role's permissions)."""
    row = session.execute(
        select(ApiKey).where(ApiKey.key_hash == _key_hash(key), ApiKey.revoked.is_(False))
    ).scalar_one_or_none()
    if row is None:
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        return None
    return user, (frozenset(row.scopes) if row.scopes else None)


def user_for_api_key(session: Session, key: str) -> User | None:
    owner = api_key_owner(session, key)
    return owner[0] if owner is not None else None
