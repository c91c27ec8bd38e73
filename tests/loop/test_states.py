"""The case status machine and who may act: every action in every status is either the move the
issue describes or refused with a sentence naming the action, the status and where it is
allowed from; permissions follow role and team."""

from __future__ import annotations

import pytest

from cxloop.errors import Invalid
from cxloop.loop.states import (
    ACTIONS,
    STATUSES,
    CaseView,
    allowed_actions,
    may,
    next_status,
    refusal,
)

WORKING = ("assigned", "in_progress", "waiting_on_customer")
UNFINISHED = ("new", *WORKING, "resolved", "reopened")
EXPECTED: dict[str, dict[str, str]] = {
    "take": {"new": "assigned", "reopened": "assigned"},
    "assign": {"new": "assigned", "reopened": "assigned"} | {s: s for s in WORKING},
    "start": {
        "assigned": "in_progress",
        "waiting_on_customer": "in_progress",
        "reopened": "in_progress",
    },
    "wait_on_customer": {"assigned": "waiting_on_customer", "in_progress": "waiting_on_customer"},
    "note": {s: s for s in STATUSES},
    "log_contact": {s: s for s in UNFINISHED},
    "set_root_cause": {s: s for s in UNFINISHED},
    "resolve": dict.fromkeys(WORKING, "resolved"),
    "verify": {"resolved": "verified"},
    "reopen": dict.fromkeys(("resolved", "closed_unverified", "closed"), "reopened"),
    "close_unverified": {"resolved": "closed_unverified"},
    "close": dict.fromkeys(UNFINISHED, "closed"),
}
"""The issue's flow, written out: new → assigned → in progress → waiting on customer →
resolved → verified | reopened | closed unverified, plus closed by hand."""


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("action", ACTIONS)
def test_every_action_in_every_status_moves_as_the_flow_says_or_is_refused(
    action: str, status: str
) -> None:
    expected = EXPECTED[action].get(status)
    if expected is not None:
        assert next_status(action, status) == expected
        return
    with pytest.raises(Invalid) as refused:
        next_status(action, status)
    problem = refused.value.problems[0]
    assert (problem.field, problem.value) == ("status", status)
    allowed = ", ".join(s for s in STATUSES if s in EXPECTED[action])
    assert problem.reason == f"cannot {action} a case that is {status} (only from: {allowed})"


def test_an_unknown_action_lists_the_actions() -> None:
    with pytest.raises(Invalid) as refused:
        next_status("escalate", "new")
    assert refused.value.problems[0].reason.startswith("is not a case action (take, assign, ")


def test_a_verified_case_only_takes_notes_and_a_closed_one_can_be_reopened() -> None:
    assert allowed_actions("verified") == ["note"]
    assert allowed_actions("closed") == ["note", "reopen"]
    assert allowed_actions("new") == [
        "take",
        "assign",
        "note",
        "log_contact",
        "set_root_cause",
        "close",
    ]


UNOWNED = CaseView(team="客服一组", owner=None, status="new")
OWNED = CaseView(team="客服一组", owner="li.na", status="assigned")
AGENT = frozenset({"agent"})
IN_TEAM = {"客服一组": "agent"}


@pytest.mark.parametrize("action", ACTIONS)
def test_admins_the_system_and_the_team_lead_may_do_everything(action: str) -> None:
    assert may({"admin"}, {}, action, OWNED)
    assert may({"system"}, {}, action, OWNED)
    assert may(AGENT, {"客服一组": "lead"}, action, OWNED)


def test_an_agent_works_the_cases_of_their_own_team_only() -> None:
    for action in ("start", "note", "log_contact", "set_root_cause", "resolve", "reopen"):
        assert may(AGENT, IN_TEAM, action, OWNED), action
    assert may(AGENT, IN_TEAM, "take", UNOWNED)
    assert may(AGENT, IN_TEAM, "read", OWNED) and may(AGENT, IN_TEAM, "open", UNOWNED)
    assert not may(AGENT, {"east": "agent"}, "read", OWNED)
    assert refusal(AGENT, IN_TEAM, "take", OWNED) == (
        "the case belongs to li.na: a lead of team 客服一组 reassigns it"
    )
    for action in ("assign", "close"):
        assert refusal(AGENT, IN_TEAM, action, OWNED) == (
            f"only a lead of team 客服一组 (or an admin) may {action} its cases"
        )
    for action in ("verify", "close_unverified"):
        assert not may(AGENT, IN_TEAM, action, OWNED)
    other_team = {"east": "lead"}
    assert refusal(AGENT, other_team, "note", OWNED) == (
        "only agents and leads of team 客服一组 (or an admin) work its cases"
    )
    assert not may(AGENT, {}, "take", CaseView(team=None, owner=None, status="new"))


def test_viewers_and_analysts_read_but_do_not_work_cases_even_on_the_roster() -> None:
    assert refusal({"viewer"}, IN_TEAM, "note", OWNED) == (
        "works cases only as an agent or admin (roles: viewer)"
    )
    assert not may({"analyst"}, {"客服一组": "lead"}, "assign", OWNED)
    assert not may(set(), IN_TEAM, "note", OWNED)
