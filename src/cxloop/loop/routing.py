"""Who gets a case: the team by ordered rules, then a member of it by load or in turn.

Pure: teams and their members' open loads are passed in. The team is decided in this order,
the first that applies winning:

1. the account's owner, when the feedback's account has one who is an active team member
   (``account_owner: false`` turns this off);
2. the team the alert rule names;
3. the routing rules, top to bottom (``region``, ``topic`` patterns and a ``when`` condition
   in the alert rules' language; every key given must hold);
4. ``default_team``.

Inside the team, ``least_loaded`` gives the case to the active member with the fewest open
cases, ``round_robin`` to the next active member after the one assigned last. Ties and turns
follow the roster order starting after the last assigned member, so equal loads rotate and
the same inputs always give the same owner. A team with no active member keeps the case in
its queue, unassigned, and says so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_serializer,
    field_validator,
    model_validator,
)

from cxloop.errors import Invalid, Problem
from cxloop.loop.facts import FeedbackFacts
from cxloop.loop.hours import BadEntries, Switch, problems_of, read_yaml
from cxloop.loop.rule_conditions import Condition, read_condition
from cxloop.loop.rule_names import Pattern, fold, topic_pattern

Strategy = Literal["least_loaded", "round_robin"]


def _names(value: Any) -> Any:
    """One name or a list of them, as a non-empty list of non-empty texts."""
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(i, str) and i.strip() for i in items):
        raise ValueError("must be a name or a list of names")
    return [i.strip() for i in items]


class Member(BaseModel):
    """A team member, the cases they hold open now, and whether they take new ones."""

    model_config = ConfigDict(frozen=True)

    name: str
    open_cases: int = Field(default=0, ge=0)
    active: bool = True


class Team(BaseModel):
    """A team in roster order (the order turns and ties follow)."""

    model_config = ConfigDict(frozen=True)

    name: str
    members: list[Member] = Field(default_factory=list)


class RouteRule(BaseModel):
    """Send matching feedback to ``team``: every key given must hold (at least one)."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    team: str
    region: list[str] | None = None
    topic: list[Pattern] | None = None
    when: Condition | None = None

    @field_validator("team", mode="before")
    @classmethod
    def _team(cls, value: Any) -> Any:
        if not isinstance(value, str) or not value.strip():
            raise ValueError("must be a team name")
        return value.strip()

    @field_validator("region", mode="before")
    @classmethod
    def _region(cls, value: Any) -> Any:
        return None if value is None else _names(value)

    @field_validator("topic", mode="before")
    @classmethod
    def _topic(cls, value: Any) -> Any:
        if value is None:
            return None
        patterns, bad = [], []
        for i, text in enumerate(_names(value)):
            try:
                patterns.append(topic_pattern(text))
            except ValueError as exc:
                bad.append((f"[{i}]" if isinstance(value, list) else "", text, str(exc)))
        if bad:
            raise BadEntries(bad)
        return patterns

    @field_validator("when", mode="before")
    @classmethod
    def _when(cls, value: Any) -> Any:
        return None if value is None else read_condition(value)

    @field_serializer("topic")
    def _topics(self, topic: list[Pattern] | None) -> list[str] | None:
        return None if topic is None else [p.written for p in topic]

    @field_serializer("when")
    def _written(self, when: Condition | None) -> str | None:
        return None if when is None else when.text

    @model_validator(mode="after")
    def _something(self) -> RouteRule:
        if self.region is None and self.topic is None and self.when is None:
            raise ValueError("needs region, topic or when (a rule for everything is default_team)")
        return self

    def holds(self, facts: FeedbackFacts, topic: str | None) -> str | None:
        """Why this rule holds for ``facts`` (``topic``: the case's topic, else the
        feedback's), or None."""
        why = []
        if self.region is not None:
            if facts.region is None or fold(facts.region) not in map(fold, self.region):
                return None
            why.append(f"region = {facts.region}")
        if self.topic is not None:
            topics = [topic] if topic is not None else facts.all_topics()
            hit = next((t for t in topics if any(p.matches(t) for p in self.topic)), None)
            if hit is None:
                return None
            why.append(f"topic {hit}")
        if self.when is not None:
            outcome = self.when.evaluate(facts)
            if not outcome.hit:
                return None
            why.extend(outcome.why)
        return ", ".join(why)


