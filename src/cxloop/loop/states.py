"""A case's life: its statuses, which action moves it where, and who may take each action.

Pure: no database. One table decides every move, so the service, the API and the pages refuse
the same things with the same words::

    new ─assign/take─► assigned ─start─► in_progress ─wait_on_customer─► waiting_on_customer
                                                 └──────────resolve──────────┘ │
    resolved ─verify─► verified          (the customer says it is fixed)       ▼
             ─reopen─► reopened ─start (owner) or assign─► …   (reopen_count + 1)      resolved
             ─close_unverified─► closed_unverified  (no answer in the window)
    any open or resolved case ─close─► closed  (by hand: a lead or an admin)

``note`` is allowed in every status (history is never closed); ``log_contact`` and
``set_root_cause`` wherever the case is not finished.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Literal, get_args

from cxloop.errors import Invalid

Status = Literal[
    "new",
    "assigned",
    "in_progress",
    "waiting_on_customer",
    "resolved",
    "verified",
    "reopened",
    "closed_unverified",
    "closed",
]
STATUSES: tuple[Status, ...] = get_args(Status)
"""In the order a case lives them (the ``Literal`` is the one list)."""
OPEN: frozenset[str] = frozenset(
    {"new", "assigned", "in_progress", "waiting_on_customer", "reopened"}
)
"""Someone still has to act: these de-duplicate new feedback, count as load and run SLA clocks."""
FINISHED: frozenset[str] = frozenset({"verified", "closed_unverified", "closed"})
"""Nothing more happens to these but notes (and a reopen of an unverified or hand-closed case)."""

Action = Literal[
    "take",
    "assign",
    "start",
    "wait_on_customer",
    "note",
    "log_contact",
    "set_root_cause",
    "resolve",
    "verify",
    "reopen",
    "close_unverified",
    "close",
]
ACTIONS: tuple[Action, ...] = get_args(Action)
"""In the order a screen lists them."""
_KEEP = ""
"""In ``MOVES``: the action leaves the status as it is."""
MOVES: dict[Action, dict[str, str]] = {
    "take": {"new": "assigned", "reopened": "assigned"},
    "assign": {
        "new": "assigned",
        "reopened": "assigned",
        "assigned": _KEEP,
        "in_progress": _KEEP,
        "waiting_on_customer": _KEEP,
    },
    "start": {
        "assigned": "in_progress",
        "waiting_on_customer": "in_progress",
        "reopened": "in_progress",
    },
    "wait_on_customer": {"assigned": "waiting_on_customer", "in_progress": "waiting_on_customer"},
    "note": {status: _KEEP for status in STATUSES},
    "log_contact": {status: _KEEP for status in STATUSES if status not in FINISHED},
    "set_root_cause": {status: _KEEP for status in STATUSES if status not in FINISHED},
    "resolve": {
        "assigned": "resolved",
        "in_progress": "resolved",
        "waiting_on_customer": "resolved",
    },
    "verify": {"resolved": "verified"},
    "reopen": {"resolved": "reopened", "closed_unverified": "reopened", "closed": "reopened"},
    "close_unverified": {"resolved": "closed_unverified"},
    "close": {status: "closed" for status in (*sorted(OPEN), "resolved")},
}
"""action → {from status: to status}; a status not listed refuses the action."""


def next_status(action: str, status: str) -> str:
    """The status after ``action`` on a case in ``status``, or ``Invalid`` naming the action,
    the status it was refused in and the statuses it is allowed from."""
    if action not in MOVES:
        raise Invalid(f"is not a case action ({', '.join(ACTIONS)})", "action", action)
    moves = MOVES[action]
    if status not in moves:
        allowed = ", ".join(s for s in STATUSES if s in moves)
        raise Invalid(
            f"cannot {action} a case that is {status} (only from: {allowed})", "status", status
        )
    return moves[status] or status


def allowed_actions(status: str) -> list[Action]:
    """The actions a case in ``status`` accepts, in the order a screen lists them."""
    return [action for action in ACTIONS if status in MOVES[action]]


# --- who may act ------------------------------------------------------------------------------

Membership = Literal["agent", "lead"]
SYSTEM_ROLE = "system"
"""The role of the loop's own actors (alert rules, the ticker, the follow-up survey)."""
LEAD_ACTIONS: frozenset[str] = frozenset({"assign", "close"})
"""Reassigning and closing by hand are a lead's call (the issue: "team leads reassign")."""
SYSTEM_ACTIONS: frozenset[str] = frozenset({"verify", "close_unverified"})
"""Only the customer's answer (or its absence) verifies; a lead may still record either."""


@dataclass(frozen=True)
class Actor:
    """Who acts: a user name and their roles (``admin``, ``agent``…, or ``system``)."""

    name: str
    roles: frozenset[str] = field(default_factory=frozenset)


SYSTEM = Actor("cxloop", frozenset({SYSTEM_ROLE}))


@dataclass(frozen=True)
class CaseView:
    """What the permission rule reads of a case: its team, owner and status."""

    team: str | None
    owner: str | None
    status: str


def refusal(
    actor_roles: Collection[str],
    actor_teams: Mapping[str, str],
    action: str,
    case: CaseView,
) -> str | None:
    """Why the actor may not take ``action`` on ``case``, or None when they may.

    ``actor_teams``: team → ``agent`` or ``lead`` (the actor's memberships). Admins and the
    system may do everything. Everyone else needs the ``agent`` role (viewers and analysts read);
    then a lead of the case's team may do everything to it, and an agent of the case's team
    works its cases (takes one only while nobody owns it) but never reassigns, closes by hand,
    verifies or closes unverified. Nobody works another team's cases. ``action`` may also be
    ``read`` (seeing the case) or ``open`` (opening one by hand for the team): team work.
    """
    if SYSTEM_ROLE in actor_roles or "admin" in actor_roles:
        return None
    team = case.team or "no team"
    if "agent" not in actor_roles:
        shown = ", ".join(sorted(actor_roles)) or "no role"
        return f"works cases only as an agent or admin (roles: {shown})"
    membership = actor_teams.get(case.team) if case.team is not None else None
    if membership == "lead":
        return None
    if membership != "agent":
        return f"only agents and leads of team {team} (or an admin) work its cases"
    if action in LEAD_ACTIONS:
        return f"only a lead of team {team} (or an admin) may {action} its cases"
    if action in SYSTEM_ACTIONS:
        return f"only the customer's follow-up or a lead of team {team} may {action}"
    if action == "take" and case.owner is not None:
        return f"the case belongs to {case.owner}: a lead of team {team} reassigns it"
    return None


def may(
    actor_roles: Collection[str],
    actor_teams: Mapping[str, str],
    action: str,
    case: CaseView,
) -> bool:
    """Whether the actor may take ``action`` on ``case`` (see ``refusal`` for the rule)."""
    return refusal(actor_roles, actor_teams, action, case) is None
