"""Routing: the account owner first, then the alert rule's team, ordered rules and the default
team; inside the team the least-loaded or next-in-turn active member, deterministically."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from cxloop.errors import Invalid
from cxloop.loop.facts import FeedbackFacts
from cxloop.loop.routing import (
    Member,
    RoutingRules,
    Team,
    load_routing,
    parse_routing,
    pick,
    route,
)

ROUTING_YAML = """\
# 工单分派：先区域，再话题，再 VIP
default_team: 客服一组
rules:
  - region: [华东, East China]
    team: east
  - topic: [配送/*, delivery]
    team: logistics
  - when: segment == 'VIP' and churn_risk >= 0.5
    team: vip
  - region: 华南
    topic: service/*
    team: south-service
"""


def teams() -> list[Team]:
    return [
        Team(
            name="客服一组",
            members=[
                Member(name="王芳", open_cases=4),
                Member(name="李雷", open_cases=2),
                Member(name="张伟", open_cases=2),
                Member(name="赵敏", open_cases=0, active=False),
            ],
        ),
        Team(name="east", members=[Member(name="chen", open_cases=1)]),
        Team(name="logistics", members=[Member(name="l1"), Member(name="l2"), Member(name="l3")]),
        Team(name="vip", members=[Member(name="amy", open_cases=9, active=False)]),
        Team(name="south-service", members=[]),
        Team(name="key-accounts", members=[Member(name="Owen", open_cases=30)]),
    ]


@pytest.fixture
def rules() -> RoutingRules:
    return load_routing(ROUTING_YAML)


def go(rules: RoutingRules, **values: Any) -> tuple[str, str | None, str]:
    found = route(rules, FeedbackFacts(**values), teams())
    return found.team, found.owner, found.via


def test_the_account_owner_takes_the_case_before_any_rule(rules: RoutingRules) -> None:
    found = route(
        rules, FeedbackFacts(account_owner="owen", region="华东", account_id="A1"), teams()
    )
    assert (found.team, found.owner, found.via) == ("key-accounts", "Owen", "account_owner")
    assert found.reason == "account owner Owen (team key-accounts)"  # 30 open cases: still Owen


def test_an_inactive_or_unknown_owner_falls_through_and_says_so(rules: RoutingRules) -> None:
    found = route(rules, FeedbackFacts(account_owner="赵敏", region="华东"), teams())
    assert (found.team, found.owner, found.via) == ("east", "chen", "rules[0]")
    assert found.reason.startswith("account owner 赵敏 is inactive; team east: region = 华东;")
    found = route(rules, FeedbackFacts(account_owner="nobody"), teams())
    assert found.via == "default_team"
    assert found.reason.startswith("account owner nobody is in no team;")
    off = parse_routing({**rules.model_dump(), "account_owner": False})
    assert route(off, FeedbackFacts(account_owner="Owen"), teams()).team == "客服一组"


def test_the_alert_rules_team_comes_before_the_routing_rules(rules: RoutingRules) -> None:
    found = route(rules, FeedbackFacts(region="华东"), teams(), team="logistics")
    assert (found.team, found.via) == ("logistics", "alert_rule")


def test_rules_apply_top_down_and_every_key_of_a_rule_must_hold(rules: RoutingRules) -> None:
    assert go(rules, region="east china") == ("east", "chen", "rules[0]")
    assert go(rules, region="华东", topics=["配送/速度"]) == ("east", "chen", "rules[0]")
    assert go(rules, topics=["售后/退款", "配送/速度"])[::2] == ("logistics", "rules[1]")
    assert go(rules, aspects=[("Delivery/Late", "negative")])[::2] == ("logistics", "rules[1]")
    assert go(rules, segment="vip", churn_risk=0.5)[::2] == ("vip", "rules[2]")
    assert go(rules, segment="vip", churn_risk=0.49)[::2] == ("客服一组", "default_team")
    assert go(rules, region="华南", topics=["service/attitude"])[::2] == (
        "south-service",
        "rules[3]",
    )
    assert go(rules, region="华南", topics=["price"])[::2] == ("客服一组", "default_team")


def test_the_cases_topic_decides_topic_rules_when_given(rules: RoutingRules) -> None:
    facts = FeedbackFacts(topics=["配送/速度", "service/attitude"], region="华南")
    assert route(rules, facts, teams()).team == "logistics"
    assert route(rules, facts, teams(), topic="service/attitude").team == "south-service"


def test_feedback_with_no_attributes_goes_to_the_default_team(rules: RoutingRules) -> None:
    found = route(rules, FeedbackFacts(), teams())
    assert (found.team, found.owner, found.via) == ("客服一组", "李雷", "default_team")
    assert found.reason == (
        "team 客服一组: no routing rule matched; 李雷: least loaded (2 open, ahead of 张伟 in turn)"
    )


def test_a_team_without_active_members_keeps_the_case_in_its_queue(rules: RoutingRules) -> None:
    for values in (
        {"segment": "VIP", "churn_risk": 0.9},
        {"region": "华南", "topics": ["service"]},
    ):
        found = route(rules, FeedbackFacts(**values), teams())
        assert found.owner is None
        assert found.reason.endswith(
            "no active member: the case waits in the team queue, unassigned"
        )


def test_equal_loads_rotate_after_the_member_assigned_last() -> None:
    team = teams()[0]
    assert pick(team, "least_loaded", None)[0] == "李雷"
    assert pick(team, "least_loaded", "李雷")[0] == "张伟"
    assert pick(team, "least_loaded", "张伟")[0] == "李雷"
    assert pick(team, "least_loaded", "王芳")[0] == "李雷"
    assert pick(team, "least_loaded", "someone who left")[0] == "李雷"


def test_round_robin_wraps_skips_inactive_members_and_shares_cases_evenly() -> None:
    team = teams()[0]
    assert pick(team, "round_robin", None) == ("王芳", "王芳: next in turn")
    assert pick(team, "round_robin", "张伟")[0] == "王芳"  # 赵敏 is inactive: wraps to the top
    assert pick(team, "round_robin", "赵敏")[0] == "王芳"  # the last one left: turn goes on
    last: str | None = None
    given: Counter[str] = Counter()
    for _ in range(9):
        last = pick(team, "round_robin", last)[0]
        assert last is not None
        given[last] += 1
    assert given == {"王芳": 3, "李雷": 3, "张伟": 3}


def test_least_loaded_evens_out_the_team_as_cases_arrive(rules: RoutingRules) -> None:
    members = {"王芳": 4, "李雷": 2, "张伟": 0}
    last: dict[str, str] = {}
    for _ in range(8):
        team = Team(
            name="客服一组", members=[Member(name=n, open_cases=c) for n, c in members.items()]
        )
        found = route(rules, FeedbackFacts(), [team], last_assigned=last)
        assert found.owner is not None
        members[found.owner] += 1
        last["客服一组"] = found.owner
    assert members == {"王芳": 5, "李雷": 5, "张伟": 4}  # 14 cases: nobody above 5
    again = route(rules, FeedbackFacts(), [team], "round_robin", last)
    assert again == route(rules, FeedbackFacts(), [team], "round_robin", last)  # deterministic


def test_a_routed_team_that_does_not_exist_is_named(rules: RoutingRules) -> None:
    with pytest.raises(Invalid) as exc:
        route(rules, FeedbackFacts(region="华东"), [Team(name="客服一组")])
    assert [(p.field, p.value, p.reason) for p in exc.value.problems] == [
        ("routing rules[0]", "east", "is not a team (teams: 客服一组)")
    ]
    assert [(p.field, p.value) for p in rules.unknown_teams(["east", "vip"])] == [
        ("default_team", "客服一组"),
        ("rules[1].team", "logistics"),
        ("rules[3].team", "south-service"),
    ]
    assert rules.unknown_teams([t.name for t in teams()]) == []


def test_every_mistake_of_a_routing_file_is_named_at_once() -> None:
    with pytest.raises(Invalid) as exc:
        parse_routing(
            {
                "strategy": "random",
                "account_owner": "yes",
                "rules": [
                    {"team": "x"},
                    {"team": " ", "topic": ["ok", "配送:负面"], "when": "nps >"},
                    {"team": "y", "region": [], "when": "segmnt == 'A'"},
                ],
                "teams": ["x"],
            }
        )
    found = [(p.field, p.value, p.reason) for p in exc.value.problems]
    assert found[:7] == [
        ("default_team", None, "is required"),
        ("account_owner", "yes", "must be true or false"),
        ("strategy", "random", "is not a strategy (least_loaded, round_robin)"),
        (
            "rules[0]",
            {"team": "x"},
            "needs region, topic or when (a rule for everything is default_team)",
        ),
        ("rules[1].team", " ", "must be a team name"),
        (
            "rules[1].topic[1]",
            "配送:负面",
            "has a sentiment: use aspect == '…' for a topic with its sentiment",
        ),
        ("rules[1].when", "nps >", "expected a value after '>' at column 6"),
    ]
    assert found[7:9] == [
        ("rules[2].region", [], "must be a name or a list of names"),
        ("rules[2].when", "segmnt", found[8][2]),
    ]
    assert found[8][2].startswith("is not a condition name (column 1); did you mean segment?")
    assert found[9:] == [("teams", ["x"], "is not a routing setting")]
    with pytest.raises(Invalid) as exc:
        load_routing("- default_team: x\n")
    assert [p.field for p in exc.value.problems] == ["routing"]


def test_routing_rules_written_back_read_the_same(rules: RoutingRules) -> None:
    again = parse_routing(rules.model_dump())
    assert again.model_dump() == rules.model_dump()
    assert again.model_dump()["rules"][1]["topic"] == ["配送/*", "delivery"]
    facts = FeedbackFacts(topics=["delivery/late"])
    assert route(again, facts, teams()) == route(rules, facts, teams())