class RoutingRules(BaseModel):
    """Ordered routing rules, the team that takes the rest, and how a member is picked."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    default_team: str
    account_owner: Switch = True
    strategy: Strategy = "least_loaded"
    rules: list[RouteRule] = Field(default_factory=list)

    @field_validator("default_team", mode="before")
    @classmethod
    def _team(cls, value: Any) -> Any:
        if not isinstance(value, str) or not value.strip():
            raise ValueError("must be a team name (the team that takes what no rule routes)")
        return value.strip()

    @field_validator("strategy", mode="before")
    @classmethod
    def _strategy(cls, value: Any) -> Any:
        if value not in ("least_loaded", "round_robin"):
            raise ValueError("is not a strategy (least_loaded, round_robin)")
        return value

    def unknown_teams(self, teams: Sequence[str]) -> list[Problem]:
        """Every team these rules name that is not in ``teams`` (check when either changes)."""
        known = set(teams)
        named = [("default_team", self.default_team)]
        named += [(f"rules[{i}].team", rule.team) for i, rule in enumerate(self.rules)]
        listed = ", ".join(teams) or "none yet"
        return [
            Problem(where, team, f"is not a team (teams: {listed})")
            for where, team in named
            if team not in known
        ]


class Assignment(BaseModel):
    """Where a case goes: the team, its owner (None: waits in the team's queue), which step
    decided (``account_owner``, ``alert_rule``, ``rules[2]``, ``default_team``) and why."""

    model_config = ConfigDict(frozen=True)

    team: str
    owner: str | None
    via: str
    reason: str


def route(
    rules: RoutingRules,
    facts: FeedbackFacts,
    teams: Sequence[Team],
    strategy: Strategy | None = None,
    last_assigned: Mapping[str, str] | None = None,
    *,
    topic: str | None = None,
    team: str | None = None,
) -> Assignment:
    """The team and owner of a case on ``facts``. ``last_assigned``: team → the member who got
    its last case; ``topic``: the case's topic; ``team``: the one the alert rule names."""
    last = last_assigned or {}
    by_name = {t.name: t for t in teams}
    notes: list[str] = []
    owner = facts.account_owner.strip() if facts.account_owner else ""
    if rules.account_owner and owner:
        found = [(t, m) for t in teams for m in t.members if fold(m.name) == fold(owner)]
        active = [(t, m) for t, m in found if m.active]
        if active:
            home, member = active[0]
            reason = f"account owner {member.name} (team {home.name})"
            return Assignment(team=home.name, owner=member.name, via="account_owner", reason=reason)
        notes.append(f"account owner {owner} is {'inactive' if found else 'in no team'}")
    if team is not None:
        chosen, via, why = team, "alert_rule", f"the alert rule names team {team}"
    else:
        chosen, via, why = rules.default_team, "default_team", "no routing rule matched"
        for i, rule in enumerate(rules.rules):
            held = rule.holds(facts, topic)
            if held is not None:
                chosen, via, why = rule.team, f"rules[{i}]", held
                break
    if chosen not in by_name:
        listed = ", ".join(by_name) or "none"
        raise Invalid(f"is not a team (teams: {listed})", f"routing {via}", chosen)
    owner_name, how = pick(by_name[chosen], strategy or rules.strategy, last.get(chosen))
    reason = "; ".join([*notes, f"team {chosen}: {why}", how])
    return Assignment(team=chosen, owner=owner_name, via=via, reason=reason)


def pick(team: Team, strategy: Strategy, last: str | None) -> tuple[str | None, str]:
    """The member of ``team`` who gets the next case, and why (None: nobody is active)."""
    roster = team.members
    start = next((i + 1 for i, m in enumerate(roster) if m.name == last), 0)
    turn = [m for m in roster[start:] + roster[:start] if m.active]
    if not turn:
        return None, "no active member: the case waits in the team queue, unassigned"
    if strategy == "round_robin":
        after = f" after {last}" if last else ""
        return turn[0].name, f"{turn[0].name}: next in turn{after}"
    least = min(m.open_cases for m in turn)
    tied = [m for m in turn if m.open_cases == least]
    tie = f", ahead of {', '.join(m.name for m in tied[1:])} in turn" if len(tied) > 1 else ""
    return tied[0].name, f"{tied[0].name}: least loaded ({least} open{tie})"


def parse_routing(data: Any) -> RoutingRules:
    """Routing rules from loaded YAML/JSON; ``Invalid`` lists every problem at once."""
    if not isinstance(data, dict):
        raise Invalid("must be a mapping with default_team (and rules)", "routing", data)
    try:
        return RoutingRules.model_validate(data)
    except ValidationError as exc:
        raise Invalid(problems_of(exc, thing="a routing")) from None


def load_routing(text: str) -> RoutingRules:
    """Routing rules from a YAML document (see ``parse_routing``)."""
    return parse_routing(read_yaml(text))
