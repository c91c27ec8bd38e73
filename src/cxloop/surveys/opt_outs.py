"""The unsubscribe link of an invitation: who it names and recording their opt-out, for that
address and channel, forever (``privacy.preferences``; every later send skips them)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.db.base import utcnow
from cxloop.errors import NotFound
from cxloop.surveys import delivery, preferences_io, tokens
from cxloop.surveys.models import Distribution, Invitation

CHANNEL_OF = {"email": "email", "webhook": "webhook", "csv": "any", "link": "any"}
"""The preference channel an unsubscribe from each distribution channel records."""


@dataclass(frozen=True)
class Unsubscribe:
    """Whom an unsubscribe link names: the address (None when the invitation has none) and the
    preference channel, in the invitation's language."""

    address: str | None
    channel: str
    language: str

    @property
    def shown(self) -> str:
        """The address half hidden (``w***@example.com``, ``***8000``), for the page."""
        text = self.address or ""
        if "@" in text:
            local, _, domain = text.partition("@")
            return f"{local[:1]}***@{domain}"
        if ":" in text:
            return text.split(":", 1)[0]
        return f"***{text[-4:]}" if len(text) > 4 else "***"


def find(
    *, session: Session, settings: Settings, token: str, now: dt.datetime | None = None
) -> Unsubscribe:
    """What an unsubscribe token names; ``tokens.LinkError`` for a bad token, ``NotFound`` for
    an invitation that is not (or no longer) stored."""
    key = tokens.link_key(session, settings)
    content = tokens.read_link(token, key, purpose="unsubscribe", now=now or utcnow())
    invitation = session.scalars(
        select(Invitation).where(Invitation.public_id == content.public_id)
    ).one_or_none()
    if invitation is None:
        raise NotFound("this unsubscribe link names no invitation")
    dist = session.get(Distribution, invitation.distribution_id)
    channel = CHANNEL_OF.get(dist.channel if dist is not None else "email", "any")
    return Unsubscribe(delivery.address(invitation, channel), channel, invitation.language)


def unsubscribe(
    *, session: Session, settings: Settings, token: str, now: dt.datetime | None = None
) -> Unsubscribe:
    """Record the opt-out the token names (again is fine: nothing new is stored)."""
    found = find(session=session, settings=settings, token=token, now=now)
    if found.address:
        preferences_io.opt_out(session, found.address, found.channel, "unsubscribe_link")
    return found
