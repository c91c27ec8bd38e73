"""Alert rules: conditions over one feedback's facts, why they matched, the case topic, and
every mistake of a rule file reported at once with its path, value and reason."""

from __future__ import annotations

import random
from typing import Any

import pytest

from cxloop.errors import Invalid
from cxloop.loop.facts import FeedbackFacts
from cxloop.loop.rules import RuleMatch, RuleSet, evaluate, load_rules, parse_rules

RULES_YAML = """\
# 客服中心告警规则
- id: detractor-service
  name: 贬损者抱怨服务
  when: nps_group == 'detractor' and aspect == 'Service/*:negative'
  severity: high
  topic: matched
  team: service
  window_hours: 72
- id: vip-delivery
  name: Top-20 % customer unhappy with delivery
  when: aspect == '配送：负面' and value_percentile >= 80
  severity: critical
- id: escalation
  name: 升级威胁
  when: flag == 'escalation'
  severity: 紧急
- id: old-rule
  name: switched off
  when: nps <= 10
  severity: low
  enabled: false
"""


KNOWN = (
    "nps, csat, ces, rating, sentiment_score, value_percentile, churn_risk, nps_group, sentiment,"
    " intent, language, flag, topic, aspect, channel, touchpoint, segment, tier, region, role,"
    " account_id, customer_id, attributes.<key>"
)


def facts(**values: Any) -> FeedbackFacts:
    return FeedbackFacts(**values)


def one(when: str, **values: Any) -> RuleMatch | None:
    """The match of a single rule with condition ``when`` on facts ``values``, or None."""
    rule_set = parse_rules([{"id": "r", "name": "r", "when": when, "severity": "medium"}])
    found = evaluate(rule_set, facts(**values))
    return found[0] if found else None


def problems(exc: pytest.ExceptionInfo[Invalid]) -> list[tuple[str, object, str]]:
    return [(p.field, p.value, p.reason) for p in exc.value.problems]


@pytest.fixture
def rules() -> RuleSet:
    return load_rules(RULES_YAML)


def test_a_detractor_complaining_about_service_matches_with_the_parts_that_held(
    rules: RuleSet,
) -> None:
    answer = facts(
        nps=3,
        aspects=[("delivery/speed", "positive"), ("service/attitude", "negative")],
        customer_id="C1",
    )
    [match] = evaluate(rules, answer)
    assert match.rule_id == "detractor-service"
    assert (match.severity, match.team, match.window_hours) == ("high", "service", 72)
    assert match.topic == "service/attitude"
    assert match.why == [
        "nps_group = detractor",
        "aspect service/attitude:negative ~ Service/*:negative",
    ]


def test_the_same_complaint_from_a_passive_or_with_praise_for_service_matches_nothing(
    rules: RuleSet,
) -> None:
    assert evaluate(rules, facts(nps=7, aspects=[("service/attitude", "negative")])) == []
    assert evaluate(rules, facts(nps=2, aspects=[("service/attitude", "positive")])) == []
    assert evaluate(rules, facts(aspects=[("service/attitude", "negative")])) == []  # no score


def test_negative_delivery_for_a_top_20_percent_customer_is_critical_in_chinese_topics(
    rules: RuleSet,
) -> None:
    answer = facts(aspects=[("配送/速度", "negative")], value_percentile=80)
    [match] = evaluate(rules, answer)
    assert (match.rule_id, match.severity, match.topic) == ("vip-delivery", "critical", "配送/速度")
    assert match.why == ["aspect 配送/速度:negative ~ 配送：负面", "value_percentile 80 >= 80"]
    assert evaluate(rules, answer.model_copy(update={"value_percentile": 79.9})) == []
    assert evaluate(rules, answer.model_copy(update={"value_percentile": None})) == []


def test_an_escalation_flag_matches_and_its_case_is_kept_per_rule(rules: RuleSet) -> None:
    [match] = evaluate(rules, facts(flags=["escalation"], sentiment="neutral"))
    assert (match.rule_id, match.severity, match.topic) == (
        "escalation",
        "critical",
        "rule:escalation",
    )
    assert match.why == ["flag = escalation"]


def test_several_rules_match_in_the_order_written_and_disabled_ones_never(
    rules: RuleSet,
) -> None:
    answer = facts(
        nps=0,
        flags=["escalation", "churn_intent"],
        aspects=[("service/speed", "negative"), ("配送", "negative")],
        value_percentile=99.5,
    )
    assert [m.rule_id for m in evaluate(rules, answer)] == [
        "detractor-service",
        "vip-delivery",
        "escalation",
    ]


