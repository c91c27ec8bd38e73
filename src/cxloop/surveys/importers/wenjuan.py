"""问卷网 (wenjuan.com) and any other layout no reader recognises, read through a column mapping
the user confirms.

问卷网 publishes no export schema and no real export was found, so nothing here guesses one: the
user names the header row, the id and time columns and each question's column(s) and type
(``--columns mapping.yaml``), and every name is checked against the file's header before any
row is read. Unmapped columns are kept raw as attributes. Pure: no store.
"""

from __future__ import annotations

import datetime as dt
from pathlib import PurePath
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cxloop.errors import Invalid
from cxloop.surveys.importers.common import (
    blank,
    file_day_first,
    identifier,
    number,
    parse_time,
    time_problem,
    unique_ids,
)
from cxloop.surveys.importers.model import (
    Choice,
    Grid,
    ImportedQuestion,
    ImportedResponse,
    ImportOptions,
    ParsedExport,
    RowProblem,
)
from cxloop.surveys.importers.wenjuan_mapping import (
    ColumnMapping,
    QuestionColumns,
    header_row_of,
    mapped_columns,
    mapping_of,
)

DEFAULT_SCALES: dict[str, tuple[int, int]] = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}
DONE = ("是", "yes", "y", "true", "1", "完成", "已完成", "completed", "complete", "finished")
NOT_DONE = ("否", "no", "n", "false", "0", "未完成", "partial", "incomplete")


def detect(grid: Grid) -> float:
    """Never sniffed: 问卷网 has no known layout, so only ``--tool wenjuan`` picks this reader."""
    return 0.0


def parse(grid: Grid, options: ImportOptions, definition: object | None = None) -> ParsedExport:
    """Read the rows below the mapped header row; ``Invalid`` naming every mapping field that
    does not fit the file before any row is read."""
    if definition is not None:
        name = getattr(definition, "name", "")
        raise Invalid("问卷网 has no definition file: give --columns instead", "--definition", name)
    raw = options.columns
    first = header_row_of(raw) if raw is not None else 1
    if first > len(grid.rows):
        raise Invalid(
            f"is past the end of {grid.name} ({len(grid.rows)} rows)", "columns.header_row", first
        )
    header = [c.strip() for c in grid.rows[first - 1]]
    mapping = mapping_of(raw, header, grid.name)
    where = mapped_columns(mapping, header, grid.name)
    tz = _zone(mapping.timezone, options.timezone)
    body = grid.rows[mapping.header_row :]
    questions = _questions(mapping, header, where, body)
    used = {i for i in where.values()}
    kept = [i for i, name in enumerate(header) if name and i not in used]
    export = ParsedExport(
        tool="wenjuan",
        layout=f"column mapping (header row {mapping.header_row})",
        value_mode="labels",
        title=mapping.title or PurePath(grid.name).stem or "问卷网 survey",
        questions=[q for q, _ in questions],
        responses=[],
        timezone=mapping.timezone or options.timezone,
        notes=[
            f"read through the confirmed column mapping: {len(questions)} questions, "
            f"{len(kept)} column{'' if len(kept) == 1 else 's'} kept raw"
        ],
        mapped=_mapped(mapping),
        kept_raw=[header[i] for i in kept],
    )
    times = [c for c in (mapping.time_column, mapping.start_column) if c]
    day_first, order_note = file_day_first(
        (_cell(row, where, c) for row in body for c in times) if not mapping.time_format else (),
        times,
        options.day_first,
    )
    if order_note:
        export.notes.append(order_note)
    seen: dict[str, int] = {}
    for offset, row in enumerate(body):
        if not any(c.strip() for c in row):
            continue
        line = mapping.header_row + offset + 1
        response, problems = _response(line, row, mapping, where, questions, tz, day_first)
        for i in kept:
            if i < len(row) and row[i].strip():
                response.attributes[header[i]] = row[i].strip()
        raw = {h: row[i] for i, h in enumerate(header) if i < len(row) and h}
        export.keep(response, problems, id_field=mapping.id_column, seen=seen, raw=raw)
    return export


