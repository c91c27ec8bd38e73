"""Which cxloop question each 问卷星 column group becomes, from its header hint (``(多选题)``,
``(矩阵量表题)``…) and, where the export wrote none, from the values themselves. Pure.

Ids come from the question's number (``q7``; ``q7_2`` for a blank, row or item by position), so
both value modes of one questionnaire give the same ids. Option texts in 按选项文本 are known only
in the order respondents first chose them, which is not the questionnaire's order.
"""

from __future__ import annotations

from typing import Literal

from cxloop.surveys.importers.common import looks_like_free_text, number, scored_kind
from cxloop.surveys.importers.model import Choice, ImportedQuestion, QuestionKind
from cxloop.surveys.importers.wjx_answers import (
    Reader,
    expanded_reader,
    integer,
    mark_other,
    matrix_reader,
    multiple_reader,
    ranking_reader,
    score_reader,
    single_reader,
    skipped,
    split_filled,
    split_outside,
    text_reader,
)
from cxloop.surveys.importers.wjx_columns import Group

MAX_POSITION = 60
"""按选项序号 integers above this are typed numbers (an age, an amount), not option positions."""
CHOICE_LIMIT = 20
"""At most this many distinct answers (each given at least twice on average) make a column a
single choice when no hint says so; more is free text."""


def plan_group(
    group: Group, rows: list[list[str]], *, positions: bool
) -> tuple[list[Reader], list[str]]:
    """The readers (each with its ImportedQuestion) of one numbered question's columns."""
    values = [[_cell(row, c) for row in rows] for c in group.columns]
    if group.shape == "expanded":
        return [_expanded(group, values)], []
    if group.shape == "fill":
        return [
            text_reader(_question(f"{group.qid}_{k}", label, "text", group, k), column)
            for k, (label, column) in enumerate(zip(group.labels, group.columns, strict=True), 1)
        ], []
    if group.shape == "items":
        return _items(group, values, positions)
    return _plain(group, values[0], positions)


def _cell(row: list[str], column: int) -> str:
    return row[column].strip() if column < len(row) else ""


def _question(
    qid: str, text: str, kind: QuestionKind, group: Group, k: int | None = None
) -> ImportedQuestion:
    where = f"column {group.columns[(k or 1) - 1] + 1} ({group.number}、)"
    return ImportedQuestion(id=qid, text=text, kind=kind, source=where)


def _answered(values: list[str]) -> list[str]:
    return [v for v in values if not skipped(v)]


def _plain(group: Group, values: list[str], positions: bool) -> tuple[list[Reader], list[str]]:
    given = _answered(values)
    hint = group.hint
    column = group.columns[0]
    if hint in ("text", None) and not given:
        return [text_reader(_question(group.qid, group.text, "text", group), column)], []
    if positions:
        return _plain_positions(group, given, column)
    if hint == "ranking" or (hint is None and any("→" in v for v in given)):
        return [_ranking_text(group, given, column)], []
    if hint == "multiple" or (hint is None and any("┋" in v for v in given)):
        return [_choices_text(group, given, column, "multiple")], []
    numbers = [number(v) for v in given]
    if hint in ("scale", None) and given and all(n is not None for n in numbers):
        return [_scale(group, [n for n in numbers if n is not None], column, False)], []
    if hint in ("single", "scale") or (hint is None and _looks_chosen(given)):
        return [_choices_text(group, given, column, "single")], []
    return [text_reader(_question(group.qid, group.text, "text", group), column)], []


