"""A new cxloop survey definition made from an export (texts as exported), with the plan that
maps the tool's codes onto its option and row ids.

Every shape a tool reader makes must become a definition ``parse_definition`` accepts, so what
cxloop cannot hold is changed here and said in a note, never refused: a choice with fewer than
two known options, or a scale wider than 11 points, is kept as a text question; a matrix wider
than 11 points keeps its answers on an 11-point scale. Pure: no database.
"""

from __future__ import annotations

import math
import re
from typing import Any

from cxloop.errors import Invalid, Problem
from cxloop.surveys.definitions import FIXED_SCALES, parse_definition
from cxloop.surveys.importers.common import identifier, unique_ids
from cxloop.surveys.importers.model import Choice, ImportedQuestion, ParsedExport
from cxloop.surveys.importers.plan import NUMERIC, Plan, QuestionPlan

TEXT_LENGTH = 20_000
MAX_POINTS = 11
_CODE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_ROW = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_CHINESE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def build(parsed: ParsedExport, survey_id: str) -> Plan:
    """The definition of ``parsed`` as survey ``survey_id`` and where each answer goes.

    Raises ``Invalid`` only when the export holds no question at all."""
    if not parsed.questions:
        raise Invalid("holds no questions to import", "file", parsed.title or survey_id)
    lang = language(parsed)
    notes: list[str] = []
    targets = unique_ids(identifier(q.id, f"q{i + 1}") for i, q in enumerate(parsed.questions))
    taken = set(targets)
    numbers = _observed(parsed)
    items: list[dict[str, Any]] = []
    plans: list[QuestionPlan] = []
    for question, target in zip(parsed.questions, targets, strict=True):
        item, plan = _question(question, target, lang, taken, numbers.get(question.id), notes)
        items.append(item)
        plans.append(plan)
    data = {
        "id": survey_id,
        "title": {lang: parsed.title.strip() or survey_id},
        "questions": items,
        "languages": [lang],
        "default_language": lang,
    }
    try:
        definition = parse_definition(data)
    except Invalid as exc:  # a shape this module failed to adapt: say where, never store it
        raise Invalid(
            [
                Problem(p.field, p.value, f"{p.reason} (survey built from the export)")
                for p in exc.problems
            ]
        ) from None
    return Plan(definition, plans, notes)


def language(parsed: ParsedExport) -> str:
    """zh when the survey's texts hold Chinese characters, else en."""
    texts = [parsed.title, *(q.text for q in parsed.questions)]
    return "zh" if any(_CHINESE.search(t or "") for t in texts) else "en"


def points(low: int | float, high: int | float) -> int:
    """How many points a scale answered from ``low`` to ``high`` needs in cxloop, whose
    ratings run from 1 (a 0–10 scale is 11 points; its answers are kept as given)."""
    low_i, high_i = int(low), int(high)
    return max(high_i if low_i >= 1 else high_i - low_i + 1, 2)


