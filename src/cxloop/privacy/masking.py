"""Masking PII for roles that do not need it: enough left to recognise, not to contact."""

from __future__ import annotations

from typing import Any

PII_FIELDS: dict[str, frozenset[str]] = {
    "customers": frozenset({"name", "email", "phone", "member_id", "handle", "birth_date"}),
    "contacts": frozenset({"name", "email", "phone"}),
    "feedback": frozenset(
        {"author", "author_email", "author_phone", "author_member_id", "author_handle"}
    ),
    "identities": frozenset({"value"}),
}
"""Personal data per kind: a company's or a project's ``name`` is not, a customer's is."""


def mask_value(column: str, value: Any) -> Any:
    """``li.na@example.com`` → ``l***@example.com``; ``+8613800138000`` → ``+86*******8000``."""
    if value is None or value == "":
        return value
    text = str(value)
    if "email" in column or (column == "value" and "@" in text):
        local, _, domain = text.partition("@")
        return f"{local[:1]}***@{domain}"
    if "phone" in column or (column == "value" and text.startswith("+")):
        return text[:3] + "*" * max(len(text) - 7, 0) + text[-4:]
    if column == "birth_date":
        return text[:4] + "-**-**"
    return text[:1] + "**"


def mask_record(kind: str, record: dict[str, Any]) -> dict[str, Any]:
    """The record with its kind's personal fields masked."""
    fields = PII_FIELDS.get(kind, frozenset())
    return {k: mask_value(k, v) if k in fields else v for k, v in record.items()}
