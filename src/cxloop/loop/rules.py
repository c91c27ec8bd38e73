"""Alert rules: which stored feedback opens (or joins) a case, how severe, and under which topic.

Pure: no database. A rule set comes from YAML (a list of rules, or ``rules:`` holding one) and
is checked whole: every bad field of every rule is reported at once, named by its path
(``rules[2].when``), its value and the reason. ``evaluate`` runs on each new or changed
feedback, so conditions are compiled once, when the rules load::

    - id: detractor-service
      name: 贬损者抱怨服务
      when: nps_group == 'detractor' and aspect == 'service/*:negative'
      severity: high
      topic: matched          # the case's topic is the aspect that matched (service/attitude)
      team: service
      window_hours: 72        # later feedback on that topic within 72 h joins the open case

A mapping may also hold ``metric_alerts:``, rules over the alerts a metric scan stores
(``metrics.monitoring``): ``when`` reads the alert's kind, subject, slice, score, value and
expected; each names its ``team`` (an alert has no customer to route by)::

    metric_alerts:
      - id: nps-drop
        name: NPS 周跌
        when: kind == 'drop' and subject == 'nps'
        severity: high
        team: 客服一组
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_serializer,
    field_validator,
)

from cxloop.errors import Invalid, Problem
from cxloop.loop.alert_facts import AlertFacts
from cxloop.loop.facts import FeedbackFacts
from cxloop.loop.hours import Switch, problems_of, read_yaml
from cxloop.loop.rule_conditions import Condition, read_condition
from cxloop.loop.rule_names import ALERT_NAMES

Severity = Literal["low", "medium", "high", "critical"]
SEVERITIES: dict[str, Severity] = {
    "low": "low",
    "medium": "medium",
    "high": "high",
    "critical": "critical",
    "低": "low",
    "中": "medium",
    "高": "high",
    "紧急": "critical",
}
MATCHED = "matched"
"""``topic: matched``: the case's topic is the first topic or aspect the condition matched."""
DEFAULT_WINDOW_HOURS = 168.0
"""A week: a customer who writes again about the same thing within it joins the open case."""
MAX_WINDOW_HOURS = 24 * 366.0
_ID = re.compile(r"^[^\W_][\w.\-]{0,63}$")


def _rule_id(value: Any) -> str:
    if not isinstance(value, str) or not _ID.match(value.strip()):
        raise ValueError(
            "is not a rule id (letters, digits, '.', '-', '_'; up to 64; e.g. vip-delivery)"
        )
    return value.strip()


def _words(value: Any) -> Any:
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise ValueError("must be non-empty text")
    return value.strip() if isinstance(value, str) else value


def _severity(value: Any) -> Severity:
    found = SEVERITIES.get(value.strip().lower()) if isinstance(value, str) else None
    if found is None:
        raise ValueError("is not a severity (low, medium, high, critical; 低, 中, 高, 紧急)")
    return found


