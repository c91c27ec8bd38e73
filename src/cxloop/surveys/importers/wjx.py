"""问卷星 (wjx.cn) response exports — 按选项文本 (``…_0.xls``) and 按选项序号 (``…_2.xls``), as
.xls, .xlsx or CSV — read into a ``ParsedExport``. Pure: no database.

One header row: metadata first in an order that varies (序号, 提交答卷时间, 所用时间, 来源,
来源详情, 来自IP, 总分), then the questions (see ``wjx_columns``). The value mode is told from the
content (``第N题(选项)`` columns, ``-3``, ``(跳过)``, ``┋``…), else from the file name's
``_0``/``_2``.
按选项序号 writes a single choice as its option's position and the file holds no option texts:
those answers stay positions (``decoded=False``) until imported onto a survey whose options are
in the questionnaire's order (``--survey`` of a survey created from a cxloop YAML).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from typing import Any

from cxloop.errors import Invalid
from cxloop.surveys.importers.common import file_day_first, parse_time, time_problem, zone
from cxloop.surveys.importers.model import (
    Grid,
    ImportedResponse,
    ImportOptions,
    ParsedExport,
    RowProblem,
)
from cxloop.surveys.importers.registry import DefinitionFile
from cxloop.surveys.importers.wjx_answers import Cell, Reader, integer, skipped
from cxloop.surveys.importers.wjx_columns import Header, meta_key, read_header
from cxloop.surveys.importers.wjx_plan import plan_group

TEXT_MODE = "按选项文本"
POSITION_MODE = "按选项序号"
_QUESTION_HEAD = re.compile(r"^\s*(?:\d{1,4}、|第\s*\d{1,4}\s*题\s*[(（])")
_DURATION = re.compile(r"^\s*(?:(\d+)\s*(?:小时|时))?\s*(?:(\d+)\s*分钟?)?\s*(?:(\d+)\s*秒)?\s*$")
_IP = re.compile(r"^\s*([0-9A-Fa-f.:]+)\s*(?:[(（](.*?)[)）])?\s*$", re.S)
_SUFFIX = re.compile(r"_([0-3])_?$")
MAX_DURATION = 31 * 24 * 3600
"""A 所用时间 beyond a month is kept as written but not used to date the start."""
_MAPPED = {
    "id": "response id (the only respondent id)",
    "submitted": "submitted_at",
    "started": "started_at",
    "duration": "attribute duration_s; started_at = submitted_at − duration",
    "channel": "channel",
    "source_detail": "attribute source_detail",
    "ip": "ip + location (personal data)",
    "total_score": "attribute total_score",
}


def detect(grid: Grid) -> float:
    """How sure the header row is 问卷星's: 提交答卷时间 and 序号 and ``N、`` question headers."""
    if not grid.rows:
        return 0.0
    header = [cell.strip() for cell in grid.rows[0]]
    keys = {meta_key(cell) for cell in header}
    questions = sum(1 for cell in header if _QUESTION_HEAD.match(cell))
    score = 0.0
    if "submitted" in keys:
        score += 0.55
    if "id" in keys:
        score += 0.15
    if keys & {"duration", "channel", "source_detail", "ip"}:
        score += 0.1
    if questions:
        score += 0.15 if questions == 1 else 0.2
    return round(min(score, 1.0), 2)


