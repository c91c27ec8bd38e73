"""Masking PII for roles that do not need it: enough left to recognise, not to contact."""

from __future__ import annotations

from typing import Any

PII_COLUMNS = frozenset(
    {
        "name",
        "email",
        "phone",
        "author",
        "author_email",
        "author_phone",
        "author_handle",
        "birth_date",
        "handle",
        "value",
    }
)


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


def mask_record(record: dict[str, Any]) -> dict[str, Any]:
    return {k: mask_value(k, v) if k in PII_COLUMNS else v for k, v in record.items()}
