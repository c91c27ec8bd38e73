"""The respondent form's two translations: a posted form into raw answers, and a page of
questions into what the template draws (labels, choices, the respondent's words for errors).

Field names are the question ids (``nps``, ``why``), ``<id>.<row>`` for a matrix row,
``<id>.other`` for an "other, please specify" text; controls start with ``_`` (``_rev``, the
form's revision; ``_page``, the questions it showed; ``_k``, an anonymous resume key), which no
question id can (ids start with a letter).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import FormData

from cxloop.errors import Problem
from cxloop.surveys import logic
from cxloop.surveys.definitions import Question, SurveyDefinition
from cxloop.web.pages.i18n import Lang, gettext


@dataclass(frozen=True)
class Controls:
    """The form's own fields: which revision it was rendered at and which questions it showed."""

    rev: int | None
    page_ids: list[str] | None
    session_key: str | None


@dataclass
class Choice:
    value: str
    label: str
    checked: bool = False
    other: bool = False


@dataclass
class Row:
    id: str
    label: str
    choices: list[Choice]


@dataclass
class QuestionView:
    """One question as drawn: its piped text in the page's language, choices with what is
    already answered checked, and the error in the respondent's words."""

    id: str
    type: str
    number: int
    text: str
    required: bool
    hint: str | None = None
    choices: list[Choice] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    value: str = ""
    other_text: str = ""
    other_error: str | None = None
    max_length: int | None = None
    error: str | None = None


def parse(form: FormData, definition: SurveyDefinition) -> tuple[dict[str, Any], Controls]:
    """Raw answers by question id (only fields the form sent) and the form's controls."""
    raw: dict[str, Any] = {}
    for question in definition.questions:
        qid = question.id
        if question.type == "multiple":
            values = [v for v in form.getlist(qid) if isinstance(v, str)]
            if values or qid in form:
                raw[qid] = values
        elif question.type == "matrix":
            cells = {row.id: form.get(f"{qid}.{row.id}") for row in question.rows}
            present = {k: v for k, v in cells.items() if isinstance(v, str)}
            if present:
                raw[qid] = present
        elif isinstance(form.get(qid), str):
            raw[qid] = form.get(qid)
        other = form.get(f"{qid}.other")
        if isinstance(other, str):
            raw[f"{qid}.other"] = other
    rev_text = form.get("_rev")
    rev = int(rev_text) if isinstance(rev_text, str) and rev_text.isdigit() else None
    page = [v for v in form.getlist("_page") if isinstance(v, str)]
    key = form.get("_k")
    return raw, Controls(rev, page or None, key if isinstance(key, str) else None)


def views(
    questions: list[Question],
    *,
    lang: Lang,
    context: dict[str, Any],
    answers: dict[str, Any],
    first_number: int,
    problems: list[Problem] | None = None,
) -> list[QuestionView]:
    """The page's questions ready to draw; ``answers`` may be stored values or the raw values
    of a refused POST (shown again so nothing typed is lost)."""
    by_field: dict[str, Problem] = {}
    for problem in problems or []:
        by_field.setdefault(str(problem.field), problem)
    out = []
    for offset, question in enumerate(questions):
        view = _view(question, lang, context, answers, first_number + offset)
        found = by_field.get(question.id) or next(
            (
                p
                for f, p in by_field.items()
                if f.startswith(question.id + ".") and not f.endswith(".other")
            ),
            None,
        )
        if found is not None:
            view.error = message(question, found, lang)
        other_problem = by_field.get(f"{question.id}.other")
        if other_problem is not None:
            view.other_error = message(question, other_problem, lang)
        out.append(view)
    return out


def _text(text: Any, lang: Lang, context: dict[str, Any]) -> str:
    return logic.pipe(text.get(lang), context)


def _view(
    question: Question, lang: Lang, context: dict[str, Any], answers: dict[str, Any], number: int
) -> QuestionView:
    value = answers.get(question.id)
    view = QuestionView(
        id=question.id,
        type=question.type,
        number=number,
        text=_text(question.text, lang, context),
        required=question.required,
        other_text=str(answers.get(f"{question.id}.other") or ""),
    )
    bounds = question.bounds
    if question.type in ("nps", "csat", "ces", "rating") and bounds:
        view.choices = _scale(bounds, value)
        view.hint = _scale_hint(question, bounds, lang)
    elif question.type in ("single", "multiple"):
        chosen = {str(v) for v in value} if isinstance(value, list) else {str(value)}
        view.choices = [
            Choice(o.id, _text(o.text, lang, context), o.id in chosen, o.other)
            for o in question.options
        ]
        if question.type == "multiple":
            view.hint = _choices_hint(question, lang)
    elif question.type == "matrix" and bounds:
        cells = value if isinstance(value, dict) else {}
        view.rows = [
            Row(row.id, _text(row.text, lang, context), _scale(bounds, cells.get(row.id)))
            for row in question.rows
        ]
        view.hint = gettext(lang, "1 = lowest, %(high)s = highest") % {"high": bounds[1]}
    elif question.type == "text":
        view.value = "" if value is None else str(value)
        view.max_length = question.max_length
    return view


def _scale(bounds: tuple[int, int], value: Any) -> list[Choice]:
    picked = _number_text(value)
    return [Choice(str(n), str(n), str(n) == picked) for n in range(bounds[0], bounds[1] + 1)]


def _number_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _scale_hint(question: Question, bounds: tuple[int, int], lang: Lang) -> str:
    low, high = bounds
    if question.type == "nps":
        ends = (gettext(lang, "Not at all likely"), gettext(lang, "Extremely likely"))
    elif question.type == "csat":
        ends = (gettext(lang, "Very dissatisfied"), gettext(lang, "Very satisfied"))
    elif question.type == "ces":
        ends = (gettext(lang, "Very difficult"), gettext(lang, "Very easy"))
    else:
        ends = (gettext(lang, "Lowest"), gettext(lang, "Highest"))
    return f"{low} = {ends[0]}, {high} = {ends[1]}"


def _choices_hint(question: Question, lang: Lang) -> str:
    low, high = question.min_choices, question.max_choices
    if low and high:
        return gettext(lang, "Choose %(low)s to %(high)s.") % {"low": low, "high": high}
    if high:
        return gettext(lang, "Choose up to %(high)s.") % {"high": high}
    if low:
        return gettext(lang, "Choose at least %(low)s.") % {"low": low}
    return gettext(lang, "Choose all that apply.")


def message(question: Question, problem: Problem, lang: Lang) -> str:
    """A refused answer in the respondent's words (the rule's English text stays in the API)."""
    if str(problem.field).endswith(".other"):
        if problem.value is None:
            return gettext(lang, "Please tell us what “other” is.")
        return gettext(lang, "Please keep it under %(n)s characters.") % {"n": 500}
    if problem.reason == "is required":
        return gettext(lang, "Please answer this question.")
    bounds = question.bounds
    if question.type == "matrix" and bounds:
        return gettext(lang, "Rate each row from %(low)s to %(high)s.") % {
            "low": bounds[0],
            "high": bounds[1],
        }
    if bounds:
        return gettext(lang, "Choose a number from %(low)s to %(high)s.") % {
            "low": bounds[0],
            "high": bounds[1],
        }
    if question.type == "single":
        return gettext(lang, "Choose one of the options.")
    if question.type == "multiple":
        return _choices_hint(question, lang)
    if question.type == "text":
        return gettext(lang, "Please keep it under %(n)s characters.") % {"n": question.max_length}
    return gettext(lang, "Please check this answer.")
