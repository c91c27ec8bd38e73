"""问卷星 (wjx.cn) headers read into questions: which columns are metadata and which belong to
which numbered question, found by position because a matrix's later rows are headed by their bare
label. Pure.

Headers seen: ``N、题目`` (perhaps ending ``(多选题 *必答)``), ``N、(1)空`` (a multi-blank fill-in),
``N、题目—子项1`` followed by ``子项2`` or ``N、子项2`` (a matrix or grouped items), and in the
按选项序号 export ``第N题(选项)`` (a multiple choice or ranking, one column per option).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

Shape = Literal["plain", "items", "fill", "expanded"]
HintKind = Literal["single", "multiple", "ranking", "matrix", "scale", "text"]

META: dict[str, str] = {
    "序号": "id",
    "提交答卷时间": "submitted",
    "开始答题时间": "started",
    "所用时间": "duration",
    "来源": "channel",
    "来源详情": "source_detail",
    "来自ip": "ip",
    "总分": "total_score",
}
"""Metadata headers (spaces dropped, ``IP`` in any case) → what they hold."""

_QUESTION = re.compile(r"^\s*(\d{1,4})、\s*(.*)$", re.S)
_EXPANDED = re.compile(r"^\s*第\s*(\d{1,4})\s*题\s*[(（](.*)[)）]\s*$", re.S)
_FILL = re.compile(r"^[(（](\d{1,3})[)）]\s*(.*)$", re.S)
_HINT = re.compile(r"\s*[(（]([^()（）]{1,20})[)）]\s*$")
_HINT_BODY = re.compile(r"^([\u4e00-\u9fffA-Za-z]{0,8}题)?(必答|选答)?$")
_FILLER = re.compile(r"〖.*?〗", re.S)
DASH = "—"


@dataclass
class Group:
    """The columns of one numbered question, in file order."""

    number: int
    text: str
    hint: HintKind | None
    shape: Shape
    columns: list[int] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    """One per column: a matrix row, a fill-in blank or an expanded option; the text for plain."""
    head: str = ""
    """``题目`` of a first column ``题目—子项1`` (becomes the text once a second item follows)."""
    name: str = ""
    """The question id when not ``q<number>`` (an item of a group read as its own question)."""

    @property
    def qid(self) -> str:
        return self.name or f"q{self.number}"


@dataclass
class Header:
    """The header row read: metadata columns by meaning, other leading columns kept raw."""

    meta: dict[str, int]
    extra: dict[int, str]
    groups: list[Group]


def meta_key(name: str) -> str | None:
    """What a metadata header holds (``来自IP`` → ``ip``), None for any other header."""
    return META.get(re.sub(r"\s+", "", name).casefold())


def strip_hint(text: str) -> tuple[str, HintKind | None]:
    """``题目 (多选题 *必答)`` → (``题目``, ``multiple``): the export appends the type and the
    required mark to the text; they are not part of what respondents read."""
    match = _HINT.search(text)
    if not match:
        return text.strip(), None
    body = re.sub(r"[\s*＊]+", "", match.group(1))
    if not body or not _HINT_BODY.match(body):
        return text.strip(), None
    return text[: match.start()].strip(), _hint_kind(body)


def _hint_kind(body: str) -> HintKind | None:
    if "矩阵" in body:
        return "matrix"
    for word, kind in (
        ("排序", "ranking"),
        ("多选", "multiple"),
        ("单选", "single"),
        ("下拉", "single"),
        ("量表", "scale"),
        ("nps", "scale"),
        ("评分", "scale"),
        ("打分", "scale"),
        ("填空", "text"),
        ("简答", "text"),
        ("问答", "text"),
    ):
        if word in body.casefold():
            return kind  # type: ignore[return-value]
    return None


def option_label(raw: str) -> str:
    """An option as a header names it (``其他〖〗`` → ``其他``)."""
    return _FILLER.sub("", raw).strip()


def read_header(header: list[str]) -> Header:
    """Metadata, extra columns and question groups of the header row, grouped by position."""
    meta: dict[str, int] = {}
    extra: dict[int, str] = {}
    groups: list[Group] = []
    current: Group | None = None
    for index, raw in enumerate(header):
        name = raw.strip()
        key = meta_key(name)
        if key is not None and key not in meta:
            meta[key] = index
            continue
        if not name:
            continue
        expanded = _EXPANDED.match(name)
        if expanded:
            number, label = int(expanded.group(1)), option_label(expanded.group(2))
            if not (current and current.number == number and current.shape == "expanded"):
                current = Group(number, f"第{number}题", None, "expanded")
                groups.append(current)
            current.columns.append(index)
            current.labels.append(label)
            continue
        question = _QUESTION.match(name)
        if question:
            number, rest = int(question.group(1)), question.group(2)
            if current and current.number == number and current.shape != "expanded":
                _continue(current, index, rest)
            else:
                current = _start(number, index, rest)
                groups.append(current)
            continue
        if current and (current.shape == "items" or current.head):
            _continue(current, index, name)
        else:
            extra[index] = name
    return Header(meta, extra, groups)


def _start(number: int, index: int, rest: str) -> Group:
    text, hint = strip_hint(rest)
    fill = _FILL.match(text)
    if fill:
        return Group(number, fill.group(2).strip(), hint, "fill", [index], [fill.group(2).strip()])
    group = Group(number, text, hint, "plain", [index], [text])
    if DASH in text:
        head, _, first = text.rpartition(DASH)
        group.head = head.rstrip(DASH).strip()
        group.labels = [first.strip()]
    return group


def _continue(group: Group, index: int, rest: str) -> None:
    """A later column of the same question: another blank, matrix row or grouped item."""
    label, hint = strip_hint(rest)
    fill = _FILL.match(label)
    if group.shape == "fill":
        label = fill.group(2).strip() if fill else label
    elif group.shape == "plain":
        group.shape = "items"
        if group.head:
            group.text = group.head
        group.hint = group.hint or hint
    group.columns.append(index)
    group.labels.append(label)