def _question(
    q: ImportedQuestion,
    target: str,
    lang: str,
    taken: set[str],
    seen: tuple[float, float] | None,
    notes: list[str],
) -> tuple[dict[str, Any], QuestionPlan]:
    text = {lang: (q.text or "").strip() or target}
    base: dict[str, Any] = {"id": target, "text": text}
    plan = QuestionPlan(source=q.id, target=target, kind=q.kind)
    if q.kind in NUMERIC:
        low, high = q.scale or seen or (1, 5)
        if q.kind in FIXED_SCALES and (q.scale is None or tuple(q.scale) == FIXED_SCALES[q.kind]):
            return {**base, "type": q.kind}, plan
        wide = points(low, high)
        if wide > MAX_POINTS:
            notes.append(
                f"{q.id}: a {low:g}–{high:g} scale is wider than cxloop's ratings (2–11 points): "
                "kept as a text question with the numbers as written"
            )
            return _as_text(base, plan, q, labels=True)
        if q.kind != "rating":
            notes.append(f"{q.id}: a {q.kind} on a {low:g}–{high:g} scale is kept as a rating")
        plan.kind = "rating"
        return {**base, "type": "rating", "scale": wide}, plan
    if q.kind in ("single", "multiple"):
        if len(q.options) < 2:
            shown = ", ".join(repr(o.label) for o in q.options) or "none"
            notes.append(
                f"{q.id}: only {len(q.options)} option known ({shown}) and a choice needs two: "
                "kept as a text question holding the chosen option's label"
            )
            return _as_text(base, plan, q, labels=True)
        ids = option_ids(q)
        plan.options = dict(zip((o.code for o in q.options), ids, strict=True))
        options = []
        other_given = False
        for option, option_id in zip(q.options, ids, strict=True):
            item: dict[str, Any] = {"id": option_id, "text": {lang: _label(option)}}
            if option.other and not other_given:
                item["other"] = other_given = True
            options.append(item)
        return {**base, "type": q.kind, "options": options}, plan
    if q.kind == "matrix":
        if not q.rows:
            notes.append(f"{q.id}: a matrix without rows is kept as a text question")
            return _as_text(base, plan, q, labels=True)
        low, high = q.scale or seen or (1, 5)
        wide = points(low, high)
        if wide > MAX_POINTS:
            notes.append(
                f"{q.id}: {low:g}–{high:g} is wider than a matrix's 11 points: its answers "
                "are kept as given on an 11-point scale"
            )
            wide = MAX_POINTS
        rows = []
        for j, row in enumerate(q.rows):
            row_id = _row_id(row.code, target, j, taken)
            plan.rows[row.code] = row_id
            rows.append({"id": row_id, "text": {lang: _label(row)}})
        return {**base, "type": "matrix", "rows": rows, "matrix_scale": wide}, plan
    return _as_text(base, plan, q)


def _as_text(
    base: dict[str, Any], plan: QuestionPlan, q: ImportedQuestion, *, labels: bool = False
) -> tuple[dict[str, Any], QuestionPlan]:
    """A text question; ``labels``: a fallback whose answers are labels or numbers, marked so
    they are never read as the respondent's words."""
    plan.kind = "text"
    plan.labels = {o.code: _label(o) for o in q.options}
    marked = {"labels_as_text": True} if labels else {}
    return {**base, "type": "text", "max_length": TEXT_LENGTH, **marked}, plan


def option_ids(q: ImportedQuestion) -> list[str]:
    """The tool's codes when they are ids already (``1``, ``A2``, ``SQ001``) and distinct, else
    ``o1``…``on`` by position; labels written as codes (a text-mode export) are not ids."""
    codes = [o.code for o in q.options]
    real = q.codes != "labels" or any(o.code != o.label for o in q.options)
    if real and len(set(codes)) == len(codes) and all(_CODE.match(c) for c in codes):
        return codes
    return [f"o{j + 1}" for j in range(len(codes))]


def _row_id(code: str, target: str, j: int, taken: set[str]) -> str:
    """A row's id: its code when that is an ASCII identifier no other question or row uses,
    else ``<question>_<code>``; rows name drivers, so they are unique across the survey."""
    if _ROW.match(code) and code not in taken:
        candidate = code
    else:
        tail = code if code.isdigit() else identifier(code, f"r{j + 1}")
        candidate = f"{target[: 63 - len(tail)]}_{tail}"[:64]
    n = 1
    unique = candidate
    while unique in taken:
        n += 1
        unique = f"{candidate[:60]}_{n}"
    taken.add(unique)
    return unique


def _label(choice: Choice) -> str:
    return (choice.label or "").strip() or choice.code.strip() or "?"


def _observed(parsed: ParsedExport) -> dict[str, tuple[float, float]]:
    """Lowest and highest number answered per numeric or matrix question (the scale when the
    reader could not tell it)."""
    kinds = {q.id: q.kind for q in parsed.questions if q.kind in (*NUMERIC, "matrix")}
    found: dict[str, list[float]] = {}
    for response in parsed.responses:
        for qid, value in response.answers.items():
            if qid not in kinds:
                continue
            values = value.values() if isinstance(value, dict) else [value]
            for v in values:
                if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v):
                    found.setdefault(qid, []).append(float(v))
    return {qid: (min(vs), max(vs)) for qid, vs in found.items()}
