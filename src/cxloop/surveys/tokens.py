"""Signed, expiring survey links: the recipient's random ``public_id`` and the expiry, packed with
a purpose byte and an HMAC-SHA256, so a link can be neither guessed, edited nor extended.

Written with ``hmac`` rather than a library (itsdangerous) because the format is 40 lines and
the stdlib already gives the constant-time comparison; nothing of the link is stored, so links
can be printed again from ``public_id`` and ``expires_at`` (``cxloop surveys links``).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import secrets
import struct
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.errors import CxloopError
from cxloop.surveys.models import AppSecret

Purpose = Literal["survey", "unsubscribe"]
PURPOSES: dict[Purpose, bytes] = {"survey": b"s", "unsubscribe": b"u"}
VERSION = b"\x01"
MAC_BYTES = 16
"""128 bits of HMAC-SHA256: forging one needs ~2^128 tries against a server that answers each."""
EPOCH = dt.datetime(1970, 1, 1)
KEY_NAME = "link_key"
UNSUBSCRIBE_DAYS = 3650
"""An unsubscribe link keeps working for ten years; the opt-out it records never expires."""

LinkProblem = Literal["tampered", "expired", "malformed"]


class LinkError(CxloopError):
    """A link that cannot be used: ``kind`` says why (tampered, expired or malformed)."""

    def __init__(self, kind: LinkProblem, message: str) -> None:
        self.kind: LinkProblem = kind
        super().__init__(message)


@dataclass(frozen=True)
class LinkContent:
    public_id: str
    expires_at: dt.datetime


def new_public_id() -> str:
    """A fresh random id for an invitation (96 bits, URL-safe)."""
    return secrets.token_urlsafe(12)


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _seconds(moment: dt.datetime) -> int:
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return max(0, int((moment - EPOCH).total_seconds()))


def make_link(
    public_id: str, expires_at: dt.datetime, key: bytes, *, purpose: Purpose = "survey"
) -> str:
    """The URL-safe token for ``public_id`` valid until ``expires_at`` (naive UTC).

    >>> token = make_link("abc", dt.datetime(2030, 1, 1), b"k" * 32)
    >>> read_link(token, b"k" * 32, now=dt.datetime(2029, 1, 1)).public_id
    'abc'
    """
    payload = (
        VERSION
        + PURPOSES[purpose]
        + struct.pack(">Q", _seconds(expires_at))
        + public_id.encode("utf-8")
    )
    mac = hmac.new(key, payload, hashlib.sha256).digest()[:MAC_BYTES]
    return _encode(payload + mac)


def read_link(
    token: str, key: bytes, *, purpose: Purpose = "survey", now: dt.datetime | None = None
) -> LinkContent:
    """The ``public_id`` and expiry a token carries, or ``LinkError``: ``malformed`` (not one of
    our tokens, or one made for another purpose), ``tampered`` (the signature does not match),
    ``expired`` (signature fine, past its expiry at ``now``)."""
    try:
        raw = _decode(token.strip())
    except (binascii.Error, ValueError):
        raise LinkError("malformed", "this is not a survey link") from None
    if len(raw) < 2 + 8 + 1 + MAC_BYTES or raw[:1] != VERSION:
        raise LinkError("malformed", "this is not a survey link")
    payload, mac = raw[:-MAC_BYTES], raw[-MAC_BYTES:]
    expected = hmac.new(key, payload, hashlib.sha256).digest()[:MAC_BYTES]
    if not hmac.compare_digest(mac, expected):
        raise LinkError("tampered", "this link was changed or was not made by this server")
    if payload[1:2] != PURPOSES[purpose]:
        raise LinkError("malformed", f"this is not a {purpose} link")
    (seconds,) = struct.unpack(">Q", payload[2:10])
    try:
        public_id = payload[10:].decode("utf-8")
    except UnicodeDecodeError:
        raise LinkError("malformed", "this is not a survey link") from None
    expires_at = EPOCH + dt.timedelta(seconds=seconds)
    moment = now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    if moment >= expires_at:
        raise LinkError("expired", f"this link expired on {expires_at:%Y-%m-%d %H:%M} UTC")
    return LinkContent(public_id, expires_at)


def link_key(session: Session, settings: Settings) -> bytes:
    """The signing key: ``CXLOOP_SECRET_KEY`` when set, else the store's own random key (made on
    first use and kept in ``app_secrets``, so links survive restarts without configuration)."""
    if settings.secret_key:
        return settings.secret_key.encode("utf-8")
    stored = session.get(AppSecret, KEY_NAME)
    if stored is None:
        try:
            with session.begin_nested():
                session.add(AppSecret(name=KEY_NAME, value=secrets.token_urlsafe(32)))
        except IntegrityError:  # another process made it first: use theirs
            pass
        stored = session.scalars(select(AppSecret).where(AppSecret.name == KEY_NAME)).one()
    return stored.value.encode("utf-8")


def survey_url(settings: Settings, token: str) -> str:
    """The respondent's form for a personal link (served by the respond pages)."""
    return f"{settings.public_url.rstrip('/')}/s/{token}"


def anonymous_url(settings: Settings, anonymous_public_id: str) -> str:
    """The one link of an anonymous distribution (anyone with it may answer)."""
    return f"{settings.public_url.rstrip('/')}/s/a/{anonymous_public_id}"


def unsubscribe_url(settings: Settings, token: str) -> str:
    """The one-click unsubscribe page of a recipient (``/u/{token}``)."""
    return f"{settings.public_url.rstrip('/')}/u/{token}"
