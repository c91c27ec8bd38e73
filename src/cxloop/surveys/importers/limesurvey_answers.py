"""One LimeSurvey answer column (its heading read) and the decoders that turn a row's cells
into cxloop answers: codes or texts, ``Y``/empty or ``Yes``/``No``, ``-oth-`` and the
"other" text column, array rows and ranks. Pure: no database.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cxloop.surveys.importers.common import blank, number
from cxloop.surveys.importers.lss import flat
from cxloop.surveys.importers.model import Choice

YES = {"yes", "ja", "是", "oui", "sí", "si", "sim", "tak", "да"}
NO = {"no", "nee", "nein", "否", "non", "não", "nie", "нет"}
NOT_SHOWN = {"n/a", "n.v.t.", "k.a.", "不适用"}
OTHER = {"other", "anders", "overig", "sonstiges", "andere", "其他", "其它", "autre", "otro"}
_HEAD = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)((?:\[[^\]]*\])*)$")
SGQA = re.compile(r"^(\d+)X(\d+)X(\d+)(.*)$")
CODETEXT = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*(?:\[[^\]]*\])*)(\s*[-.:|]\s*|\s+)(.+)$", re.S)
_SUB = re.compile(r"^(.*?)\s*\[([^\[\]]*)\]$", re.S)
CODE_LIKE = re.compile(r"^(?:A\d+|AO\d+|SQ\d+|-oth-|[A-Z]\d{1,3})$")
Problem = tuple[str, str | None, str]
Cells = list[str]


@dataclass
class Column:
    """One answer column: its position, the question key (code, SGQA qid or heading text) and
    the part inside ``[…]`` (a subquestion code, ``other``, ``comment``, a rank, or its label)."""

    index: int
    header: str
    code: str | None
    sub: str | None
    text: str = ""
    subtext: str = ""
    qid: str | None = None

    @classmethod
    def parse(cls, index: int, header: str, style: str) -> Column:
        head = header.strip()
        if style == "sgqa":
            match = SGQA.match(head)
            if match:
                return cls(index, header, None, match.group(4) or None, qid=match.group(3))
        text = ""
        if style == "codetext":
            match = CODETEXT.match(head)
            if match:
                head, text = match.group(1), flat(match.group(3))
        if style in ("code", "codetext"):
            match = _HEAD.match(head)
            if match:
                subs = re.findall(r"\[([^\]]*)\]", match.group(2))
                question, subtext = _split(text)
                return cls(index, header, match.group(1), "_".join(subs) or None, question, subtext)
        question, subtext = _split(flat(header))
        return cls(index, header, None, None, question, subtext)


def _split(text: str) -> tuple[str, str]:
    match = _SUB.match(text)
    return (match.group(1).strip(), match.group(2).strip()) if match else (text, "")


Decode = Callable[[Cells], tuple[dict[str, Any], list[Problem], dict[str, str]]]


def cell(cells: Cells, column: Column) -> str:
    value = cells[column.index] if column.index < len(cells) else ""
    return value[1:] if value.startswith("'=") else value


def scored(
    qid: str,
    column: Column,
    scale: tuple[int, int],
    to_label: dict[str, str] | None,
    labels: set[str] | None,
) -> Decode:
    def decode(cells: Cells) -> tuple[dict[str, Any], list[Problem], dict[str, str]]:
        raw = cell(cells, column).strip()
        if blank(raw):
            return {}, [], {}
        value: str | None = raw
        if to_label is not None:
            value = to_label.get(raw) or (raw if labels and raw in labels else None)
        n = number(value) if value is not None else None
        if n is None or not scale[0] <= n <= scale[1]:
            why = (
                f"is not an answer code of {qid}"
                if to_label is not None
                else f"is not a number from {scale[0]} to {scale[1]}"
            )
            return {}, [(qid, raw, why)], {}
        return {qid: int(n) if n.is_integer() else n}, [], {}

    return decode


def single(
    qid: str, column: Column, choices: list[Choice], long: bool, other: Column | None
) -> Decode:
    # the detected form first; the other form too where it names no other option (a file
    # mixing codes and texts still decodes, a code that is another option's label never does)
    primary = {(c.label if long and not c.other else c.code): c.code for c in choices}
    secondary = {(c.code if long else c.label): c.code for c in choices if not c.other}
    by_value = {**secondary, **primary}
    codes = ", ".join(c.code for c in choices[:6])

    def decode(cells: Cells) -> tuple[dict[str, Any], list[Problem], dict[str, str]]:
        raw = cell(cells, column).strip()
        other_text = cell(cells, other).strip() if other is not None else ""
        out: dict[str, Any] = {}
        if not blank(raw):
            code = by_value.get(raw)
            if code is None and (raw == "-oth-" or raw.casefold() in OTHER):
                code = next((c.code for c in choices if c.other), None)
            if code is None:
                wanted = "one of its answers" if long else f"one of its codes ({codes}…)"
                return {}, [(qid, raw, f"is not {wanted}")], {}
            out[qid] = code
        if other_text:
            out.setdefault(qid, next((c.code for c in choices if c.other), "-oth-"))
            out[f"{qid}.other"] = other_text
        return out, [], {}

    return decode


def yes_no(qid: str, column: Column, choices: list[Choice], long: bool) -> Decode:
    def decode(cells: Cells) -> tuple[dict[str, Any], list[Problem], dict[str, str]]:
        raw = cell(cells, column).strip()
        if blank(raw) or raw.casefold() in NOT_SHOWN:
            return {}, [], {}
        low = raw.casefold()
        first, second = choices[0].code, choices[1].code
        if raw in (first, second):
            return {qid: raw}, [], {}
        if low in YES or low in ("female", "vrouw", "weiblich", "女"):
            return {qid: first}, [], {}
        if low in NO or low in ("male", "man", "männlich", "男"):
            return {qid: second}, [], {}
        return {}, [(qid, raw, f"is not {first}/{second} or their texts")], {}

    return decode


def multiple(qid: str, pairs: list[tuple[Column, Choice]]) -> Decode:
    """Each option's column: ``Y`` (or ``1``, ``Yes``…) ticks it; the "other" column's text
    ticks "other" and is kept as ``<qid>.other``; nothing ticked = not answered."""

    def decode(cells: Cells) -> tuple[dict[str, Any], list[Problem], dict[str, str]]:
        picked: list[str] = []
        out: dict[str, Any] = {}
        problems: list[Problem] = []
        for column, choice in pairs:
            raw = cell(cells, column).strip()
            if blank(raw) or raw.casefold() in NO or raw in ("N", "0"):
                continue
            if choice.other:
                picked.append(choice.code)
                out[f"{qid}.other"] = raw
            elif raw in ("Y", "1") or raw.casefold() in YES:
                picked.append(choice.code)
            else:
                problems.append((qid, raw, f"{column.header}: is not Y/empty or Yes/No"))
        if picked:
            out[qid] = picked
        return out, problems, {}

    return decode


def matrix(
    qid: str, columns: list[Column], row_of: dict[str, str], values: dict[str, int]
) -> Decode:
    def decode(cells: Cells) -> tuple[dict[str, Any], list[Problem], dict[str, str]]:
        got: dict[str, int] = {}
        problems: list[Problem] = []
        for column in columns:
            raw = cell(cells, column).strip()
            row = row_of.get((column.sub if column.code else column.subtext or column.sub) or "")
            if blank(raw) or row is None:
                continue
            if raw not in values:
                problems.append((qid, raw, f"{column.header}: is not one of its answers"))
                continue
            got[row] = values[raw]
        return ({qid: got} if got else {}), problems, {}

    return decode


def ranking(qid: str, columns: list[Column], lookup: dict[str, str]) -> Decode:
    def decode(cells: Cells) -> tuple[dict[str, Any], list[Problem], dict[str, str]]:
        got: dict[str, int] = {}
        for rank, column in enumerate(columns, start=1):
            raw = cell(cells, column).strip()
            if blank(raw):
                continue
            if raw not in lookup:
                return {}, [(qid, raw, f"{column.header}: is not one of its items")], {}
            got[lookup[raw]] = rank
        return ({qid: got} if got else {}), [], {}

    return decode


def text(qid: str, column: Column) -> Decode:
    def decode(cells: Cells) -> tuple[dict[str, Any], list[Problem], dict[str, str]]:
        raw = cell(cells, column)
        return ({qid: raw.strip()} if not blank(raw) else {}), [], {}

    return decode


def kept(name: str, column: Column) -> Decode:
    def decode(cells: Cells) -> tuple[dict[str, Any], list[Problem], dict[str, str]]:
        raw = cell(cells, column).strip()
        return {}, [], ({name: raw} if raw else {})

    return decode