def _zone(name: str | None, default: str) -> ZoneInfo:
    for field, candidate in (("columns.timezone", name), ("--timezone", default)):
        if candidate:
            try:
                return ZoneInfo(candidate.strip())
            except (ZoneInfoNotFoundError, ValueError):
                raise Invalid(
                    "is not a known IANA zone (e.g. Asia/Shanghai)", field, candidate
                ) from None
    return ZoneInfo("UTC")


def _questions(
    mapping: ColumnMapping, header: list[str], where: dict[str, int], body: list[list[str]]
) -> list[tuple[ImportedQuestion, QuestionColumns]]:
    ids = unique_ids(
        q.id or identifier(q.column or _prefix(q.columns or []), f"q{k + 1}")
        for k, q in enumerate(mapping.questions)
    )
    out = []
    for qid, q in zip(ids, mapping.questions, strict=True):
        source = f"column {q.column}" if q.column else f"columns {', '.join(q.columns or [])}"
        question = ImportedQuestion(qid, q.text or q.column or "", q.type, source)
        if q.type == "matrix":
            cols = q.columns or []
            prefix = _prefix(cols)
            question.text = q.text or prefix.rstrip(" -:：—_") or cols[0]
            labels = q.rows or [c[len(prefix) :].strip(" -:：—_") or c for c in cols]
            question.rows = [Choice(f"{qid}_r{k + 1}", lab) for k, lab in enumerate(labels)]
            values = [r[where[c]] for c in cols for r in body if where[c] < len(r)]
            question.scale = q.scale or _scale(values)
        elif q.type in ("single", "multiple"):
            labels = q.options or _seen(body, where[q.column or ""], q.separator, q.type)
            question.options = [Choice(label, label) for label in labels]
        elif q.type != "text":
            values = [r[where[q.column or ""]] for r in body if where[q.column or ""] < len(r)]
            question.scale = q.scale or DEFAULT_SCALES.get(q.type) or _scale(values)
        out.append((question, q))
    return out


def _prefix(columns: list[str]) -> str:
    """The text every column of a matrix starts with (its question), "" when none."""
    if not columns:
        return ""
    first = columns[0]
    size = 0
    while size < len(first) and all(c[: size + 1] == first[: size + 1] for c in columns):
        size += 1
    return first[:size] if len(columns) > 1 else ""


def _scale(values: list[str]) -> tuple[int, int]:
    """A rating's range from its answers when the mapping gives none: 0 or 1 up to the top."""
    numbers = [n for n in (number(v) for v in values if not blank(v)) if n is not None]
    if not numbers:
        return (1, 5)
    return (0 if min(numbers) <= 0 else 1, max(int(max(numbers)), 2))


def _seen(body: list[list[str]], index: int, separator: str | None, kind: str) -> list[str]:
    found: dict[str, None] = {}
    for row in body:
        value = row[index].strip() if index < len(row) else ""
        if blank(value):
            continue
        parts = value.split(separator) if kind == "multiple" and separator else [value]
        for part in parts:
            if part.strip():
                found.setdefault(part.strip(), None)
    return list(found)


def _mapped(mapping: ColumnMapping) -> dict[str, str]:
    out = {mapping.id_column: "response id", mapping.time_column: "submitted_at"}
    for key, meaning in (
        ("start_column", "started_at"),
        ("completed_column", "completed"),
        ("email_column", "email (personal)"),
        ("phone_column", "phone (personal)"),
        ("name_column", "name (personal)"),
        ("external_reference_column", "external_reference (customer id)"),
    ):
        if column := getattr(mapping, key):
            out[column] = meaning
    for column in mapping.location_columns:
        out[column] = "location (personal)"
    return out


def _cell(row: list[str], where: dict[str, int], column: str | None) -> str:
    if column is None:
        return ""
    index = where[column]
    return row[index].strip() if index < len(row) else ""


def _time(
    raw: str, mapping: ColumnMapping, tz: ZoneInfo, day_first: bool | None
) -> tuple[dt.datetime | None, str | None]:
    """The time and, when it cannot be read, why."""
    if blank(raw):
        return None, None
    if mapping.time_format:
        try:
            local = dt.datetime.strptime(raw, mapping.time_format)
            return local.replace(tzinfo=tz).astimezone(dt.UTC), None
        except ValueError:
            return None, f"does not match time_format {mapping.time_format!r}"
        except OverflowError:  # year 1 or 9999 pushed past the calendar by the zone
            return None, "is outside the years a time can hold"
    parsed = parse_time(raw, tz, day_first=day_first)
    if parsed is None:
        return None, f"{time_problem(raw, day_first)} (or set time_format in the mapping)"
    return parsed, None


