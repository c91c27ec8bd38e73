"""An export placed onto a survey that exists already (``--survey ID``, or a re-import): each
imported question found in the definition, and each of its options and rows.

Questions are found by id, else by their text; options by label, else by code equal to the
option id, else by position where the export wrote positions (问卷星 按选项序号). Whatever cannot
be placed is refused with every miss named, before anything is stored. Pure: no database.
"""

from __future__ import annotations

import re
import unicodedata

from cxloop.errors import Invalid, Problem
from cxloop.surveys.definitions import Option, Question, SurveyDefinition
from cxloop.surveys.importers.model import Choice, ImportedQuestion, ParsedExport
from cxloop.surveys.importers.plan import NUMERIC, Plan, QuestionPlan

_SPACE = re.compile(r"\s+")
_FAMILY = {
    **dict.fromkeys(NUMERIC, "number"),
    "single": "choice",
    "multiple": "multiple",
    "matrix": "matrix",
    "text": "text",
}


def normal(text: str) -> str:
    """Text compared as a person reads it: NFKC (full-width = half-width), case folded, spaces
    collapsed, trailing punctuation of a question (``?``, ``？``, ``:``) ignored."""
    folded = _SPACE.sub(" ", unicodedata.normalize("NFKC", text or "").casefold()).strip()
    return folded.rstrip("?:：。. ").strip()


def match(parsed: ParsedExport, definition: SurveyDefinition, version: int) -> Plan:
    """Where each of ``parsed``'s questions goes in ``definition``; ``Invalid`` naming every
    question, option or row that has no place (nothing is stored then)."""
    problems: list[Problem] = []
    plans: list[QuestionPlan] = []
    claimed: set[str] = set()
    where = f"survey {definition.id!r} version {version}"
    for q in parsed.questions:
        target = _question(q, definition, claimed)
        if target is None:
            known = ", ".join(x.id for x in definition.questions[:30])
            problems.append(
                Problem(q.id, q.text[:120], f"has no question like it in {where} ({known})")
            )
            continue
        claimed.add(target.id)
        plan, misses = _plan(q, target, where)
        plans.append(plan)
        problems.extend(misses)
    if problems:
        raise Invalid(problems)
    return Plan(definition, plans)


def _question(
    q: ImportedQuestion, definition: SurveyDefinition, claimed: set[str]
) -> Question | None:
    free = [x for x in definition.questions if x.id not in claimed]
    by_id = next((x for x in free if x.id == q.id and _fits(q, x)), None)
    text = normal(q.text)
    same = [x for x in free if _fits(q, x) and text in {normal(t) for t in x.text.root.values()}]
    if by_id is not None and (not same or any(x is by_id for x in same)):
        return by_id
    # positional ids (Formbricks ``q3``, SurveyMonkey ``q3``) shift when a survey is reordered:
    # one other question with exactly this text wins over the id
    if len(same) == 1:
        return same[0]
    return by_id


def _fits(q: ImportedQuestion, target: Question) -> bool:
    """Whether answers of ``q`` can be stored in ``target``: numbers in any scored question,
    a single choice in a single (or a text), many in a multiple, rows in a matrix; anything in
    a text question (built from a choice that had too few options)."""
    if target.type == "text":
        return q.kind != "matrix"
    return _FAMILY[q.kind] == _FAMILY[target.type]


def _plan(q: ImportedQuestion, target: Question, where: str) -> tuple[QuestionPlan, list[Problem]]:
    plan = QuestionPlan(source=q.id, target=target.id, kind=target.type)
    problems: list[Problem] = []
    if target.type == "text":
        plan.labels = {o.code: o.label or o.code for o in q.options}
        return plan, problems
    if target.type in ("single", "multiple"):
        for choice in q.options:
            option = _option(choice, q, target.options)
            if option is None:
                labels = ", ".join(o.text.get("zh") for o in target.options[:20])
                problems.append(
                    Problem(
                        f"{q.id} option",
                        choice.label,
                        f"is not an option of {target.id} in {where} ({labels})",
                    )
                )
            else:
                plan.options[choice.code] = option.id
    if target.type == "matrix":
        for position, row in enumerate(q.rows):
            found = _row(row, position, q, target)
            if found is None:
                labels = ", ".join(r.text.get("zh") for r in target.rows[:20])
                problems.append(
                    Problem(
                        f"{q.id} row",
                        row.label,
                        f"is not a row of {target.id} in {where} ({labels})",
                    )
                )
            else:
                plan.rows[row.code] = found.id
    return plan, problems


def _option(choice: Choice, q: ImportedQuestion, options: list[Option]) -> Option | None:
    label = normal(choice.label)
    if q.decoded:
        by_label = [o for o in options if label in {normal(t) for t in o.text.root.values()}]
        if len(by_label) == 1:
            return by_label[0]
    by_code = next((o for o in options if o.id == choice.code), None)
    if by_code is not None:
        return by_code
    if q.codes == "positions" and choice.code.isdigit():
        index = int(choice.code) - 1
        if 0 <= index < len(options):
            return options[index]
    if choice.other:
        return next((o for o in options if o.other), None)
    return None


def _row(row: Choice, position: int, q: ImportedQuestion, target: Question) -> Option | None:
    label = normal(row.label)
    by_label = [r for r in target.rows if label in {normal(t) for t in r.text.root.values()}]
    if len(by_label) == 1:
        return by_label[0]
    tail = row.code if row.code.isdigit() else None
    for candidate in target.rows:
        if candidate.id == row.code or (tail and candidate.id == f"{target.id}_{tail}"):
            return candidate
    if q.codes == "positions" and len(q.rows) == len(target.rows):
        return target.rows[position]
    return None
