"""What a respondent sees and may answer: display logic, answer checks and piped values.

Pure: the form (web), the JSON API and tests call the same functions, so a value refused on one
door is refused on every door, with the same words.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from cxloop.errors import Invalid, Problem
from cxloop.surveys import expressions
from cxloop.surveys.definitions import (
    OTHER_TEXT_LENGTH,
    PIPE,
    SCORED,
    Question,
    SurveyDefinition,
)

AnswerValue = int | str | list[str] | dict[str, int] | None
"""nps/csat/ces/rating: int; single: option id; multiple: option ids in the options' order;
matrix: {row id: int} in the rows' order; text: str; None: skipped."""
SHOWN = 60
"""Characters of a refused value echoed back (a 5,000-character text is not repeated)."""


@lru_cache(maxsize=1024)
def _tree(show_if: str) -> expressions.Expr:
    return expressions.parse(show_if)


def _lookup(answers: Mapping[str, Any], attributes: Mapping[str, Any]) -> expressions.Lookup:
    def read(name: str) -> object:
        root, _, rest = name.partition(".")
        if root in answers:
            value = answers[root]
            if rest:  # a matrix row
                return value.get(rest, expressions.MISSING) if isinstance(value, dict) else None
            return value
        return attribute(attributes, name)

    return read


def attribute(attributes: Mapping[str, Any], name: str) -> object:
    """``contact.role`` from nested (``{"contact": {"role": …}}``) or dotted keys; MISSING if
    absent."""
    if name in attributes:
        return attributes[name]
    value: object = attributes
    for part in name.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return expressions.MISSING
        value = value[part]
    return value


def visible(
    question: Question, answers: Mapping[str, Any], attributes: Mapping[str, Any] | None = None
) -> bool:
    """Whether ``question`` is shown, given the answers so far and the respondent's attributes
    (``{"contact": {"role": …}, "customer": {"segment": …}}``). No ``show_if``: always."""
    if question.show_if is None:
        return True
    return expressions.evaluate(_tree(question.show_if), _lookup(answers, attributes or {}))


def _shown(raw: object) -> object:
    if isinstance(raw, str) and len(raw) > SHOWN:
        return raw[:SHOWN] + "…"
    return raw


def _whole(question: Question, field: str, raw: object) -> int:
    """A whole number on the question's scale from a form string, an int or an integral float."""
    bounds = question.bounds
    assert bounds is not None
    low, high = bounds
    number: float | None = None
    if isinstance(raw, bool):
        number = None
    elif isinstance(raw, int | float):
        number = float(raw)
    elif isinstance(raw, str):
        try:
            number = float(raw.strip())
        except ValueError:
            number = None
    if number is None or not math.isfinite(number) or not number.is_integer():
        raise Invalid(f"is not a whole number from {low} to {high}", field, _shown(raw))
    if not low <= number <= high:
        raise Invalid(f"is outside {low}–{high}", field, _shown(raw))
    return int(number)


def _empty(raw: object) -> bool:
    if raw is None:
        return True
    if isinstance(raw, str):
        return not raw.strip()
    if isinstance(raw, list | tuple | dict):
        values = raw.values() if isinstance(raw, dict) else raw
        return all(_empty(v) for v in values)
    return False


def check_answer(question: Question, raw: object) -> AnswerValue:
    """``raw`` (a form string, a list of option ids, ``{row: value}``, or JSON numbers) as the
    clean value stored for ``question``; ``Invalid`` naming the question, the value and the
    rule it breaks otherwise. An empty answer is None, or "is required" when it is required
    (visibility is the caller's: ask only about questions ``visible`` shows)."""
    if _empty(raw):
        if question.required:
            raise Invalid("is required", question.id, None)
        return None
    if question.type in SCORED:
        if isinstance(raw, list | dict):
            raise Invalid("must be one number", question.id, None)
        return _whole(question, question.id, raw)
    if question.type == "single":
        return _single(question, raw)
    if question.type == "multiple":
        return _multiple(question, raw)
    if question.type == "matrix":
        return _matrix(question, raw)
    return _text(question, raw)


def _options(question: Question) -> str:
    return ", ".join(o.id for o in question.options)


def _single(question: Question, raw: object) -> str:
    if isinstance(raw, list) and len(raw) == 1:
        raw = raw[0]
    if not isinstance(raw, str | int) or isinstance(raw, bool):
        raise Invalid("must be one option", question.id, None)
    chosen = str(raw).strip()
    if question.option(chosen) is None:
        raise Invalid(f"is not an option ({_options(question)})", question.id, _shown(chosen))
    return chosen


def _multiple(question: Question, raw: object) -> list[str]:
    items = raw if isinstance(raw, list | tuple) else [raw]
    chosen: set[str] = set()
    problems = []
    for item in items:
        text = str(item).strip() if isinstance(item, str | int) else None
        if text == "":
            continue
        if text is None or question.option(text) is None:
            reason = f"is not an option ({_options(question)})"
            problems.append(Problem(question.id, _shown(item), reason))
        else:
            chosen.add(text)
    if problems:
        raise Invalid(problems)
    ordered = [o.id for o in question.options if o.id in chosen]
    high = question.max_choices
    low = question.min_choices or (1 if question.required else 0)
    if high is not None and len(ordered) > high:
        raise Invalid(f"is too many choices ({len(ordered)}; at most {high})", question.id, ordered)
    if len(ordered) < low:
        raise Invalid(f"is too few choices ({len(ordered)}; at least {low})", question.id, ordered)
    return ordered


