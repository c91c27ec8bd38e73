"""Masking PII for roles that do not need it: enough left to recognise, not to contact."""

from __future__ import annotations

import re
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


PERSONAL_WORDS = frozenset(
    {
        "name",
        "firstname",
        "lastname",
        "fullname",
        "email",
        "mail",
        "phone",
        "mobile",
        "tel",
        "telephone",
        "address",
        "addr",
        "street",
        "birthday",
        "birth",
        "dob",
        "idcard",
        "card",
        "passport",
        "ssn",
        "wechat",
        "weixin",
        "wx",
        "openid",
        "unionid",
        "qq",
        "ip",
        "ipaddress",
        "geo",
        "geolocation",
        "latitude",
        "longitude",
    }
)
PERSONAL_CHINESE = (
    "姓名",
    "名字",
    "邮箱",
    "手机",
    "电话",
    "地址",
    "生日",
    "身份证",
    "证件",
    "护照",
    "微信",
    "银行卡",
    "联系人",
)
"""Words that mark a free-form column (kept in ``attributes``) as personal data: whole English
words of the column name (``ip`` but not ``shipping``) or Chinese terms anywhere in it."""


def looks_personal(column: str) -> bool:
    """Whether an extra column's name suggests personal data (masked for roles without PII)."""
    name = column.casefold()
    words = {w.rstrip("0123456789") for w in re.split(r"[^a-z0-9]+", name)}
    if words & PERSONAL_WORDS or any(term in name for term in PERSONAL_CHINESE):
        return True
    # long words also inside others: recipientemail, mobilephone, homeaddress, nickname
    return any(len(word) >= 4 and word in name for word in PERSONAL_WORDS)


def mask_value(column: str, value: Any) -> Any:
    """``li.na@example.com`` → ``l***@example.com``; ``+8613800138000`` → ``+86*******8000``;
    short numbers keep their last two digits, text its first character."""
    if value is None or value == "":
        return value
    text = str(value)
    if "@" in text and ("email" in column or column == "value"):
        local, _, domain = text.partition("@")
        return f"{local[:1]}***@{domain}"
    if column == "birth_date" and len(text) >= 4:
        return text[:4] + "-**-**"
    digits = text.replace("+", "").replace("-", "").replace(" ", "")
    if digits.isdigit() or (digits[:-1].isdigit() and digits[-1:] in "xX"):
        if len(text) >= 11:  # phones, ID numbers: country/operator prefix and last four
            return text[:3] + "*" * (len(text) - 7) + text[-4:]
        return "*" * max(len(text) - 2, 2) + text[-2:]
    return text[:1] + "*" * max(len(text) - 1, 2)  # names, handles, addresses


def mask_record(kind: str, record: dict[str, Any]) -> dict[str, Any]:
    """The record with its kind's personal fields, and extra columns that look personal,
    masked."""
    fields = PII_FIELDS.get(kind, frozenset())
    masked = {k: mask_value(k, v) if k in fields else v for k, v in record.items()}
    attributes = masked.get("attributes")
    if isinstance(attributes, dict):
        masked["attributes"] = {
            k: mask_value(k, v) if looks_personal(k) else v for k, v in attributes.items()
        }
    return masked