@pytest.mark.parametrize("empty", [None, [], {"rules": []}])
def test_an_empty_rule_set_matches_nothing(empty: Any) -> None:
    assert evaluate(parse_rules(empty), facts(nps=0, flags=["safety"])) == []
    assert load_rules("# no rules yet\n").rules == []


@pytest.mark.parametrize(
    ("pattern", "topic", "hit"),
    [
        ("service/*", "service", True),
        ("service/*", "Service/Attitude/rude", True),
        ("Service", "service/speed", True),
        ("service/*", "services/speed", False),
        ("*/speed", "delivery/speed", True),
        ("*/speed", "speed", False),
        ("*/speed", "a/b/speed", False),
        ("服务/*", "服务/态度", True),
        ("服务/态度", "服务/态度", True),
        ("服务/态度", "服务/效率", False),
        ("*", "anything/at/all", True),
    ],
)
def test_topic_patterns_match_a_topic_and_everything_under_it(
    pattern: str, topic: str, hit: bool
) -> None:
    assert (one(f"topic == '{pattern}'", topics=[topic]) is not None) == hit


def test_topic_tests_read_the_aspects_topics_too_and_unknown_topics_only_fail_to_match() -> None:
    assert one("topic == 'delivery'", aspects=[("delivery/packaging", "neutral")]) is not None
    assert one("topic == 'delivery'", topics=["售后/退款", "unknown/thing"]) is None
    match = one("topic != 'delivery'", topics=["售后/退款"])
    assert match is not None and match.why == ["topic != delivery"]
    assert one("topic != 'delivery'", topics=["delivery/speed"]) is None
    match = one("topic in ['物流/*', 'price']", topics=["price/discount", "物流/时效"])
    assert match is not None and match.topic == "price/discount"


def test_the_matched_topic_comes_from_the_branch_that_held_not_from_a_negation() -> None:
    rule_set = parse_rules(
        [
            {
                "id": "r",
                "name": "r",
                "when": "not topic == 'price' and (aspect == 'app:negative' or flag)",
                "severity": "low",
            }
        ]
    )
    [match] = evaluate(rule_set, facts(topics=["delivery"], flags=["safety"]))
    assert match.topic == "rule:r"  # the aspect branch did not hold: nothing to take
    assert match.why == ["not (topic == price)", "flag = safety"]
    [match] = evaluate(rule_set, facts(aspects=[("app/login", "negative")]))
    assert match.topic == "app/login"


def test_a_missing_value_makes_every_comparison_false_but_not_its_negation() -> None:
    assert one("segment != 'VIP'") is None
    assert one("segment in ['VIP', 'KA']") is None
    assert one("churn_risk < 0.2") is None
    match = one("not segment == 'VIP'")
    assert match is not None and match.why == ["not (segment == VIP)"]
    assert one("segment != 'VIP'", segment="SMB") is not None


def test_attributes_scores_and_choices_compare_as_a_person_writes_them() -> None:
    assert one("segment == 'vip'", segment="VIP") is not None  # case-blind text
    assert one("channel == '微信'", channel="wechat") is not None  # channel aliases
    assert one("sentiment == '负面'", sentiment="negative") is not None
    assert one("nps_group == '贬损者'", nps=6) is not None
    assert one("6 >= nps", nps=6) is not None  # a value on the left reads the same
    assert one("tier <= 2", tier="1") is not None
    assert one("attributes.plan == 'pro'", attributes={"plan": "Pro"}) is not None
    assert one("attributes.contract.level in [3, 4]", attributes={"contract": {"level": 3}})
    assert one("attributes.vip", attributes={"vip": False}) is None
    assert one("flag == 'churn'", flags=["churn_intent"]) is not None
    assert one("flag in ['safety', '升级']", flags=["escalation"]) is not None
    match = one("churn_risk >= 0.7 and intent == 'complaint'", churn_risk=0.72, intent="complaint")
    assert match is not None and match.why == ["churn_risk 0.72 >= 0.7", "intent = complaint"]


def test_topic_for_de_duplication_is_fixed_matched_or_the_rule() -> None:
    base = {"name": "n", "severity": "high", "when": "aspect == 'service:negative'"}
    rule_set = parse_rules(
        [
            {**base, "id": "fixed", "topic": "service/"},
            {**base, "id": "matched", "topic": "matched"},
            {**base, "id": "default"},
        ]
    )
    answer = facts(aspects=[("service/speed", "negative"), ("service/attitude", "negative")])
    assert [m.topic for m in evaluate(rule_set, answer)] == [
        "service",
        "service/speed",
        "service/speed",
    ]
    assert rule_set.topics() == [("rules[0].topic", "service")]


