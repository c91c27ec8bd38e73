"""Pure identity normalisation: the same person's email or phone written two ways is one key."""

from __future__ import annotations

import unicodedata

import phonenumbers

IDENTITY_KINDS = ("member_id", "email", "phone", "handle")
"""Strongest first: when a record's identities point at different customers, this order wins."""


def normalise_email(value: str) -> str:
    """Emails compare case-insensitively (``Li.Na@Example.COM`` = ``li.na@example.com``)."""
    return unicodedata.normalize("NFKC", value).strip().casefold()


def normalise_phone(value: str, region: str = "CN") -> str | None:
    """E.164 (``+8613800138000``) for a valid number, ``None`` for anything else."""
    text = unicodedata.normalize("NFKC", value).strip()
    if not text:
        return None
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_identity(kind: str, value: str, region: str = "CN") -> str | None:
    """One identity value in its comparable form, or ``None`` if it is not one."""
    if kind == "email":
        text = normalise_email(value)
        return text if "@" in text else None
    if kind == "phone":
        return normalise_phone(value, region)
    text = unicodedata.normalize("NFKC", value).strip()
    if kind == "handle":
        text = text.lstrip("@").casefold()
    return text or None
