"""SurveyMonkey "All responses data" exports (CSV, XLSX) read into a ``ParsedExport``.

Two header rows: row 1 holds the metadata names, then each question's text written once over
its first column (blank over the rest); row 2 is blank under metadata and says what each question
column holds (``Response``, ``Open-Ended Response``, an option, matrix row or field label). The
export carries no question ids, no types and no completion flag, so questions are numbered by
position (``q1``… the same in both value modes) and their kind is read from row 2 and the
answers (see ``surveymonkey_columns``). Pure: no database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any
from zoneinfo import ZoneInfo

from cxloop.errors import Invalid
from cxloop.surveys.importers.common import (
    file_day_first,
    parse_time,
    person_name,
    time_problem,
    zone,
)
from cxloop.surveys.importers.model import (
    Grid,
    ImportedResponse,
    ImportOptions,
    ParsedExport,
    RowProblem,
)
from cxloop.surveys.importers.registry import DefinitionFile
from cxloop.surveys.importers.surveymonkey_columns import (
    Group,
    Reading,
    is_marker,
    read_group,
    value_mode,
)

META: dict[str, str] = {
    "respondent id": "response id (the re-import key)",
    "collector id": "channel",
    "start date": "started_at",
    "end date": "submitted_at",
    "ip address": "ip (personal)",
    "email address": "email (personal)",
    "first name": "name (personal)",
    "last name": "name (personal)",
}
_DATES = (("start date", "Start Date"), ("end date", "End Date"))
_SCIENTIFIC = re.compile(r"^\s*\d+(?:[.,]\d+)?[eE][+-]?\d+\s*$")


def detect(grid: Grid) -> float:
    """How sure the content is a SurveyMonkey export: ``Respondent ID`` and ``Collector ID`` in
    row 1, row 2 blank under them and ``Response``/labels under the questions."""
    if not grid.rows:
        return 0.0
    head = [cell.strip().casefold() for cell in grid.rows[0]]
    if "respondent id" not in head:
        return 0.0
    score = 0.5
    if "collector id" in head:
        score += 0.2
    if "start date" in head and "end date" in head:
        score += 0.1
    if len(grid.rows) > 1:
        sub = _pad(grid.rows[1], len(head))
        meta_blank = all(not sub[i].strip() for i, name in enumerate(head) if name in META)
        markers = any(is_marker(cell) for cell in sub)
        if meta_blank and (markers or any(cell.strip() for cell in sub)):
            score += 0.2
    return min(score, 1.0)


@dataclass
class _Meta:
    """Where each metadata column is (index by normalised name)."""

    index: dict[str, int]
    extra: dict[int, str]
    """Columns with a blank row 2 that SurveyMonkey does not document (Custom Data N, contact
    fields of the collector): kept as attributes."""


def parse(
    grid: Grid, options: ImportOptions, definition: DefinitionFile | None = None
) -> ParsedExport:
    """Read a SurveyMonkey export; ``Invalid`` when its two header rows cannot be found."""
    if definition is not None:
        raise Invalid(
            "SurveyMonkey has no definition file; to decode numerical values give an existing "
            "survey with --survey",
            "--definition",
            definition.name,
        )
    if not grid.rows or "respondent id" not in {c.strip().casefold() for c in grid.rows[0]}:
        raise Invalid(
            "row 1 has no 'Respondent ID' column: not a SurveyMonkey export", "file", grid.name
        )
    if len(grid.rows) < 2:
        raise Invalid("has no second header row (Response / option labels)", "file", grid.name)
    width = max(len(row) for row in grid.rows)
    head = _pad(grid.rows[0], width)
    sub = _pad(grid.rows[1], width)
    data = [(number_ + 3, _pad(row, width)) for number_, row in enumerate(grid.rows[2:])]
    data = [(n, row) for n, row in data if any(cell.strip() for cell in row)]
    meta, groups = _columns(grid.name, head, sub)
    mode, shown = value_mode(groups, [row for _, row in data])
    readings = [
        read_group(group, f"q{k}", mode, [row for _, row in data])
        for k, group in enumerate(groups, start=1)
    ]
    tz_name = options.timezone
    tz = zone(None, tz_name)
    day_first, order_note = _day_first(meta, data, options.day_first)
    export = ParsedExport(
        tool="surveymonkey",
        layout=_layout(groups, readings),
        value_mode=mode,
        title=PurePath(grid.name).stem or "surveymonkey",
        questions=[q for reading in readings for q in reading.questions],
        responses=[],
        timezone=tz_name,
    )
    if order_note:
        export.notes.append(order_note)
    export.mapped = {head[i]: META[name] for name, i in meta.index.items()}
    for i, name in meta.extra.items():
        export.mapped[head[i]] = f"attribute {_attribute(name)}"
        export.kept_raw.append(head[i])
    export.notes.append(
        "SurveyMonkey exports carry no completion status: every response is read as completed "
        "unless all its questions are blank (then partial)."
    )
    if not shown:
        export.notes.append(
            "Every answer is a number, so the value mode cannot be told: read as actual answer "
            "text (numbers as scores); a numerical-value export of choice questions needs --survey"
        )
    if "custom data 1" in {name.casefold() for name in meta.extra.values()}:
        export.notes.append(
            "Custom Data 1 is kept as attribute custom_data_1 (not linked to a customer)."
        )
    for reading in readings:
        export.notes.extend(reading.notes)
        export.kept_raw.extend(reading.kept_raw)
    seen: dict[str, int] = {}
    for row_number, row in data:
        response = _response(row_number, row, head, meta, readings, tz, day_first, export, seen)
        if response is not None:
            export.responses.append(response)
    return export


def _pad(row: list[str], width: int) -> list[str]:
    return [*row, *([""] * (width - len(row)))]


def _columns(name: str, head: list[str], sub: list[str]) -> tuple[_Meta, list[Group]]:
    """Split the columns into metadata (blank row 2) and question groups (row 1 text carried
    forward over the blank cells that follow it)."""
    meta = _Meta(index={}, extra={})
    groups: list[Group] = []
    for i, (top, below) in enumerate(zip(head, sub, strict=True)):
        top, below = top.strip(), below.strip()
        if not below:
            if not top:
                continue
            key = top.casefold()
            if key in META and key not in meta.index:
                meta.index[key] = i
            else:
                meta.extra[i] = top
            continue
        if top or not groups:
            if not top:
                raise Invalid(
                    f"column {i + 1} has {below!r} in row 2 but no question text in row 1 "
                    "before it: the two header rows are damaged",
                    "file",
                    name,
                )
            groups.append(Group(text=top, columns=[i], labels=[below]))
        else:
            groups[-1].columns.append(i)
            groups[-1].labels.append(below)
    if not groups:
        raise Invalid("no question columns (row 2 is blank everywhere)", "file", name)
    return meta, groups


def _layout(groups: list[Group], readings: list[Reading]) -> str:
    """``expanded`` (the default: a column per option/row/field) unless no question spans two
    columns while some one-column closed question holds joined choices (``condensed``)."""
    spans = any(len(g.columns) > 1 for g in groups)
    if not spans and any(r.condensed for r in readings):
        return "condensed (2 header rows)"
    return "expanded (2 header rows)"


def _day_first(
    meta: _Meta, data: list[tuple[int, list[str]]], stated: bool | None
) -> tuple[bool | None, str | None]:
    """One day/month order for Start Date and End Date together (one re-save wrote both: a
    column decided alone could read its dates in the other order than its neighbour's) and
    the note when every date reads both ways (common.file_day_first)."""
    found = [(meta.index[k], label) for k, label in _DATES if k in meta.index]
    return file_day_first(
        (row[i] for _, row in data for i, _ in found), [label for _, label in found], stated
    )


def _attribute(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", name.casefold()).strip("_") or "column"


def _response(
    row_number: int,
    row: list[str],
    head: list[str],
    meta: _Meta,
    readings: list[Reading],
    tz: ZoneInfo,
    day_first: bool | None,
    export: ParsedExport,
    seen: dict[str, int],
) -> ImportedResponse | None:
    """One data row; None (and its problems in ``export.rejected``) when it cannot be stored."""
    problems: list[tuple[str, str | None, str]] = []

    def cell(key: str) -> str:
        index = meta.index.get(key)
        return row[index].strip() if index is not None else ""

    rid = cell("respondent id")
    if not rid:
        problems.append(("Respondent ID", None, "is empty: every response needs its id"))
    elif rid.startswith("#"):
        problems.append(
            (
                "Respondent ID",
                rid,
                "is ##### (what Excel saves for a column too narrow to show the number), so the "
                "id is lost: re-export the responses from SurveyMonkey",
            )
        )
    elif _SCIENTIFIC.match(rid):
        problems.append(
            (
                "Respondent ID",
                rid,
                "was rewritten in scientific notation by a spreadsheet, so its digits are lost: "
                "re-export the responses from SurveyMonkey (do not re-save the file in Excel)",
            )
        )
    elif rid in seen:
        problems.append(("Respondent ID", rid, f"repeats the response on row {seen[rid]}"))
    else:
        seen[rid] = row_number
    times: dict[str, Any] = {}
    for key, label in _DATES:
        raw = cell(key)
        times[key] = parse_time(raw, tz, day_first=day_first) if raw else None
        if raw and times[key] is None:
            problems.append((label, raw, time_problem(raw, day_first)))
    answers: dict[str, Any] = {}
    contact: dict[str, str] = {}
    for reading in readings:
        got, bad = reading.read(row)
        for key, value in got.items():
            if key.startswith("@"):
                contact[key[1:]] = value
            else:
                answers[key] = value
        problems.extend(bad)
    if problems:
        record = {head[i] or f"column {i + 1}": v for i, v in enumerate(row) if v.strip()}
        export.rejected.extend(
            RowProblem(row_number, field, value, reason, record)
            for field, value, reason in problems
        )
        return None
    first, last = cell("first name"), cell("last name")
    attributes = {
        _attribute(name): row[i].strip() for i, name in meta.extra.items() if row[i].strip()
    }
    for key, label in (("start date", "start_date_raw"), ("end date", "end_date_raw")):
        if cell(key):
            attributes[label] = cell(key)
    return ImportedResponse(
        row=row_number,
        response_id=rid,
        answers=answers,
        completed=bool(answers),
        started_at=times["start date"],
        submitted_at=times["end date"],
        email=cell("email address") or contact.get("email") or None,
        phone=contact.get("phone") or None,
        name=person_name(first, last),
        ip=cell("ip address") or None,
        channel=cell("collector id") or None,
        attributes=attributes,
    )