def parse(
    grid: Grid, options: ImportOptions, definition: DefinitionFile | None = None
) -> ParsedExport:
    """Every response of a 问卷星 export; ``Invalid`` when the header cannot be read."""
    if definition is not None:
        raise Invalid(
            "问卷星 has no definition file; to decode 按选项序号 positions import onto a survey "
            "created from a cxloop YAML of the questionnaire (--survey ID)",
            "--definition",
            definition.name,
        )
    if not grid.rows:
        raise Invalid("holds no header row", "file", grid.name)
    header = read_header(grid.rows[0])
    if "id" not in header.meta:
        raise Invalid(
            "has no 序号 column (问卷星's response number, the respondent id)", "file", grid.name
        )
    if not header.groups:
        raise Invalid(
            "has no question columns (headed 'N、题目' or '第N题(选项)')", "file", grid.name
        )
    body = [
        (i + 1, row) for i, row in enumerate(grid.rows) if i > 0 and any(c.strip() for c in row)
    ]
    positions, mode_note = _mode(grid, header, [row for _, row in body])
    readers: list[Reader] = []
    notes: list[str] = [mode_note] if mode_note else []
    for group in header.groups:
        made, group_notes = plan_group(group, [row for _, row in body], positions=positions)
        readers.extend(made)
        notes.extend(group_notes)
    tz = zone(None, options.timezone)
    times = [i for key, i in header.meta.items() if key in ("submitted", "started")]
    day_first, order_note = file_day_first(
        (row[i] for _, row in body for i in times if i < len(row)),
        [grid.rows[0][i].strip() for i in times],
        options.day_first,
    )
    if order_note:
        notes.append(order_note)
    options = dataclasses.replace(options, day_first=day_first)
    responses, rejected = _responses(grid, header, body, readers, tz, options)
    return ParsedExport(
        tool="wjx",
        layout=f"{grid.file_format}, 1 header row",
        value_mode=POSITION_MODE if positions else TEXT_MODE,
        title=title_of(grid.name),
        questions=[r.question for r in readers],
        responses=responses,
        timezone=options.timezone,
        rejected=rejected,
        notes=notes,
        mapped={grid.rows[0][i].strip(): _MAPPED[key] for key, i in header.meta.items()},
        kept_raw=[f"{name} (attribute)" for name in header.extra.values()],
    )


def title_of(name: str) -> str:
    """The file name without its extension and 问卷星's ``_0``/``_2``/``_3`` value-mode suffix."""
    return _SUFFIX.sub("", _stem(name)).strip(" _") or "wjx"


def _mode(grid: Grid, header: Header, rows: list[list[str]]) -> tuple[bool, str]:
    """True for 按选项序号. The content decides (expanded ``第N题(…)`` columns, ``-3``/``-2`` vs
    ``(跳过)``/``(空)``, ``┋``, ``→``, ``4分``); the file name's ``_2``/``_0`` only when the
    content is silent."""
    if any(g.shape == "expanded" for g in header.groups):
        return True, ""
    text = positions = 0
    for group in header.groups:
        for column in group.columns:
            for row in rows:
                value = row[column].strip() if column < len(row) else ""
                if _text_mark(value):
                    text += 1
                elif value in ("-3", "-2"):
                    positions += 1
    if text or positions:
        return positions > text, ""
    suffix = _SUFFIX.search(_stem(grid.name))
    if suffix and suffix.group(1) in ("0", "2"):
        return suffix.group(1) == "2", ""
    return False, (
        f"read as {TEXT_MODE}: nothing in the file tells it from {POSITION_MODE} (no (跳过), "
        f"┋ or -3); a {POSITION_MODE} download keeps 问卷星's _2 ending in its name"
    )


def _text_mark(value: str) -> bool:
    """A cell only 按选项文本 writes: ``(跳过)`` (按选项序号 writes ``-3``), joined options or
    ranks, ``4分``; ``(空)`` (not answered) is written by both."""
    if value in ("(跳过)", "（跳过）") or "┋" in value or "→" in value:
        return True
    return value.endswith("分") and integer(value[:-1]) is not None


def _stem(name: str) -> str:
    stem = name.rsplit("/", 1)[-1]
    return stem.rsplit(".", 1)[0] if "." in stem else stem


