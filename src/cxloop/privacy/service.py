"""Users, passwords (argon2) and API tokens (SHA-256 of a 256-bit random secret)."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.db.base import utcnow
from cxloop.errors import Conflict, Invalid, NotFound, Unauthenticated
from cxloop.privacy.models import ApiToken, User
from cxloop.privacy.schemas import TokenCreate, TokenIssued, UserCreate

__all__ = ["TokenCreate", "create_token", "create_user", "login"]

TOKEN_PREFIX = "cxl_"
_hasher = PasswordHasher()


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def create_user(*, session: Session, user_in: UserCreate) -> User:
    if session.scalar(select(User).where(User.username == user_in.username)):
        raise Conflict(f"user {user_in.username!r} already exists")
    user = User(
        username=user_in.username,
        role=user_in.role.value,
        password_hash=_hasher.hash(user_in.password) if user_in.password else None,
    )
    session.add(user)
    session.flush()
    return user


def get_user(*, session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"user {username!r} does not exist")
    return user


def list_users(*, session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.id)))


def create_token(*, session: Session, token_in: TokenCreate) -> TokenIssued:
    user = get_user(session=session, username=token_in.username)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires = utcnow() + dt.timedelta(days=token_in.days) if token_in.days else None
    session.add(
        ApiToken(
            user_id=user.id,
            name=token_in.name,
            token_hash=_token_hash(token),
            prefix=token[:10],
            expires_at=expires,
        )
    )
    session.flush()
    return TokenIssued(
        token=token, prefix=token[:10], username=user.username, role=user.role, expires_at=expires
    )


def authenticate_token(*, session: Session, token: str) -> User:
    """The active user behind a bearer token, or ``Unauthenticated``."""
    found = session.scalar(select(ApiToken).where(ApiToken.token_hash == _token_hash(token)))
    now = utcnow()
    if (
        found is None
        or found.revoked_at is not None
        or (found.expires_at is not None and found.expires_at < now)
    ):
        raise Unauthenticated("the token is unknown, revoked or expired")
    user = session.get(User, found.user_id)
    if user is None or not user.active:
        raise Unauthenticated("the token's user is inactive")
    found.last_used_at = now
    return user


def login(*, session: Session, username: str, password: str) -> TokenIssued:
    """Check a password and issue a one-day token (what the web page keeps in its cookie)."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.active or not user.password_hash:
        raise Unauthenticated("wrong user name or password")
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        raise Unauthenticated("wrong user name or password") from None
    return create_token(
        session=session, token_in=TokenCreate(username=username, name="login", days=1)
    )


def revoke_token(*, session: Session, token: str) -> None:
    found = session.scalar(select(ApiToken).where(ApiToken.token_hash == _token_hash(token)))
    if found is None:
        raise Invalid("is not a known token", "token", token[:10])
    found.revoked_at = utcnow()
