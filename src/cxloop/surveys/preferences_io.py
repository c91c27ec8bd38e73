"""The contact preferences a send reads and writes (opt-outs per channel, bounces, consents),
through ``privacy.preferences`` — the one place they are kept."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from cxloop.privacy import preferences
from cxloop.surveys.models import Invitation

CHANNELS_OF = {"email": ("email", "any"), "webhook": ("webhook", "sms", "any"), "csv": ("any",)}
"""Which recorded preference channels bind a send on each of our channels."""


def kinds(session: Session, addresses: Sequence[str], channel: str) -> dict[str, frozenset[str]]:
    """Address → kinds recorded for it (opted_out, bounced, consented) on ``channel``."""
    if not addresses:
        return {}
    return preferences.kinds(
        session=session, addresses=addresses, channels=CHANNELS_OF.get(channel, ("any",))
    )


def mark_bounced(session: Session, address: str, channel: str, reason: str | None) -> None:
    preferences.mark_bounced(
        session=session, address=address, channel=channel, reason=reason, source="survey"
    )


def opt_out(session: Session, address: str, channel: str, source: str) -> None:
    preferences.opt_out(session=session, address=address, channel=channel, source=source)


def _addresses(invitation: Invitation, channel: str) -> list[str]:
    found = [invitation.email if channel == "email" else invitation.phone]
    found.append(
        f"contact:{invitation.contact_id}"
        if invitation.contact_id
        else f"customer:{invitation.customer_id}"
    )
    return [a for a in found if a]


def opted_out(session: Session, invitations: Sequence[Invitation], channel: str) -> set[int]:
    """Ids of the invitations whose address (or person) has opted out on ``channel`` by now:
    an opt-out recorded after the invitation was scheduled or sent still stops what follows."""
    wanted = sorted({a for i in invitations for a in _addresses(i, channel)})
    recorded = kinds(session, wanted, channel)
    return {
        i.id
        for i in invitations
        if any("opted_out" in recorded.get(a, ()) for a in _addresses(i, channel))
    }
