"""Small readings of LimeSurvey answer columns without the ``.lss``: which values a column
holds, whether it is "other"/comment, integer scales and NPS by wording. Pure: no database."""

from __future__ import annotations

import re

from cxloop.surveys.importers import limesurvey_answers as dec
from cxloop.surveys.importers.common import blank, number, scored_kind
from cxloop.surveys.importers.limesurvey_answers import OTHER, Cells, Column
from cxloop.surveys.importers.model import QuestionKind


def coded_kind(text: str, scale: tuple[int, int]) -> QuestionKind:
    """``scored_kind``; code headings without texts (``NPS``, ``CSAT``) read as the code says."""
    kind = scored_kind(text, *scale)
    if kind == "rating" and scale == (0, 10) and re.search(r"(?i)\bnps\b", text):
        return "nps"
    if kind == "rating" and scale == (1, 5) and re.search(r"(?i)\bc?sat\b", text):
        return "csat"
    return kind


def values_of(rows: list[Cells], column: Column) -> list[str]:
    return [v for v in (dec.cell(r, column).strip() for r in rows) if not blank(v)]


def is_other(column: Column) -> bool:
    return (column.sub or "").lower() == "other" or column.subtext.casefold() in OTHER


def is_comment(column: Column) -> bool:
    return (column.sub or "").lower().endswith("comment")


def int_scale(labels: list[str]) -> tuple[int, int] | None:
    nums = [number(label) for label in labels]
    if len(nums) < 3 or any(n is None or not n.is_integer() for n in nums):
        return None
    ints = sorted(int(n) for n in nums if n is not None)
    if ints != list(range(ints[0], ints[-1] + 1)):
        return None
    return ints[0], ints[-1]


def nps_number(text: str, rows: list[Cells], column: Column) -> bool:
    nums = [number(v) for v in values_of(rows, column)]
    return (
        bool(nums)
        and all(n is not None and n.is_integer() and 0 <= n <= 10 for n in nums)
        and scored_kind(text, 0, 10) == "nps"
    )