def test_every_mistake_of_a_rule_file_is_named_at_once() -> None:
    with pytest.raises(Invalid) as exc:
        parse_rules(
            [
                {
                    "id": "bad rule",
                    "name": "x",
                    "when": "nsp <= 6 and sentiment == 'angry' and churn_risk > 70 and topic < 3",
                    "severity": "urgent",
                    "colour": "red",
                },
                {"id": "b", "when": "nps <=", "severity": "low", "window_hours": 0},
                {"id": "b", "name": "again", "when": "flag", "severity": "low", "topic": "matched"},
                {"id": "c", "name": "c", "when": "nps <= 6", "severity": "low", "enabled": "yes"},
            ]
        )
    found = problems(exc)
    known = "is not a condition name (column 1); did you mean nps? known: " + KNOWN
    assert found == [
        ("rules[0].id", "bad rule", found[0][2]),
        ("rules[0].when", "nsp", known),
        (
            "rules[0].when",
            "angry",
            "is not a sentiment value (positive, neutral, negative); column 27",
        ),
        (
            "rules[0].when",
            70,
            "is outside churn_risk's range 0–1: a probability: 0.7 means 70 %; column 52",
        ),
        ("rules[0].when", 3, "topic has no order: compare it with ==, != or in; column 67"),
        (
            "rules[0].severity",
            "urgent",
            "is not a severity (low, medium, high, critical; 低, 中, 高, 紧急)",
        ),
        ("rules[0].colour", "red", "is not an alert rule setting"),
        ("rules[1].name", None, "is required"),
        ("rules[1].when", "nps <=", "expected a value after '<=' at column 7"),
        ("rules[1].window_hours", 0, "must be a number of hours above 0 and at most 8784 (a year)"),
        (
            "rules[2].topic",
            "matched",
            "is 'matched', but the condition tests no topic or aspect to take it from",
        ),
        ("rules[3].enabled", "yes", "must be true or false"),
        ("rules[2].id", "b", "is used by rules[1] already (ids are unique)"),
    ]
    assert found[0][2].startswith("is not a rule id")


@pytest.mark.parametrize(
    ("when", "value", "reason"),
    [
        (
            "nps_group == 'detractor' AND nps < 3",
            "nps_group == 'detractor' AND nps < 3",
            "unexpected 'AND' (expected 'and', 'or' or the end) at column 26",
        ),
        (
            "aspect == 'delivery'",
            "delivery",
            "is not topic:sentiment, e.g. delivery:negative or 配送:负面"
            " (sentiment: positive, neutral, negative); column 11",
        ),
        (
            "topic == 'delivery:negative'",
            "delivery:negative",
            "has a sentiment: use aspect == '…' for a topic with its sentiment; column 10",
        ),
        (
            "flag == 'fraud'",
            "fraud",
            "is not a flag value (escalation, churn_intent, safety); column 9",
        ),
        ("nps == 'high'", "high", "is not a number, and nps compares as a number; column 8"),
        ("nps < csat", "csat", "compares two names (column 7): compare nps with a value"),
        ("segment > 'A'", "A", "is not a number, and segment compares as a number; column 11"),
        (
            "sentiment == 1",
            1,
            "is not a value of sentiment: write it in quotes, e.g. 'positive'; column 14",
        ),
        (
            "value_percentile >= 0.8 or value_percentile > 120",
            120,
            "is outside value_percentile's range 0–100:"
            " top 20 % by value: value_percentile >= 80; column 47",
        ),
        ("attributes.", "attributes.", "unexpected '.' at column 11"),
        (
            "segmant == 'VIP'",
            "segmant",
            "is not a condition name (column 1); did you mean segment? known: " + KNOWN,
        ),
        ("score <= 6", "score", "is not a condition name (column 1); known: " + KNOWN),
    ],
)
def test_a_condition_mistake_names_the_value_and_the_column(
    when: str, value: object, reason: str
) -> None:
    with pytest.raises(Invalid) as exc:
        parse_rules([{"id": "r", "name": "r", "when": when, "severity": "low"}])
    assert problems(exc) == [("rules[0].when", value, reason)]


