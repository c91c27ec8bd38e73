"""B2B completeness: a milestone survey is complete for an account only when each required role
has answered; the roles still missing drive targeted reminders and the owner's alert."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from cxloop.ingest.fields import ROLES


def normalise_role(role: str) -> str:
    """One spelling per role (``Decision Maker``, ``决策者`` → ``decision_maker``), so the
    definition's roles and the contacts' imported roles compare equal."""
    text = " ".join(role.strip().lower().split())
    known = ROLES.get(text)
    if known is not None:
        return known
    return text.replace(" ", "_").replace("-", "_")


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
