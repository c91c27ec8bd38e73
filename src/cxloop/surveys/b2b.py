"""B2B completeness: a milestone survey is complete for an account only when each required role
has answered; the roles still missing drive targeted reminders and the owner's alert.

Pure (values in, values out): definitions and audiences import it. The store side —
``completeness`` and ``alert_owners`` — lives in ``surveys.b2b_status`` and is reachable here
by name (loaded on first use, so importing this module never pulls in the ORM).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from email.utils import parseaddr
from typing import Any

from cxloop.customers.roles import canonical_role

ALERT_HOURS = 48
"""The owner is alerted once the deadline is this close (or past) with roles missing."""
ZH_ROLES = {"decision_maker": "决策者", "purchaser": "采购", "recommender": "推荐者"}
ZH_ROLES |= {"influencer": "影响者", "user": "使用者", "employee": "员工"}
ZH_ROLES |= {"project_lead": "项目负责人"}
EN_ROLES = {"decision_maker": "decision maker"}


def normalise_role(role: str) -> str:
    """One spelling per role (``Decision Maker``, ``决策者`` → ``decision_maker``), so the
    definition's roles and the contacts' imported roles compare equal."""
    return canonical_role(role).lower().replace(" ", "_").replace("-", "_")


def missing_roles(required: Sequence[str], answered: Iterable[str]) -> list[str]:
    """The required roles (in their declared order, each once) that no answered role covers.

    >>> missing_roles(["decision_maker", "project lead", "user"], ["User", "decision maker"])
    ['project lead']
    """
    have = {normalise_role(role) for role in answered if role}
    out: list[str] = []
    seen: set[str] = set()
    for role in required:
        key = normalise_role(role)
        if not key or key in seen:
            continue
        seen.add(key)
        if key not in have:
            out.append(role)
    return out


def role_label(role: str, lang: str) -> str:
    """A role as people read it (``decision_maker`` → ``决策者`` / ``decision maker``).

    >>> role_label("Decision Maker", "zh"), role_label("project_lead", "en")
    ('决策者', 'project lead')
    """
    key = normalise_role(role)
    if lang == "zh" and key in ZH_ROLES:
        return ZH_ROLES[key]
    return EN_ROLES.get(key, key.replace("_", " "))


def owner_address(owner: str | None) -> str | None:
    """The account owner's e-mail address (lower-case), or None when the owner field holds a
    name (``李经理``) rather than an address; ``Name <a@b.cn>`` gives ``a@b.cn``.

    >>> owner_address("Zhao.Owner@Example.com"), owner_address("李经理")
    ('zhao.owner@example.com', None)
    """
    if not owner:
        return None
    _, address = parseaddr(owner.strip())
    local, at, domain = address.partition("@")
    if not at or not local or "." not in domain.strip(".") or " " in address:
        return None
    return address.lower()


def deadline_of(deadline: dt.datetime | None, due_date: dt.date | None) -> dt.datetime | None:
    """The distribution's deadline, else the end of its milestone's due date (naive UTC)."""
    if deadline is not None:
        return deadline
    if due_date is None:
        return None
    return dt.datetime.combine(due_date + dt.timedelta(days=1), dt.time())


def alert_due(deadline: dt.datetime | None, now: dt.datetime, hours: int = ALERT_HOURS) -> bool:
    """Whether the deadline is within ``hours`` of ``now`` or already past."""
    return deadline is not None and deadline - now <= dt.timedelta(hours=hours)


_STORE_SIDE = frozenset({"completeness", "alert_owners", "owner_alerts", "CompletenessRow"})


def __getattr__(name: str) -> Any:
    """``b2b.completeness`` / ``b2b.alert_owners``: the store side, imported on first use."""
    if name in _STORE_SIDE:
        from cxloop.surveys import b2b_status as store_side

        return getattr(store_side, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
