"""How an export's answers become a stored survey's answers: per imported question, the cxloop
question it fills, and the option and row ids its codes stand for.

``build`` (a new survey) and ``match`` (an existing one) both end in a ``Plan``; ``translate``
then turns each ``ImportedResponse``'s answers (tool codes) into cxloop's answer format (option
ids), naming every value it cannot place as a row problem. Pure: no database.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from cxloop.surveys.definitions import SurveyDefinition
from cxloop.surveys.importers.model import ImportedResponse, RowProblem

NUMERIC = ("nps", "csat", "ces", "rating")


@dataclass
class QuestionPlan:
    """Where one imported question's answers go."""

    source: str
    """The ``ImportedQuestion.id`` (the key in ``ImportedResponse.answers``)."""
    target: str
    """The cxloop question id."""
    kind: str
    """The cxloop question's type (what the stored answer must look like)."""
    options: dict[str, str] = field(default_factory=dict)
    """Choice code → option id (single/multiple)."""
    rows: dict[str, str] = field(default_factory=dict)
    """Matrix row code → row id."""
    labels: dict[str, str] = field(default_factory=dict)
    """Choice code → label, for a choice kept as a ``text`` question."""


@dataclass
class Plan:
    """Every imported question's destination in one survey definition."""

    definition: SurveyDefinition
    questions: list[QuestionPlan]
    notes: list[str] = field(default_factory=list)

    def translate(self, response: ImportedResponse) -> tuple[dict[str, Any], list[RowProblem]]:
        """The response's answers keyed by cxloop ids with option ids, and the problems of
        values the definition cannot hold (the row is then refused whole)."""
        out: dict[str, Any] = {}
        problems: list[RowProblem] = []
        for plan in self.questions:
            value = response.answers.get(plan.source)
            other = response.answers.get(f"{plan.source}.other")
            if value is not None:
                try:
                    out[plan.target] = self._in_survey_order(plan, _value(plan, value))
                except _Unplaced as exc:
                    problems.append(RowProblem(response.row, plan.source, exc.value, exc.reason))
            if other is not None and str(other).strip():
                if plan.kind in ("single", "multiple"):
                    out[f"{plan.target}.other"] = str(other)
                elif plan.kind == "text" and plan.target in out:
                    out[plan.target] = f"{out[plan.target]}: {other}"
        known = {p.source for p in self.questions}
        for key in response.answers:
            base = key.removesuffix(".other")
            if base not in known:
                reason = "is the answer of a question the export does not define"
                problems.append(
                    RowProblem(response.row, key, _shown(response.answers[key]), reason)
                )
        return out, problems

    def _in_survey_order(self, plan: QuestionPlan, value: Any) -> Any:
        """A multiple choice's option ids in the survey's option order (not the export's: 问卷星's
        text mode lists options as first chosen), so both value modes store equal answers."""
        if plan.kind != "multiple" or not isinstance(value, list):
            return value
        question = self.definition.question(plan.target)
        order = {o.id: i for i, o in enumerate(question.options)} if question else {}
        return sorted(value, key=lambda option: order.get(option, len(order)))


class _Unplaced(Exception):
    def __init__(self, value: Any, reason: str) -> None:
        self.value = _shown(value)
        self.reason = reason


def _shown(value: Any) -> str | None:
    return None if value is None else str(value)[:200]


def _value(plan: QuestionPlan, value: Any) -> Any:
    if plan.kind in NUMERIC:
        return _number(plan, value)
    if plan.kind == "single":
        return _option(plan, value)
    if plan.kind == "multiple":
        values = value if isinstance(value, list) else [value]
        chosen = {_option(plan, v) for v in values}
        # two codes may stand for one option (``match`` by label): each option once
        return [o for o in dict.fromkeys(plan.options.values()) if o in chosen] or sorted(chosen)
    if plan.kind == "matrix":
        if not isinstance(value, dict):
            raise _Unplaced(value, f"is not a matrix answer ({{row: number}}) for {plan.target}")
        out: dict[str, Any] = {}
        for code, number in value.items():
            row = plan.rows.get(str(code))
            if row is None:
                known = ", ".join(plan.rows) or "none"
                raise _Unplaced(code, f"is not a row of {plan.target} (rows: {known})")
            out[row] = _number(plan, number)
        return out
    if isinstance(value, list):
        return ", ".join(plan.labels.get(str(v), str(v)) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {v}" for k, v in value.items())
    return plan.labels.get(str(value), str(value))


def _number(plan: QuestionPlan, value: Any) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        try:
            value = float(str(value).strip())
        except ValueError:
            raise _Unplaced(value, f"is not a number ({plan.target} is {plan.kind})") from None
    if not math.isfinite(value):
        raise _Unplaced(value, f"is not a number ({plan.target} is {plan.kind})")
    return int(value) if float(value).is_integer() else float(value)


def _option(plan: QuestionPlan, value: Any) -> str:
    code = str(value)
    option = plan.options.get(code)
    if option is None:
        known = ", ".join(list(plan.options)[:20]) or "none"
        raise _Unplaced(value, f"is not an option of {plan.target} (options: {known})")
    return option