def _matrix(question: Question, raw: object) -> dict[str, int]:
    if not isinstance(raw, Mapping):
        raise Invalid("must give a rating per row ({row: rating})", question.id, _shown(raw))
    rows = [r.id for r in question.rows]
    problems = []
    clean: dict[str, int] = {}
    for key, value in raw.items():
        field = f"{question.id}.{key}"
        if key not in rows:
            problems.append(Problem(field, _shown(value), f"is not a row ({', '.join(rows)})"))
        elif not _empty(value):
            try:
                clean[key] = _whole(question, field, value)
            except Invalid as exc:
                problems.extend(exc.problems)
    if question.required:
        for row in rows:
            if row not in clean and not any(p.field == f"{question.id}.{row}" for p in problems):
                problems.append(Problem(f"{question.id}.{row}", None, "is required"))
    if problems:
        raise Invalid(problems)
    return {row: clean[row] for row in rows if row in clean}


def _text(question: Question, raw: object) -> str:
    if not isinstance(raw, str):
        raise Invalid("must be text", question.id, None)
    text = raw.strip()
    limit = question.max_length or 4000
    if len(text) > limit:
        reason = f"is too long ({len(text):,} characters; at most {limit:,})"
        raise Invalid(reason, question.id, _shown(text))
    return text


def check_other(question: Question, chosen: AnswerValue, raw: object) -> str | None:
    """The "other, please specify" text (``<id>.other``): required when an ``other`` option is
    chosen, dropped when none is."""
    others = {o.id for o in question.options if o.other}
    picked = chosen if isinstance(chosen, list) else [chosen]
    if not others or not others.intersection(str(x) for x in picked):
        return None
    field = f"{question.id}.other"
    if not isinstance(raw, str) or not raw.strip():
        raise Invalid("please specify the other answer", field, None)
    text = raw.strip()
    if len(text) > OTHER_TEXT_LENGTH:
        reason = f"is too long ({len(text):,} characters; at most {OTHER_TEXT_LENGTH})"
        raise Invalid(reason, field, _shown(text))
    return text


def check_answers(
    definition: SurveyDefinition,
    raw: Mapping[str, Any],
    attributes: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A whole submission checked in question order: answers to hidden questions dropped,
    every problem raised at once; returns ``{question id: value, "<id>.other": text}``."""
    problems: list[Problem] = []
    clean: dict[str, Any] = {}
    known = {q.id for q in definition.questions}
    for key in raw:
        if key.split(".", 1)[0] not in known or (key.count(".") and not key.endswith(".other")):
            problems.append(Problem(key, None, "is not a question of this survey"))
    for question in definition.questions:
        if not visible(question, clean, attributes):
            continue
        try:
            value = check_answer(question, raw.get(question.id))
            other = check_other(question, value, raw.get(f"{question.id}.other"))
        except Invalid as exc:
            problems.extend(exc.problems)
            continue
        if value is not None:
            clean[question.id] = value
        if other is not None:
            clean[f"{question.id}.other"] = other
    if problems:
        raise Invalid(problems)
    return clean


def pipe(text: str, context: Mapping[str, Any]) -> str:
    """``{customer.name}``, ``{order.order_id}``, ``{milestone.name}`` … filled from the
    invitation's context (nested or dotted keys); an unknown value becomes the fallback after
    ``|`` (``{customer.name|您}``), else empty text, never an error at send time. Escaping for
    HTML is the template's job."""

    def fill(match: Any) -> str:
        value = attribute(context, f"{match.group(1)}.{match.group(2)}")
        if (
            value is expressions.MISSING
            or value is None
            or value == ""
            or isinstance(value, Mapping | list)
        ):
            return match.group(3) or ""
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)

    return PIPE.sub(fill, text)


def drivers(definition: SurveyDefinition) -> list[str]:
    """The driver names a survey's matrices define: their row ids, in order (unique across the
    survey, which validation guarantees), for ``insights.drivers.key_drivers(drivers=…)``."""
    return [row.id for q in definition.questions if q.type == "matrix" for row in q.rows]


def driver_values(definition: SurveyDefinition, answers: Mapping[str, Any]) -> dict[str, int]:
    """One response's matrix answers flattened to ``{driver: rating}`` (unanswered rows left
    out), the columns ``key_drivers`` reads beside the response's score."""
    out: dict[str, int] = {}
    for q in definition.questions:
        value = answers.get(q.id)
        if q.type == "matrix" and isinstance(value, Mapping):
            out.update(
                {row.id: int(value[row.id]) for row in q.rows if value.get(row.id) is not None}
            )
    return out


def may_show(
    definition: SurveyDefinition, answers: Mapping[str, Any], attributes: Mapping[str, Any]
) -> list[Question]:
    """Questions shown for these answers plus those whose ``show_if`` reads a question not
    answered yet: progress counts them and the page says Next, not Submit, while one may follow."""
    ids = {q.id for q in definition.questions}
    given = {k: v for k, v in answers.items() if v is not None and "." not in k}

    def pending(show_if: str) -> bool:
        roots = {name.path.split(".", 1)[0] for name in expressions.names(_tree(show_if))}
        return any(root in ids and root not in answers for root in roots)

    return [
        q
        for q in definition.questions
        if visible(q, given, attributes) or (q.show_if is not None and pending(q.show_if))
    ]
