"""A case's priority from its severity, the customer's value and their churn risk, explained.

Pure. The score multiplies three factors, so a critical alert from a small customer still
outranks a low one from the best customer, and value and risk move a case by about one level::

    score = SEVERITY_POINTS[severity] × value multiplier × churn multiplier      (10.24–100)
    multiplier = SPREAD ** (2 × share − 1)    share: value_percentile / 100, or churn_risk

With ``SPREAD`` 1.25 a multiplier runs from 0.8 (bottom) through 1.0 (middle, or unknown) to
1.25 (top). Levels: p1 from 60, p2 from 40, p3 from 20, p4 below. The explanation gives each
factor's contribution in points, added in that order (severity, then value, then churn), so
the contributions sum to the score.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict

from cxloop.errors import Invalid, Problem
from cxloop.loop.rules import Severity

Level = Literal["p1", "p2", "p3", "p4"]
SEVERITY_POINTS: dict[str, float] = {"low": 16.0, "medium": 32.0, "high": 48.0, "critical": 64.0}
"""The score of each severity for a customer of middle (or unknown) value and risk."""
SPREAD = 1.25
"""The most a factor multiplies by (top value, certain churn); its inverse is the least."""
LEVELS: tuple[tuple[Level, float], ...] = (("p1", 60.0), ("p2", 40.0), ("p3", 20.0))
"""The lowest score of each level; below the last is p4."""


class Factor(BaseModel):
    """One factor of a priority: its name, its value (None: unknown) and what it added."""

    model_config = ConfigDict(frozen=True)

    factor: str
    value: str | float | None
    multiplier: float
    contribution: float
    """Points this factor adds to the score (severity: its base points)."""


class Priority(BaseModel):
    """A case's level (p1 most urgent), its score 0–100 and the factors behind it."""

    model_config = ConfigDict(frozen=True)

    level: Level
    score: float
    explanation: list[Factor]


def multiplier(share: float | None) -> float:
    """``SPREAD ** (2·share − 1)``: 0.8 at 0, 1.0 at ½ or unknown, 1.25 at 1."""
    return 1.0 if share is None else float(SPREAD ** (2 * share - 1))


def level_of(score: float) -> Level:
    """The level a score falls in (``LEVELS``)."""
    return next((level for level, low in LEVELS if score >= low), "p4")


def priority(
    severity: Severity | str, value_percentile: float | None, churn_risk: float | None
) -> Priority:
    """The priority of a case: ``severity`` × customer value (``value_percentile`` 0–100) ×
    ``churn_risk`` (0–1); an unknown value or risk counts as the middle (multiplier 1).

    >>> p = priority("high", 95, 0.8)
    >>> p.level, p.score, [f.contribution for f in p.explanation]
    ('p1', 67.08, [48.0, 10.68, 8.4])
    """
    problems = []
    if severity not in SEVERITY_POINTS:
        known = ", ".join(SEVERITY_POINTS)
        problems.append(Problem("severity", severity, f"is not a severity ({known})"))
    for name, value, high in (
        ("value_percentile", value_percentile, 100),
        ("churn_risk", churn_risk, 1),
    ):
        if value is not None and not (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and math.isfinite(value)
            and 0 <= value <= high
        ):
            problems.append(Problem(name, value, f"is not a number from 0 to {high}"))
    if problems:
        raise Invalid(problems)
    base = SEVERITY_POINTS[severity]
    by_value = multiplier(None if value_percentile is None else value_percentile / 100)
    by_churn = multiplier(churn_risk)
    after_value = round(base * by_value, 2)
    score = round(base * by_value * by_churn, 2)
    explanation = [
        Factor(factor="severity", value=severity, multiplier=1.0, contribution=base),
        Factor(
            factor="value_percentile",
            value=value_percentile,
            multiplier=round(by_value, 4),
            contribution=round(after_value - base, 2),
        ),
        Factor(
            factor="churn_risk",
            value=churn_risk,
            multiplier=round(by_churn, 4),
            contribution=round(score - after_value, 2),
        ),
    ]
    return Priority(level=level_of(score), score=score, explanation=explanation)