def test_a_rule_file_that_is_not_a_list_or_not_yaml_is_refused_with_a_sentence() -> None:
    with pytest.raises(Invalid) as exc:
        load_rules("rules: [\n  - id: x\n")
    assert exc.value.problems[0].field.startswith("line ")
    with pytest.raises(Invalid) as exc:
        load_rules("just text")
    assert problems(exc) == [
        ("rules", "just text", "must be a list of rules (or a mapping with rules: [...])")
    ]
    with pytest.raises(Invalid) as exc:
        parse_rules({"rules": "all"})
    assert [p.field for p in exc.value.problems] == ["rules"]
    with pytest.raises(Invalid) as exc:
        parse_rules([{"id": "r", "name": "r", "when": 6, "severity": "low"}])
    assert problems(exc) == [("rules[0].when", 6, "must be a condition as text, e.g. nps <= 6")]


def test_a_rule_set_written_back_reads_the_same(rules: RuleSet) -> None:
    again = parse_rules(rules.model_dump())
    answer = facts(
        nps=1, aspects=[("service", "negative"), ("配送", "negative")], value_percentile=90
    )
    assert evaluate(again, answer) == evaluate(rules, answer)
    assert (
        again.model_dump()["rules"][1]["when"]
        == "aspect == '配送：负面' and value_percentile >= 80"
    )
    assert again.rule("escalation").severity == "critical"
    with pytest.raises(Invalid) as exc:
        again.rule("nope")
    assert problems(exc) == [
        (
            "rule",
            "nope",
            "is not a rule id (known: detractor-service, vip-delivery, escalation, old-rule)",
        )
    ]


def test_any_feedback_either_holds_a_condition_or_its_negation_and_never_breaks() -> None:
    """500 varied rows (missing scores, unknown values and topics, Chinese paths, odd flags)
    against the issue's rules and a few more: no error, and ``X`` xor ``not (X)``."""
    conditions = [
        "nps_group == 'detractor' and aspect == 'Service/*:negative'",
        "aspect == '配送:负面' and value_percentile >= 80",
        "flag == 'escalation' or churn_risk >= 0.7",
        "segment in ['VIP', 'KA'] and not channel == 'review' or attributes.plan == 'pro'",
        "topic != '服务/*' and csat <= 2 or intent == 'complaint' and tier <= 2",
    ]
    rule_set = parse_rules(
        [
            {"id": f"r{i}-{way}", "name": "r", "severity": "low", "when": text}
            for i, when in enumerate(conditions)
            for way, text in (("yes", when), ("no", f"not ({when})"))
        ]
    )
    rng = random.Random(14)
    topics = ["service/attitude", "服务/态度", "配送/速度", "delivery", "unknown/新话题", "Service"]
    pools: dict[str, list[Any]] = {
        "nps": [None, 0, 6, 7, 9, 10],
        "csat": [None, 1, 2, 5],
        "sentiment": [None, "negative", "负面", "mixed", "positive"],
        "intent": [None, "complaint", "none", "投诉", "unknown"],
        "flags": [(), ("escalation",), ("churn_intent", "safety"), ("fraud",)],
        "value_percentile": [None, 0, 79.99, 80, 100],
        "churn_risk": [None, 0.0, 0.69, 0.7, 1.0],
        "segment": [None, "VIP", "ka", "散客", ""],
        "channel": [None, "review", "评价", "微信", "kiosk"],
        "tier": [None, "1", "gold", "3"],
        "attributes": [{}, {"plan": "Pro"}, {"plan": None}, {"plan": ["pro"]}],
    }
    for _ in range(500):
        values = {name: rng.choice(pool) for name, pool in pools.items()}
        values["topics"] = rng.sample(topics, rng.randint(0, 3))
        values["aspects"] = [
            (rng.choice(topics), rng.choice(["negative", "负面", "positive", "neutral", ""]))
            for _ in range(rng.randint(0, 3))
        ]
        held = {m.rule_id for m in evaluate(rule_set, FeedbackFacts(**values))}
        for i in range(len(conditions)):
            assert (f"r{i}-yes" in held) != (f"r{i}-no" in held), values


def test_matched_needs_a_test_that_finds_topics_outside_any_negation() -> None:
    for when in ("not topic == 'price'", "topic != 'price'", "aspect not in ['app:negative']"):
        with pytest.raises(Invalid) as exc:
            parse_rules(
                [{"id": "r", "name": "r", "when": when, "severity": "low", "topic": "matched"}]
            )
        assert [p.field for p in exc.value.problems] == ["rules[0].topic"]
    rule_set = parse_rules(
        [{"id": "r", "name": "r", "when": "aspect", "severity": "low", "topic": "matched"}]
    )
    [match] = evaluate(rule_set, facts(aspects=[("app/登录", "negative"), ("price", "positive")]))
    assert (match.topic, match.why) == ("app/登录", ["aspect = app/登录:negative, price:positive"])