def _responses(
    grid: Grid,
    header: Header,
    body: list[tuple[int, list[str]]],
    readers: list[Reader],
    tz: Any,
    options: ImportOptions,
) -> tuple[list[ImportedResponse], list[RowProblem]]:
    names = grid.rows[0]
    seen: dict[str, int] = {}
    responses: list[ImportedResponse] = []
    rejected: list[RowProblem] = []
    for number, row in body:

        def cell(index: int, row: list[str] = row) -> str:
            return row[index] if index < len(row) else ""

        raw = {names[i].strip(): v for i, v in enumerate(row) if i < len(names) and v.strip()}
        problems: list[tuple[str, str | None, str]] = []
        response = _metadata(cell, header, tz, options, problems)
        if response.response_id and response.response_id in seen:
            where = f"row {seen[response.response_id]}"
            problems.append(("序号", response.response_id, f"is the same as {where}'s"))
        for reader in readers:
            problems.extend(reader.read(cell, response.answers, response.attributes))
        if problems:
            rejected.extend(RowProblem(number, f, v, reason, raw) for f, v, reason in problems)
            continue
        seen[response.response_id] = number
        response.row = number
        responses.append(response)
    return responses, rejected


def _metadata(
    cell: Cell,
    header: Header,
    tz: Any,
    options: ImportOptions,
    problems: list[tuple[str, str | None, str]],
) -> ImportedResponse:
    meta = {key: cell(i).strip() for key, i in header.meta.items()}
    response_id = meta.get("id", "")
    response_id = str(integer(response_id)) if integer(response_id) is not None else response_id
    if not response_id:
        problems.append(("序号", None, "is empty: 问卷星's response number is the respondent id"))
    attributes: dict[str, str] = {}
    submitted = _time(meta.get("submitted", ""), "提交答卷时间", tz, options, problems)
    started = _time(meta.get("started", ""), "开始答题时间", tz, options, problems)
    if meta.get("submitted"):
        attributes["submitted_raw"] = meta["submitted"]
    if meta.get("started"):
        attributes["start_date_raw"] = meta["started"]
    seconds = _seconds(meta.get("duration", ""))
    if seconds is not None:
        attributes["duration_s"] = str(seconds)
        if started is None and submitted is not None and 0 <= seconds <= MAX_DURATION:
            started = submitted - dt.timedelta(seconds=seconds)
    for key, name in (("source_detail", "source_detail"), ("total_score", "total_score")):
        if meta.get(key) and not skipped(meta[key]):
            attributes[name] = meta[key]
    for index, name in header.extra.items():
        value = cell(index).strip()
        if value and not skipped(value):
            attributes[name] = value
    ip, location = _ip(meta.get("ip", ""))
    channel = meta.get("channel") or None
    return ImportedResponse(
        row=0,
        response_id=response_id,
        answers={},
        completed=True,
        started_at=started,
        submitted_at=submitted,
        ip=ip,
        location=location,
        channel=channel if channel and not skipped(channel) else None,
        attributes=attributes,
    )


def _time(
    raw: str,
    name: str,
    tz: Any,
    options: ImportOptions,
    problems: list[tuple[str, str | None, str]],
) -> dt.datetime | None:
    if not raw:
        return None
    parsed = parse_time(raw, tz, day_first=options.day_first)
    if parsed is None:
        problems.append((name, raw, time_problem(raw, options.day_first)))
    return parsed


def _seconds(raw: str) -> int | None:
    """``136秒``, ``2分16秒``, ``1小时2分`` or a bare number of seconds."""
    if not raw.strip():
        return None
    if integer(raw) is not None:
        return integer(raw)
    match = _DURATION.match(raw)
    if not match or not any(match.groups()):
        return None
    hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return hours * 3600 + minutes * 60 + seconds


def _ip(raw: str) -> tuple[str | None, str | None]:
    """``183.192.16.69(上海-上海)`` → (``183.192.16.69``, ``上海-上海``)."""
    if not raw.strip() or skipped(raw):
        return None, None
    match = _IP.match(raw)
    if not match:
        return None, raw.strip()
    place = (match.group(2) or "").strip()
    return match.group(1), place if place and place not in ("未知", "unknown") else None
