"""问卷星 cells read as cxloop answers, one reader per question shape and value mode. Pure.

按选项文本 writes option texts (``A┋B`` for several, ``其他〖太贵了〗`` for a written-in answer,
``a→b→c`` for a ranking, ``9分`` or ``9`` for a score, ``(跳过)``/``(空)`` for no answer).
按选项序号 writes 1-based option positions (a 0–10 scale as 1–11), a multiple choice or ranking as
one column per option (``1``/``0``; a rank or ``-2`` = not ranked) and ``-3`` for skipped.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cxloop.surveys.importers.common import number, whole
from cxloop.surveys.importers.model import Choice, ImportedQuestion

Cell = Callable[[int], str]
"""A row's cell by column index ("" past the row's end)."""
Problem = tuple[str, str, str]
"""(field, value, reason) of a value the question does not allow."""

NOT_ANSWERED = ("", "(空)", "(跳过)", "（空）", "（跳过）", "-3", "N/A")
"""Cells that mean "not asked" or "not answered": the answer is left out."""
_FILLED = re.compile(r"^(.*?)〖(.*?)〗(.*)$", re.S)
_INTEGER = re.compile(r"^\s*[-+]?\d+(?:\.0+)?\s*$")
OTHER_WORDS = ("其他", "其它", "other")


def skipped(value: str) -> bool:
    return value.strip() in NOT_ANSWERED


def split_filled(value: str) -> tuple[str, str]:
    """``其他〖太贵了〗`` → (``其他``, ``太贵了``): an option and the text written beside it."""
    match = _FILLED.match(value)
    if not match:
        return value.strip(), ""
    return (match.group(1) + match.group(3)).strip(), match.group(2).strip()


def split_outside(value: str, separator: str) -> list[str]:
    """``A〖x┋y〗┋B`` → [``A〖x┋y〗``, ``B``]: a separator typed inside a written-in text does not
    split options."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(value):
        if char == "〖":
            depth += 1
        elif char == "〗":
            depth = max(depth - 1, 0)
        elif char == separator and depth == 0:
            parts.append(value[start:i])
            start = i + 1
    parts.append(value[start:])
    return [p.strip() for p in parts if p.strip()]


def integer(value: str) -> int | None:
    """``7``, ``7.0`` → 7; None for anything else (a digit run past a float's range too)."""
    if not _INTEGER.match(value):
        return None
    parsed = float(value)
    return int(parsed) if math.isfinite(parsed) else None


def other_code(choices: list[Choice], filled: dict[str, int]) -> str | None:
    """Which option is "other, please specify" (cxloop allows one): the one named 其他/other,
    else the one most often written beside."""
    for choice in choices:
        if choice.label.casefold().startswith(OTHER_WORDS):
            return choice.code
    if filled:
        return max(filled.items(), key=lambda item: item[1])[0]
    return None


def mark_other(choices: list[Choice], filled: dict[str, int]) -> str | None:
    code = other_code(choices, filled)
    for choice in choices:
        choice.other = choice.code == code
    return code


@dataclass
class Reader:
    """Reads one question's cells of a row into ``answers`` (and side texts into ``extra``)."""

    question: ImportedQuestion
    columns: list[int]
    read: Callable[[Cell, dict[str, Any], dict[str, str]], list[Problem]] = field(repr=False)


def text_reader(question: ImportedQuestion, column: int) -> Reader:
    """Typed text as written; line ends made ``\n`` (a CSV keeps ``\r\n``, a workbook may not)."""

    def read(cell: Cell, answers: dict[str, Any], extra: dict[str, str]) -> list[Problem]:
        value = cell(column).strip().replace("\r\n", "\n").replace("\r", "\n")
        if not skipped(value):
            answers[question.id] = value
        return []

    return Reader(question, [column], read)


def score_reader(question: ImportedQuestion, column: int, *, positions: bool) -> Reader:
    """A scale: ``9``/``9分`` as written, or its position (1-based: a 0–10 scale's 9 is ``10``)."""
    low, high = question.scale or (0, 10)

    def read(cell: Cell, answers: dict[str, Any], extra: dict[str, str]) -> list[Problem]:
        raw = cell(column).strip()
        if skipped(raw):
            return []
        if positions:
            code = integer(raw)
            if code is None or not 1 <= code <= high - low + 1:
                reason = (
                    f"is not a position 1–{high - low + 1} of the {low}–{high} scale "
                    f"(按选项序号 writes score {low} as 1)"
                )
                return [(question.id, raw, reason)]
            answers[question.id] = code - 1 + low
            return []
        value = number(raw)
        if value is None or not low <= value <= high:
            return [(question.id, raw, f"is not a score {low}–{high}")]
        answers[question.id] = whole(value)
        return []

    return Reader(question, [column], read)


