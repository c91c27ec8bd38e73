"""A small service centre for the case tests: two teams with agents and leads, alert rules, a
CN business-hour SLA policy by priority, routing by region, and feedback rows stored in a real
store (cases point at them with foreign keys)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from cxloop.feedback.models import Feedback
from cxloop.loop import service as loop_service
from cxloop.loop import teams as loop_teams
from cxloop.loop.facts import FeedbackFacts
from cxloop.loop.routing import RoutingRules, load_routing
from cxloop.loop.rules import RuleMatch, RuleSet, evaluate, load_rules
from cxloop.loop.schemas import CaseOpened, TeamWrite
from cxloop.loop.sla import SlaPolicy, load_policy
from cxloop.loop.states import Actor

SH = ZoneInfo("Asia/Shanghai")
FRIDAY_5PM = dt.datetime(2026, 12, 4, 17, 0, tzinfo=SH)
"""A Friday an hour before the CN preset's day ends: every clock runs into Monday."""

POLICY_YAML = """\
# 客服 SLA（工作时间）
calendar: CN
warn_at: 0.75
targets:
  p1: {first_response: 1h, resolution: 4h}
  p2: {first_response: 2h, resolution: 8h}
  p3: {first_response: 4h, resolution: 16h}
  p4: {first_response: 8h, resolution: 40h}
"""
RULES_YAML = """\
- id: detractor-delivery
  name: 贬损者抱怨配送
  when: nps_group == 'detractor' and aspect == '配送/*:negative'
  severity: high
  topic: matched
  window_hours: 72
- id: escalation
  name: 升级威胁
  when: flag == 'escalation'
  severity: 紧急
"""
ROUTING_YAML = """\
default_team: 客服一组
strategy: least_loaded
rules:
  - region: [华东, East China]
    team: east
"""
SERVICE = TeamWrite(
    name="客服一组",
    lead="chen.lead",
    members=[
        {"name": "wang.fang", "email": "wang.fang@example.com"},
        {"name": "li.na"},
        {"name": "zhang.wei", "email": "ZHANG.WEI@EXAMPLE.COM"},
        {"name": "chen.lead", "role": "lead"},
        {"name": "zhou.left", "active": False},
    ],
)
EAST = TeamWrite(name="east", lead="qian.lead", members=[{"name": "zhao.min"}])

ADMIN = Actor("root", frozenset({"admin"}))
LEAD = Actor("chen.lead", frozenset({"agent"}))
WANG = Actor("wang.fang", frozenset({"agent"}))
LI = Actor("li.na", frozenset({"agent"}))
ZHAO = Actor("zhao.min", frozenset({"agent"}))
"""An agent of the other team."""
VIEWER = Actor("wang.fang", frozenset({"viewer"}))
"""On the roster, but signed in with a viewer's role."""


def policy() -> SlaPolicy:
    return load_policy(POLICY_YAML)


def rules() -> RuleSet:
    return load_rules(RULES_YAML)


def routing() -> RoutingRules:
    return load_routing(ROUTING_YAML)


def set_up_teams(session: Session) -> None:
    loop_teams.save_team(session=session, team_in=SERVICE)
    loop_teams.save_team(session=session, team_in=EAST)


def add_feedback(session: Session, feedback_id: str, **values: Any) -> None:
    """A stored feedback row (the case's foreign keys need it)."""
    values.setdefault("created_at", dt.datetime(2026, 12, 4, 8, 0))
    session.add(Feedback(feedback_id=feedback_id, channel="survey", row_hash="h" * 32, **values))
    session.flush()


def detractor(feedback_id: str, **values: Any) -> FeedbackFacts:
    """An unhappy answer about delivery speed, as the text engine reads one."""
    base: dict[str, Any] = {
        "feedback_id": feedback_id,
        "nps": 2,
        "sentiment": "negative",
        "aspects": (("配送/速度", "negative"),),
        "topics": ("配送/速度",),
    }
    return FeedbackFacts(**(base | values))


def match_of(facts: FeedbackFacts, rule_id: str = "detractor-delivery") -> RuleMatch:
    found = [m for m in evaluate(rules(), facts) if m.rule_id == rule_id]
    assert found, f"rule {rule_id} does not match {facts}"
    return found[0]


def open_case(
    session: Session,
    facts: FeedbackFacts,
    now: dt.datetime = FRIDAY_5PM,
    rule_id: str = "detractor-delivery",
) -> CaseOpened:
    """Store the feedback (unless stored) and run the rule's match through the service."""
    if facts.feedback_id and session.get(Feedback, facts.feedback_id) is None:
        add_feedback(
            session, facts.feedback_id, customer_id=facts.customer_id, account_id=facts.account_id
        )
    return loop_service.open_from_match(
        session=session,
        facts=facts,
        match=match_of(facts, rule_id),
        policy=policy(),
        routing_rules=routing(),
        now=now,
    )