def _plain_positions(group: Group, given: list[str], column: int) -> tuple[list[Reader], list[str]]:
    """An integer column of 按选项序号: a 0–10 scale (NPS wording, or code 11 seen), a scale by
    hint or CSAT/CES wording, else a single choice's positions; typed numbers beyond any
    option list (ages, amounts) and anything else are text."""
    codes = [integer(split_filled(v)[0]) for v in given]
    numbers = [c for c in codes if c is not None]
    top = max(numbers, default=1)
    text: tuple[list[Reader], list[str]] = (
        [text_reader(_question(group.qid, group.text, "text", group), column)],
        [],
    )
    if group.hint == "text" or len(numbers) < len(codes):
        return text
    choice = group.hint in ("single", "multiple")
    if not choice and (_nps(group.text, numbers, 1, 11) or top == 11):
        reader = _scale_positions(group, column, (0, 10))
        return [reader], reader.question.notes
    if top > MAX_POSITION:
        return text
    worded = scored_kind(group.text, 1, _top(top)) != "rating" and not _asks_which(group.text)
    if not choice and (group.hint == "scale" or worded):
        return [_scale_positions(group, column, (1, _top(top)))], []
    question = _question(group.qid, group.text, "single", group)
    question.codes = "positions"
    question.decoded = False
    question.options = [Choice(str(c), str(c)) for c in sorted(set(numbers))]
    mark_other(question.options, _filled_positions(given))
    note = (
        f"{group.qid}: 按选项序号 writes option positions, not texts: decoded only onto a survey "
        "whose options are in the questionnaire's order (--survey ID of a survey created from "
        "a cxloop YAML), else kept raw"
    )
    question.notes.append(note)
    return [single_reader(question, column, positions=True)], [note]


def _asks_which(text: str) -> bool:
    """``您对哪方面最满意？`` names a choice, not a satisfaction score."""
    folded = text.casefold()
    return any(word in folded for word in ("哪", "最", "which", "what", "most"))


def _filled_positions(given: list[str]) -> dict[str, int]:
    """How often a text was written beside each position (``4〖太贵了〗``)."""
    out: dict[str, int] = {}
    for value in given:
        code, text = split_filled(value)
        position = integer(code)
        if text and position is not None:
            out[str(position)] = out.get(str(position), 0) + 1
    return out


def _nps(text: str, values: list[int] | list[float], low: int, high: int) -> bool:
    """NPS wording and answers on its scale (a stray 12 among them is the row's problem, not a
    reason to read the question as something else)."""
    inside = sum(1 for v in values if low <= v <= high)
    return scored_kind(text, 0, 10) == "nps" and inside >= 0.75 * len(values) > 0


def _top(high: int) -> int:
    """The scale's top from the highest answer seen: 5, 7, 10 or the number itself."""
    for top in (5, 7, 10):
        if high <= top:
            return top
    return high


def _scale(group: Group, numbers: list[float], column: int, positions: bool) -> Reader:
    low = 0 if min(numbers) < 1 else 1
    high = _top(int(max(numbers)))
    if _nps(group.text, numbers, 0, 10):
        low, high = 0, 10
    kind = scored_kind(group.text, low, high)
    question = _question(group.qid, group.text, kind, group)
    question.scale = (low, high)
    return score_reader(question, column, positions=positions)


def _scale_positions(group: Group, column: int, scale: tuple[int, int]) -> Reader:
    question = _question(group.qid, group.text, scored_kind(group.text, *scale), group)
    question.scale = scale
    question.codes = "positions"
    if scale[0] == 0:
        question.notes.append(
            f"{group.qid}: a 0–10 scale written 1–11 by 按选项序号: score = code − 1"
        )
    return score_reader(question, column, positions=True)


def _looks_chosen(given: list[str]) -> bool:
    """A column of a few answers given again and again (or with ``〖…〗`` written-in text),
    unless its answers read as typed comments (``common.looks_like_free_text``)."""
    picked = [split_filled(v)[0] for v in given]
    labels = set(picked)
    if any("\n" in label or len(label) > 40 for label in labels):
        return False  # options are short single lines; answers like these were typed
    if looks_like_free_text(picked):
        return False
    if any("〖" in v for v in given):
        return True
    return len(given) >= 4 and len(labels) <= CHOICE_LIMIT and len(labels) * 2 <= len(given)


def _choices_text(
    group: Group, given: list[str], column: int, kind: Literal["single", "multiple"]
) -> Reader:
    """Options in the order respondents first chose them (the export has no other)."""
    labels: list[str] = []
    filled: dict[str, int] = {}
    for value in given:
        for part in split_outside(value, "┋") if kind == "multiple" else [value]:
            label, text = split_filled(part)
            if label not in labels:
                labels.append(label)
            if text:
                filled[label] = filled.get(label, 0) + 1
    question = _question(group.qid, group.text, kind, group)
    question.options = [Choice(label, label) for label in labels]
    mark_other(question.options, filled)
    if kind == "multiple":
        return multiple_reader(question, column)
    return single_reader(question, column, positions=False)