def single_reader(question: ImportedQuestion, column: int, *, positions: bool) -> Reader:
    """One option: its text (按选项文本) or position (按选项序号), ``〖…〗`` = written-in text."""
    known = {c.code: c for c in question.options}

    def read(cell: Cell, answers: dict[str, Any], extra: dict[str, str]) -> list[Problem]:
        raw = cell(column).strip()
        if skipped(raw):
            return []
        label, written = split_filled(raw)
        code = label
        if positions:
            position = integer(label)
            if position is None or position < 1:
                return [(question.id, raw, "is not an option position (1, 2, …)")]
            code = str(position)
        choice = known.get(code)
        if choice is None:
            return [(question.id, raw, "is not one of the question's options")]
        answers[question.id] = code
        _written(question.id, choice, written, answers, extra)
        return []

    return Reader(question, [column], read)


def _written(
    qid: str, choice: Choice, text: str, answers: dict[str, Any], extra: dict[str, str]
) -> None:
    if not text:
        return
    if choice.other:
        answers[f"{qid}.other"] = text
    else:
        extra[f"{qid}.{choice.label}"] = text


def multiple_reader(question: ImportedQuestion, column: int) -> Reader:
    """Several option texts joined by ``┋`` (按选项文本)."""
    order = {c.code: i for i, c in enumerate(question.options)}
    known = {c.code: c for c in question.options}

    def read(cell: Cell, answers: dict[str, Any], extra: dict[str, str]) -> list[Problem]:
        raw = cell(column).strip()
        if skipped(raw):
            return []
        chosen: list[str] = []
        for part in split_outside(raw, "┋"):
            label, written = split_filled(part)
            if label not in known:
                return [(question.id, part, "is not one of the question's options")]
            if label not in chosen:
                chosen.append(label)
            _written(question.id, known[label], written, answers, extra)
        answers[question.id] = sorted(chosen, key=order.__getitem__)
        return []

    return Reader(question, [column], read)


def ranking_reader(question: ImportedQuestion, column: int) -> Reader:
    """``a→b→c`` (按选项文本): a ranks 1, b 2, c 3; items not ranked are left out."""
    by_label = {r.label: r.code for r in question.rows}

    def read(cell: Cell, answers: dict[str, Any], extra: dict[str, str]) -> list[Problem]:
        raw = cell(column).strip()
        if skipped(raw):
            return []
        ranks: dict[str, int] = {}
        for rank, part in enumerate(split_outside(raw, "→"), start=1):
            label, _ = split_filled(part)
            code = by_label.get(label)
            if code is None or code in ranks:
                return [(question.id, part, "is not one of the items to rank, or ranked twice")]
            ranks[code] = rank
        if ranks:
            answers[question.id] = ranks
        return []

    return Reader(question, [column], read)


def matrix_reader(question: ImportedQuestion, columns: list[int], *, positions: bool) -> Reader:
    """One column per row; a score (``4分``/``4``) or its position (1-based)."""
    low, high = question.scale or (1, 5)
    rows = list(zip(question.rows, columns, strict=True))

    def read(cell: Cell, answers: dict[str, Any], extra: dict[str, str]) -> list[Problem]:
        values: dict[str, Any] = {}
        for row, column in rows:
            raw = cell(column).strip()
            if skipped(raw):
                continue
            value = integer(raw) if positions else number(raw)
            if value is None or not low <= value <= high:
                shown = f"position 1–{high}" if positions else f"score {low}–{high}"
                return [(f"{question.id}[{row.label}]", raw, f"is not a {shown}")]
            values[row.code] = whole(value)
        if values:
            answers[question.id] = values
        return []

    return Reader(question, columns, read)


def expanded_reader(question: ImportedQuestion, columns: list[int]) -> Reader:
    """按选项序号's ``第N题(选项)`` columns: ``1``/``0`` for a multiple choice (``1〖text〗`` or
    the text itself for a written-in option); a rank, or ``-2`` not ranked, for a ranking."""
    ranking = question.kind == "matrix"
    choices = question.rows if ranking else question.options
    pairs = list(zip(choices, columns, strict=True))

    def read(cell: Cell, answers: dict[str, Any], extra: dict[str, str]) -> list[Problem]:
        chosen: list[str] = []
        ranks: dict[str, int] = {}
        for choice, column in pairs:
            raw = cell(column).strip()
            if skipped(raw) or raw == "-2":
                continue
            value, written = split_filled(raw)
            flag = integer(value)
            if ranking:
                if flag is None or not 1 <= flag <= len(pairs):
                    return [(f"{question.id}[{choice.label}]", raw, "is not a rank (or -2)")]
                ranks[choice.code] = flag
                continue
            if flag is None and value:
                flag, written = 1, raw  # the written-in text stands in the option's column
            if flag not in (0, 1):
                return [(f"{question.id}[{choice.label}]", raw, "is not 1 (chosen) or 0")]
            if flag == 1:
                chosen.append(choice.code)
                _written(question.id, choice, written, answers, extra)
        if ranking and ranks:
            answers[question.id] = ranks
        elif chosen:
            answers[question.id] = chosen
        return []

    return Reader(question, columns, read)
