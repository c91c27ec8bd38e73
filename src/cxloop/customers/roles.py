"""Pure: the contact-role vocabulary — known spellings map to one canonical role, others are kept.

Roles are open, like channels (feedback/channels.py): a company's own titles (行政助理, office
manager) are real roles, so a value no alias knows is stored as written, never quarantined — a
contact lost to an unknown role would be lost to every B2B survey.
"""

from __future__ import annotations

import unicodedata

ROLES: dict[str, str] = {
    "decision_maker": "decision_maker",
    "decision maker": "decision_maker",
    "决策者": "decision_maker",
    "purchaser": "purchaser",
    "buyer": "purchaser",
    "购买者": "purchaser",
    "采购": "purchaser",
    "recommender": "recommender",
    "推荐者": "recommender",
    "influencer": "influencer",
    "影响者": "influencer",
    "user": "user",
    "end user": "user",
    "end_user": "user",
    "使用者": "user",
    "用户": "user",
    "最终用户": "user",
    "终端用户": "user",
    "project_lead": "project_lead",
    "project lead": "project_lead",
    "project manager": "project_lead",
    "project_manager": "project_lead",
    "项目负责人": "project_lead",
    "项目经理": "project_lead",
    "employee": "employee",
    "员工": "employee",
    "企业员工": "employee",
}
"""Known spellings (compared trimmed, lower-case, single-spaced) → the canonical role. Roles are
open: a company's own (行政助理, office manager) are kept as written, see :func:`canonical_role`."""
CANONICAL_ROLES = tuple(sorted(set(ROLES.values())))
"""The roles cxloop knows by name (B2B weights, zh labels and reports use them)."""
ROLE_MAX_LENGTH = 32
"""The contacts.role column's width (String(32)): a longer role is refused by name, not by the
database."""


def canonical_role(value: str) -> str:
    """The canonical role of a known spelling (``决策者``, ``Decision Maker`` → decision_maker);
    any other value as written — trimmed, inner spaces single, lower-case when ASCII (``Office
    Manager`` → ``office manager``, ``行政助理`` stays) — so no contact is lost to a role cxloop
    has no name for."""
    text = " ".join(unicodedata.normalize("NFC", value).split())
    known = ROLES.get(text.lower())
    if known is not None:
        return known
    return text.lower() if text.isascii() else text