class AlertRule(BaseModel):
    """One rule: when its condition holds for a feedback, a case of ``severity`` opens (or the
    customer's open case on the same topic within ``window_hours`` gets the feedback).

    ``topic`` names the case topic used for de-duplication: a fixed topic path, ``matched``
    (the topic or aspect the condition matched), or nothing: ``matched`` when the condition
    tests topics or aspects, else ``rule:<id>`` (one open case per customer and rule).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    id: str
    name: str
    when: Condition
    severity: Severity
    topic: str | None = None
    team: str | None = None
    enabled: Switch = True
    window_hours: float = DEFAULT_WINDOW_HOURS

    @field_validator("id", mode="before")
    @classmethod
    def _id(cls, value: Any) -> Any:
        return _rule_id(value)

    @field_validator("name", "team", mode="before")
    @classmethod
    def _words(cls, value: Any) -> Any:
        return _words(value)

    @field_validator("when", mode="before")
    @classmethod
    def _condition(cls, value: Any) -> Condition:
        return read_condition(value)

    @field_serializer("when")
    def _written(self, when: Condition) -> str:
        return when.text

    @field_validator("severity", mode="before")
    @classmethod
    def _severity(cls, value: Any) -> Any:
        return _severity(value)

    @field_validator("topic", mode="before")
    @classmethod
    def _topic(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip().strip("/"):
            raise ValueError("must be a topic path (e.g. delivery/speed) or 'matched'")
        when = info.data.get("when")
        if value.strip() == MATCHED and isinstance(when, Condition) and not when.reads_topics():
            raise ValueError(
                "is 'matched', but the condition tests no topic or aspect to take it from"
            )
        return value.strip().strip("/")

    @field_validator("window_hours", mode="before")
    @classmethod
    def _window(cls, value: Any) -> Any:
        number = value if isinstance(value, int | float) and not isinstance(value, bool) else None
        if number is None or not 0 < number <= MAX_WINDOW_HOURS:
            raise ValueError("must be a number of hours above 0 and at most 8784 (a year)")
        return value

    def case_topic(self, matched: tuple[str, ...]) -> str:
        """The de-duplication topic for a match that found ``matched`` topics."""
        if self.topic is not None and self.topic != MATCHED:
            return self.topic
        if matched and (self.topic == MATCHED or self.when.reads_topics()):
            return matched[0]
        return f"rule:{self.id}"


class MetricAlertRule(BaseModel):
    """A rule over stored metric alerts: each alert its condition holds for opens one case
    (never a second, whatever the first's status) for ``team``, topic ``metric:<subject>``."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    id: str
    name: str
    when: Condition
    severity: Severity
    team: str
    enabled: Switch = True

    @field_validator("id", mode="before")
    @classmethod
    def _id(cls, value: Any) -> Any:
        return _rule_id(value)

    @field_validator("name", "team", mode="before")
    @classmethod
    def _words(cls, value: Any) -> Any:
        return _words(value)

    @field_validator("severity", mode="before")
    @classmethod
    def _severity(cls, value: Any) -> Any:
        return _severity(value)

    @field_validator("when", mode="before")
    @classmethod
    def _condition(cls, value: Any) -> Condition:
        return read_condition(value, ALERT_NAMES)

    @field_serializer("when")
    def _written(self, when: Condition) -> str:
        return when.text


class RuleMatch(BaseModel):
    """A rule that holds for a feedback: which one, why (the parts that held, as values and
    symbols, the same in a zh or en screen), and the topic its case is de-duplicated on."""

    model_config = ConfigDict(frozen=True)

    rule_id: str
    rule_name: str
    severity: Severity
    team: str | None
    topic: str
    window_hours: float
    why: list[str]
    topics: tuple[str, ...] = ()
    """With ``topic: matched``: every topic the condition matched, ``topic`` first (a
    customer's open case on any of them gets the feedback); else empty."""

    def case_topics(self) -> tuple[str, ...]:
        """The topics an open case may have for this match to join it, ``topic`` first."""
        return tuple(dict.fromkeys([self.topic, *self.topics]))


class RuleSet(BaseModel):
    """Alert rules in the order they were written (matches keep that order)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rules: list[AlertRule] = Field(default_factory=list)
    metric_alerts: list[MetricAlertRule] = Field(default_factory=list)

    def rule(self, rule_id: str) -> AlertRule:
        """The rule with ``rule_id``, or ``Invalid`` naming the ids there are."""
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        known = ", ".join(r.id for r in self.rules) or "none yet"
        raise Invalid(f"is not a rule id (known: {known})", "rule", rule_id)

    def topics(self) -> list[tuple[str, str]]:
        """(field path, topic) of every fixed topic, for the service to check against the
        taxonomy (this module knows no taxonomy)."""
        return [
            (f"rules[{i}].topic", r.topic)
            for i, r in enumerate(self.rules)
            if r.topic is not None and r.topic != MATCHED
        ]


def evaluate(rule_set: RuleSet, facts: FeedbackFacts) -> list[RuleMatch]:
    """The enabled rules whose condition holds for ``facts``, in the rule set's order."""
    out = []
    for rule in rule_set.rules:
        if not rule.enabled:
            continue
        outcome = rule.when.evaluate(facts)
        if outcome.hit:
            topic = rule.case_topic(outcome.topics)
            taken = rule.topic in (None, MATCHED) and outcome.topics[:1] == (topic,)
            found = outcome.topics if taken else ()
            out.append(
                RuleMatch(
                    rule_id=rule.id,
                    rule_name=rule.name,
                    severity=rule.severity,
                    team=rule.team,
                    topic=topic,
                    window_hours=rule.window_hours,
                    why=list(outcome.why),
                    topics=tuple(dict.fromkeys(found)),
                )
            )
    return out


def evaluate_alert(rule_set: RuleSet, facts: AlertFacts) -> list[RuleMatch]:
    """The enabled ``metric_alerts`` rules whose condition holds for one alert, in order; the
    match's topic is ``metric:<subject>``."""
    out = []
    for rule in rule_set.metric_alerts:
        if not rule.enabled:
            continue
        outcome = rule.when.evaluate(facts)
        if outcome.hit:
            out.append(
                RuleMatch(
                    rule_id=rule.id,
                    rule_name=rule.name,
                    severity=rule.severity,
                    team=rule.team,
                    topic=f"metric:{facts.subject}"[:200],
                    window_hours=DEFAULT_WINDOW_HOURS,
                    why=list(outcome.why),
                )
            )
    return out


def parse_rules(data: Any) -> RuleSet:
    """A rule set from loaded YAML/JSON: a list of rules, a mapping with ``rules:`` and/or
    ``metric_alerts:``, or nothing (no rules); ``Invalid`` lists every problem of every rule,
    each with its path and value."""
    if data is None:
        return RuleSet()
    if isinstance(data, list):
        data = {"rules": data}
    if not isinstance(data, dict):
        raise Invalid("must be a list of rules (or a mapping with rules: [...])", "rules", data)
    problems = _duplicates(data.get("rules"), data.get("metric_alerts"))
    try:
        rule_set = RuleSet.model_validate(data)
    except ValidationError as exc:
        problems = problems_of(exc, thing="an alert rule") + problems
    if problems:
        raise Invalid(problems)
    return rule_set


def _duplicates(rules: Any, metric_alerts: Any = None) -> list[Problem]:
    """Ids used twice, across both lists (a case names the rule that opened it by id)."""
    seen: dict[str, str] = {}
    problems = []
    for section, items in (("rules", rules), ("metric_alerts", metric_alerts)):
        if not isinstance(items, list):
            continue
        for i, rule in enumerate(items):
            rule_id = rule.get("id") if isinstance(rule, dict) else None
            if not isinstance(rule_id, str):
                continue
            here = f"{section}[{i}]"
            if rule_id.strip() in seen:
                reason = f"is used by {seen[rule_id.strip()]} already (ids are unique)"
                problems.append(Problem(f"{here}.id", rule_id, reason))
            else:
                seen[rule_id.strip()] = here
    return problems


def load_rules(text: str) -> RuleSet:
    """A rule set from a YAML document (see ``parse_rules``)."""
    return parse_rules(read_yaml(text))