def _response(
    line: int,
    row: list[str],
    mapping: ColumnMapping,
    where: dict[str, int],
    questions: list[tuple[ImportedQuestion, QuestionColumns]],
    tz: ZoneInfo,
    day_first: bool | None,
) -> tuple[ImportedResponse, list[RowProblem]]:
    rid = _cell(row, where, mapping.id_column)
    response = ImportedResponse(row=line, response_id=rid, answers={}, completed=True)
    problems = [] if rid else [RowProblem(line, mapping.id_column, rid, "is empty: no response id")]
    for column, attr in ((mapping.time_column, "submitted"), (mapping.start_column, "started")):
        raw = _cell(row, where, column)
        value, why = _time(raw, mapping, tz, day_first)
        setattr(response, f"{attr}_at", value)
        if raw:
            response.attributes[f"{attr}_raw"] = raw
        if why and column:
            problems.append(RowProblem(line, column, raw, why))
    if mapping.completed_column:
        flag = _cell(row, where, mapping.completed_column)
        if flag.casefold() in NOT_DONE:
            response.completed = False
        elif flag.casefold() not in DONE:
            reason = f"is not a completion flag ({'/'.join(DONE[:2])} or {'/'.join(NOT_DONE[:2])})"
            problems.append(RowProblem(line, mapping.completed_column, flag, reason))
    for attr, column in (
        ("email", mapping.email_column),
        ("phone", mapping.phone_column),
        ("name", mapping.name_column),
        ("external_reference", mapping.external_reference_column),
    ):
        if found := _cell(row, where, column):
            setattr(response, attr, found)
    place = [_cell(row, where, c) for c in mapping.location_columns]
    response.location = "-".join(p for p in place if p and not blank(p)) or None
    for question, q in questions:
        problems += _answer(line, row, where, question, q, response.answers)
    return response, problems


def _answer(
    line: int,
    row: list[str],
    where: dict[str, int],
    question: ImportedQuestion,
    q: QuestionColumns,
    answers: dict[str, Any],
) -> list[RowProblem]:
    """One question's answer into ``answers``; the problem of each value it cannot hold."""
    if question.kind == "matrix":
        found: dict[str, int | float] = {}
        problems = []
        for column, r in zip(q.columns or [], question.rows, strict=True):
            raw = _cell(row, where, column)
            if blank(raw):
                continue
            score, why = _score(raw, question.scale)
            if why:
                problems.append(RowProblem(line, column, raw, why))
            elif score is not None:
                found[r.code] = score
        if found and not problems:
            answers[question.id] = found
        return problems
    column = q.column or ""
    raw = _cell(row, where, column)
    if blank(raw):
        return []
    if question.kind == "text":
        answers[question.id] = raw
        return []
    if question.kind in ("single", "multiple"):
        codes = [c.code for c in question.options]
        parts = (
            [p.strip() for p in raw.split(q.separator)] if question.kind == "multiple" else [raw]
        )
        parts = [p for p in parts if p]
        unknown = [p for p in parts if p not in codes]
        if unknown:
            reason = f"is not one of the options ({', '.join(codes)})"
            return [RowProblem(line, column, unknown[0], reason)]
        answers[question.id] = (
            parts[0] if question.kind == "single" else sorted(dict.fromkeys(parts), key=codes.index)
        )
        return []
    score, why = _score(raw, question.scale)
    if why:
        return [RowProblem(line, column, raw, why)]
    answers[question.id] = score
    return []


def _score(raw: str, scale: tuple[int, int] | None) -> tuple[int | float | None, str | None]:
    value = number(raw)
    low, high = scale or (0, 10)
    if value is None:
        return None, "is not a number"
    if not low <= value <= high:
        return None, f"is outside {low}–{high}"
    return (int(value) if value.is_integer() else value), None
