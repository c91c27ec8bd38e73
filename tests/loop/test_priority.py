"""Priority: severity × customer value × churn risk, its level and the factors behind it."""

from __future__ import annotations

import math

import pytest

from cxloop.errors import Invalid
from cxloop.loop.priority import level_of, multiplier, priority


@pytest.mark.parametrize(
    ("severity", "level", "score"),
    [("low", "p4", 16.0), ("medium", "p3", 32.0), ("high", "p2", 48.0), ("critical", "p1", 64.0)],
)
def test_a_customer_of_unknown_value_and_risk_gets_the_severitys_own_level(
    severity: str, level: str, score: float
) -> None:
    found = priority(severity, None, None)
    assert (found.level, found.score) == (level, score)
    assert [(f.factor, f.value, f.multiplier) for f in found.explanation] == [
        ("severity", severity, 1.0),
        ("value_percentile", None, 1.0),
        ("churn_risk", None, 1.0),
    ]


def test_value_and_churn_risk_move_a_case_by_about_one_level() -> None:
    assert priority("high", 100, 1.0).level == "p1"  # 48 × 1.25 × 1.25 = 75
    assert priority("high", 0, 0.0).level == "p3"  # 48 × 0.8 × 0.8 = 30.72
    assert priority("medium", 100, 1.0).level == "p2"
    assert priority("low", 100, 1.0).level == "p3"
    assert priority("critical", 0, 0.0).level == "p2"
    assert priority("critical", 0, 0.0).score > priority("low", 100, 1.0).score


def test_the_explanation_adds_up_to_the_score_in_points() -> None:
    found = priority("high", 95, 0.8)
    assert found.score == 67.08
    assert [(f.factor, f.value, f.contribution) for f in found.explanation] == [
        ("severity", "high", 48.0),
        ("value_percentile", 95, 10.68),
        ("churn_risk", 0.8, 8.4),
    ]
    assert sum(f.contribution for f in found.explanation) == pytest.approx(found.score)
    low = priority("medium", 10, 0.05)
    assert [f.contribution < 0 for f in low.explanation] == [False, True, True]
    assert sum(f.contribution for f in low.explanation) == pytest.approx(low.score)


@pytest.mark.parametrize("severity", ["low", "medium", "high", "critical"])
def test_more_value_or_more_risk_never_lowers_the_score(severity: str) -> None:
    steps = [0, 10, 25, 50, 75, 90, 100]
    by_value = [priority(severity, v, 0.5).score for v in steps]
    by_risk = [priority(severity, 50, v / 100).score for v in steps]
    assert by_value == sorted(by_value) and by_value[0] < by_value[-1]
    assert by_risk == sorted(by_risk) and by_risk[0] < by_risk[-1]


def test_multipliers_and_level_bounds_are_as_documented() -> None:
    assert (multiplier(0), multiplier(0.5), multiplier(None), multiplier(1)) == (0.8, 1, 1, 1.25)
    assert [level_of(s) for s in (100, 60, 59.99, 40, 39.99, 20, 19.99, 0)] == [
        "p1",
        "p1",
        "p2",
        "p2",
        "p3",
        "p3",
        "p4",
        "p4",
    ]


def test_every_bad_input_is_named_at_once() -> None:
    with pytest.raises(Invalid) as exc:
        priority("urgent", 150, math.nan)
    assert [(p.field, p.value, p.reason) for p in exc.value.problems] == [
        ("severity", "urgent", "is not a severity (low, medium, high, critical)"),
        ("value_percentile", 150, "is not a number from 0 to 100"),
        ("churn_risk", exc.value.problems[2].value, "is not a number from 0 to 1"),
    ]
    with pytest.raises(Invalid) as exc:
        priority("low", True, -0.1)
    assert [p.field for p in exc.value.problems] == ["value_percentile", "churn_risk"]