def _ranking_text(group: Group, given: list[str], column: int) -> Reader:
    labels: list[str] = []
    for value in given:
        for part in split_outside(value, "→"):
            label = split_filled(part)[0]
            if label not in labels:
                labels.append(label)
    question = _question(group.qid, group.text, "matrix", group)
    question.rows = [Choice(label, label) for label in labels]
    question.scale = (1, max(len(labels), 2))
    question.notes.append(
        f"{group.qid}: a ranking, stored as a matrix of rank 1–{len(labels)} per item; items in "
        "the order first ranked (按选项文本 names only the items ranked)"
    )
    return ranking_reader(question, column)


def _expanded(group: Group, values: list[list[str]]) -> Reader:
    """按选项序号's ``第N题(选项)`` columns: 1/0 flags (multiple) or ranks with ``-2`` (ranking)."""
    ranked = [
        {v for v in column if (integer(v) or 0) > 1 or v == "-2"} for column in values
    ]  # ranks beyond 1 (or -2, not ranked) in several columns: a stray 2 is one row's problem
    ranking = group.hint == "ranking" or sum(1 for found in ranked if found) >= 2
    choices = [Choice(str(k), label) for k, label in enumerate(group.labels, 1)]
    if ranking:
        question = _question(group.qid, group.text, "matrix", group)
        question.rows = [Choice(f"{group.qid}_{c.code}", c.label) for c in choices]
        question.scale = (1, max(len(choices), 2))
        question.codes = "positions"
        question.notes.append(f"{group.qid}: a ranking, stored as a matrix of rank per item")
        return expanded_reader(question, group.columns)
    question = _question(group.qid, group.text, "multiple", group)
    question.options = choices
    question.codes = "positions"
    filled = {
        c.code: sum(1 for v in column if "〖" in v or (v and integer(v) is None))
        for c, column in zip(choices, values, strict=True)
    }
    mark_other(question.options, {k: n for k, n in filled.items() if n})
    return expanded_reader(question, group.columns)


def _items(
    group: Group, values: list[list[str]], positions: bool
) -> tuple[list[Reader], list[str]]:
    """A matrix (every cell a score or position) or grouped items (one question per row)."""
    given = [v for column in values for v in _answered(column)]
    rows = [Choice(f"{group.qid}_{k}", label) for k, label in enumerate(group.labels, 1)]
    scores = [integer(v) if positions else number(v) for v in given]
    if given and all(s is not None for s in scores) and group.hint in ("matrix", "scale", None):
        found = [float(s) for s in scores if s is not None]
        question = _question(group.qid, group.text, "matrix", group)
        question.rows = rows
        low = 1 if positions or min(found) >= 1 else 0
        question.scale = (low, _top(int(max(found))))
        if positions:
            question.codes = "positions"
        return [matrix_reader(question, group.columns, positions=positions)], []
    readers: list[Reader] = []
    notes: list[str] = []
    for k, (row, column, cells) in enumerate(zip(rows, group.columns, values, strict=True), 1):
        text = f"{group.text}—{row.label}"
        sub = Group(group.number, text, group.hint, "plain", [column], [row.label], name=row.code)
        sub_given = _answered(cells)
        if (
            group.hint == "matrix"
            and not positions
            and sub_given
            and not looks_like_free_text(sub_given)
        ):
            reader = _choices_text(sub, sub_given, column, "single")
            if not notes:
                notes.append(
                    f"{group.qid}: a matrix answered with labels, whose order 按选项文本 does not "
                    f"give: one single-choice question per row ({row.code}…)"
                )
        else:
            made, made_notes = _plain(sub, cells, positions)
            reader, notes = made[0], notes + made_notes
        reader.question.source = f"column {column + 1} ({group.number}、 item {k})"
        readers.append(reader)
    return readers, notes
