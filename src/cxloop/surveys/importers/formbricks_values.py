"""How Formbricks export cells become answers: types read from the values (the export states
none), and each question's cells turned into cxloop's answer format. Pure: no store."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from cxloop.surveys.importers.common import looks_like_free_text, number, scored_kind, whole
from cxloop.surveys.importers.model import QuestionKind

_KV = re.compile(r"^([^:\n]{1,40}): ?(.*)$")
_SCORED: tuple[tuple[QuestionKind, int, int], ...] = (
    ("nps", 0, 10),
    ("ces", 1, 7),
    ("csat", 1, 5),
)
_RATING_HIGHS = (3, 4, 5, 6, 7, 10)
"""Formbricks rating questions offer these ranges (and NPS 0–10)."""


@dataclass
class Reading:
    """How one question's cell(s) become an answer (``how``: number, text, single, multiple,
    rank, fields, matrix; ``*_ids`` when an Option ID column gives the codes)."""

    how: str
    qid: str
    index: int
    id_index: int | None = None
    scale: tuple[int, int] | None = None
    columns: list[tuple[int, str]] = field(default_factory=list)
    """Matrix: (column, row code)."""
    fields: list[tuple[str, str]] = field(default_factory=list)
    """Multi-field text: (key in the cell, question id)."""
    rows: dict[str, str] = field(default_factory=dict)
    """Ranking: item label → row code."""
    order: list[str] = field(default_factory=list)
    """Choice codes in option order (a multiple answer lists its codes in this order)."""


def cell(row: list[str], index: int) -> str:
    """The cell's text without surrounding blanks ("" past the row's end)."""
    return row[index].strip() if index < len(row) else ""


def split_choice(value: str) -> list[str]:
    """Formbricks joins arrays (multi-select, ranking, file URLs) with ``"; "``."""
    return [p.strip() for p in value.split("; ") if p.strip()]


def kv_lines(values: list[str]) -> list[str] | None:
    """The keys, in order of first appearance, when every value is ``key: value`` lines
    (address, contact info, old matrix objects); None otherwise."""
    keys: dict[str, None] = {}
    for value in values:
        for line in value.splitlines():
            match = _KV.match(line.strip())
            if not match:
                return None
            keys.setdefault(match.group(1).strip(), None)
    return list(keys) if keys else None


def choice_like(parts: list[list[str]]) -> bool:
    """Whether answers look like choices (few distinct short values that repeat), for exports
    without Option ID columns, where choices and texts are written alike."""
    distinct = {p for ps in parts for p in ps}
    if len(parts) < 3 or looks_like_free_text(p for ps in parts for p in ps):
        return False
    if any(len(p) > 60 for p in distinct):
        return False
    total = sum(len(ps) for ps in parts)
    return total > len(distinct) and len(distinct) <= max(2, min(15, int(len(parts) * 0.6)))


def numeric_scale(text: str, values: list[str]) -> tuple[QuestionKind, tuple[int, int]] | None:
    """NPS/CSAT/CES when the wording says so and the values (bar a few bad ones, which become
    row problems) fit its range; else a rating on Formbricks' nearest range when every value is
    a whole number 0–10; None when the answers are not scores."""
    numbers = [number(v) for v in values]
    good = [n for n in numbers if n is not None]
    if not values or not good:
        return None
    bad = len(values) - len(good)
    tolerance = max(2, len(values) // 5)
    for kind, low, high in _SCORED:
        if scored_kind(text, low, high) == kind:
            outside = bad + sum(1 for n in good if not low <= n <= high)
            if outside <= tolerance and outside * 2 < len(values):
                return kind, (low, high)
    if bad or any(not n.is_integer() for n in good) or min(good) < 0 or max(good) > 10:
        return None
    low = 0 if min(good) == 0 else 1
    high = 10 if low == 0 else next(h for h in _RATING_HIGHS if h >= max(good))
    return scored_kind(text, low, high), (low, high)


def answer(reading: Reading, row: list[str], answers: dict[str, Any]) -> list[tuple[str, str, str]]:
    """Put the row's answer to one question into ``answers``; the (field, value, reason) of
    every value the question cannot hold."""
    qid = reading.qid
    value = cell(row, reading.index)
    if reading.how == "matrix":
        return _matrix(reading, row, answers)
    if not value or value == "skipped":
        return []
    if reading.how == "number":
        score = number(value)
        low, high = reading.scale or (0, 10)
        if score is None:
            return [(qid, value, "is not a number")]
        if not low <= score <= high:
            return [(qid, value, f"is outside {low}–{high}")]
        answers[qid] = whole(score)
    elif reading.how in ("text", "single"):
        answers[qid] = value
    elif reading.how == "multiple":
        parts = split_choice(value)
        answers[qid] = sorted(parts, key=lambda p: reading.order.index(p))
    elif reading.how == "rank":
        answers[qid] = {reading.rows[p]: k + 1 for k, p in enumerate(split_choice(value))}
    elif reading.how == "fields":
        for line in value.splitlines():
            match = _KV.match(line.strip())
            sub = dict(reading.fields).get(match.group(1).strip()) if match else None
            if match and sub and match.group(2).strip():
                answers[sub] = match.group(2).strip()
    else:
        return _with_ids(reading, value, cell(row, reading.id_index or 0), answers)
    return []


def _with_ids(
    reading: Reading, value: str, id_cell: str, answers: dict[str, Any]
) -> list[tuple[str, str, str]]:
    qid = reading.qid
    ids = [i.strip() for i in id_cell.split(",") if i.strip()]
    labels = split_choice(value)
    if len(ids) != len(labels):
        reason = f"holds {len(labels)} answers but {len(ids)} option ids ({id_cell!r})"
        return [(qid, value, reason)]
    if reading.how == "rank_ids":
        answers[qid] = {reading.rows[label]: k + 1 for k, label in enumerate(labels)}
        return []
    unknown = [i for i in ids if i not in reading.order]
    if unknown:
        return [(qid, id_cell, f"option id {unknown[0]!r} is not an option of {qid}")]
    other = [label for code, label in zip(ids, labels, strict=True) if code == "other"]
    if reading.how == "single_ids":
        answers[qid] = ids[0]
    else:
        answers[qid] = sorted(dict.fromkeys(ids), key=reading.order.index)
    if other:
        answers[f"{qid}.other"] = "; ".join(other)
    return []


def _matrix(
    reading: Reading, row: list[str], answers: dict[str, Any]
) -> list[tuple[str, str, str]]:
    low, high = reading.scale or (1, 5)
    found: dict[str, int | float] = {}
    problems = []
    for index, code in reading.columns:
        value = cell(row, index)
        if not value:
            continue
        score = number(value)
        if score is None or not low <= score <= high:
            problems.append((f"{reading.qid}[{code}]", value, f"is not a number {low}–{high}"))
        else:
            found[code] = whole(score)
    if found and not problems:
        answers[reading.qid] = found
    return problems
