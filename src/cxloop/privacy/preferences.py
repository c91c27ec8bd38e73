"""What each address allows: opt-outs per channel (honoured forever), bounces, and consents —
the one place a sender asks before it contacts anyone.

Addresses are kept normalised (:func:`normalise_address`) so ``Li.Na@Example.com`` and
``li.na@example.com``, or ``138 0013 8000`` and ``+8613800138000``, are one address. A
preference on channel ``any`` binds every channel. Recording the same preference twice keeps the
first row (its time is when the person first asked).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Literal

import phonenumbers
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.errors import Invalid
from cxloop.privacy.models import ContactPreference

Kind = Literal["opted_out", "bounced", "consented"]
Reason = Literal["opted_out", "bounced_before", "no_consent"]
CHANNELS = ("email", "sms", "wechat", "app", "webhook", "any")
"""Channels a preference is recorded on; ``csv`` (links handed out by the customer's own
means) is recorded as ``any``, since the actual channel is unknown."""
_PERSON = re.compile(r"^(customer|contact):(.+)$", re.IGNORECASE)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalise_address(value: str, *, region: str = "CN") -> str:
    """A lower-case e-mail, an E.164 phone (read in ``region`` when written without +country),
    or ``customer:ID``/``contact:ID`` (the id kept as written); anything else is Invalid."""
    text = (value or "").strip()
    person = _PERSON.match(text)
    if person and person.group(2).strip():
        return f"{person.group(1).lower()}:{person.group(2).strip()}"
    if "@" in text:
        lowered = text.lower()
        if _EMAIL.match(lowered):
            return lowered
        raise Invalid("is not an e-mail address", "address", value)
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is not None and phonenumbers.is_valid_number(number):
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    raise Invalid(
        "is not an e-mail address, a phone number, or customer:ID / contact:ID", "address", value
    )


def _try_normalise(value: str, region: str) -> str | None:
    try:
        return normalise_address(value, region=region)
    except Invalid:
        return None


def _channel(channel: str) -> str:
    text = (channel or "").strip().lower()
    if text == "csv":
        return "any"
    if text not in CHANNELS:
        raise Invalid(f"is not a channel ({', '.join(CHANNELS)}, csv)", "channel", channel)
    return text


def _channels_binding(channel: str) -> tuple[str, ...]:
    """Preferences recorded on these channels bind a contact made on ``channel``."""
    chosen = _channel(channel)
    return ("any",) if chosen == "any" else (chosen, "any")


def _record(
    session: Session,
    *,
    address: str,
    channel: str,
    kind: Kind,
    source: str | None,
    reason: str | None,
    region: str,
) -> bool:
    """Insert the preference unless it is there; True when it is new. Safe against a second
    writer recording the same one at once (the unique constraint decides)."""
    key, chan = normalise_address(address, region=region), _channel(channel)
    found = select(ContactPreference.id).where(
        ContactPreference.address == key,
        ContactPreference.channel == chan,
        ContactPreference.kind == kind,
    )
    if session.scalar(found) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(
                ContactPreference(
                    address=key,
                    channel=chan,
                    kind=kind,
                    source=(source or None) and source[:64],
                    reason=(reason or None) and reason[:256],
                )
            )
    except IntegrityError:  # recorded by someone else between our look and our insert
        return False
    return True


def opt_out(
    *,
    session: Session,
    address: str,
    channel: str = "any",
    source: str | None = None,
    reason: str | None = None,
    region: str = "CN",
) -> bool:
    """Never contact ``address`` on ``channel`` again (``any``: on no channel); True when new."""
    return _record(
        session,
        address=address,
        channel=channel,
        kind="opted_out",
        source=source,
        reason=reason,
        region=region,
    )


def mark_bounced(
    *,
    session: Session,
    address: str,
    channel: str = "email",
    reason: str | None = None,
    source: str | None = None,
    region: str = "CN",
) -> bool:
    """The server refused ``address`` for good (``reason``: its reply); later sends skip it as
    ``bounced_before``. True when new."""
    return _record(
        session,
        address=address,
        channel=channel,
        kind="bounced",
        source=source,
        reason=reason,
        region=region,
    )


def record_consent(
    *,
    session: Session,
    address: str,
    channel: str = "any",
    source: str | None = None,
    reason: str | None = None,
    region: str = "CN",
) -> bool:
    """The person agreed to be contacted on ``channel``. An earlier opt-out still wins: a
    consent never silently lifts it (remove the opt-out on purpose if the person asks)."""
    return _record(
        session,
        address=address,
        channel=channel,
        kind="consented",
        source=source,
        reason=reason,
        region=region,
    )


def withdraw(
    *,
    session: Session,
    address: str,
    channel: str = "any",
    source: str | None = None,
    region: str = "CN",
) -> int:
    """The person takes their consent back: its rows on ``channel`` (every channel for
    ``any``) go, and an opt-out on ``channel`` is recorded, so implied consent no longer
    reaches them either. Returns how many consents were removed."""
    key, chan = normalise_address(address, region=region), _channel(channel)
    condition = [ContactPreference.address == key, ContactPreference.kind == "consented"]
    if chan != "any":
        condition.append(ContactPreference.channel == chan)
    gone = session.scalars(
        delete(ContactPreference).where(*condition).returning(ContactPreference.id)
    ).all()
    _record(
        session,
        address=key,
        channel=chan,
        kind="opted_out",
        source=source,
        reason="consent withdrawn",
        region=region,
    )
    return len(gone)


def kinds(
    *,
    session: Session,
    addresses: Sequence[str],
    channels: Iterable[str] = ("any",),
    region: str = "CN",
) -> dict[str, frozenset[str]]:
    """Address (as the caller wrote it) → the kinds recorded for it on any of ``channels``;
    addresses with nothing recorded, or that are no address at all, are left out."""
    keys = {a: _try_normalise(a, region) for a in addresses}
    wanted = sorted({k for k in keys.values() if k})
    if not wanted:
        return {}
    chans = sorted({_channel(c) for c in channels})
    found: dict[str, set[str]] = {}
    for start in range(0, len(wanted), 500):  # stay far below SQL parameter limits
        rows = session.execute(
            select(ContactPreference.address, ContactPreference.kind).where(
                ContactPreference.address.in_(wanted[start : start + 500]),
                ContactPreference.channel.in_(chans),
            )
        )
        for address, kind in rows:
            found.setdefault(address, set()).add(kind)
    return {given: frozenset(found[key]) for given, key in keys.items() if key and key in found}


def blocked(
    *,
    session: Session,
    addresses: Sequence[str],
    channel: str = "email",
    require_consent: bool = False,
    region: str = "CN",
) -> dict[str, Reason]:
    """Address → why it must not be contacted on ``channel``: ``opted_out`` (on the channel or
    any), ``bounced_before`` (a refused mail, e-mail only), or ``no_consent`` when
    ``require_consent`` and none is recorded. Addresses free to contact are left out."""
    recorded = kinds(
        session=session, addresses=addresses, channels=_channels_binding(channel), region=region
    )
    out: dict[str, Reason] = {}
    for address in addresses:
        got = recorded.get(address, frozenset())
        if "opted_out" in got:
            out[address] = "opted_out"
        elif "bounced" in got and _channel(channel) in ("email", "any"):
            out[address] = "bounced_before"
        elif require_consent and "consented" not in got:
            out[address] = "no_consent"
    return out


def consent_required(settings: Settings) -> bool:
    """``CXLOOP_SURVEY_CONSENT=explicit``: only people with a recorded consent are contacted."""
    return settings.survey_consent == "explicit"
