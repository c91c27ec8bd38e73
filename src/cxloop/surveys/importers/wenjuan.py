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
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from cxloop.errors import Invalid, Problem
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
    QuestionKind,
    RowProblem,
)

Column = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
"""A header name as the file writes it (surrounding blanks ignored)."""
DEFAULT_SCALES: dict[str, tuple[int, int]] = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}
DONE = ("是", "yes", "y", "true", "1", "完成", "已完成", "completed", "complete", "finished")
NOT_DONE = ("否", "no", "n", "false", "0", "未完成", "partial", "incomplete")


class QuestionColumns(BaseModel):
    """One question: its column (a matrix: one column per row), id, type and how to read it."""

    model_config = ConfigDict(extra="forbid")

    column: Column | None = None
    columns: list[Column] | None = Field(default=None, min_length=1)
    id: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=64)
    text: str | None = None
    type: QuestionKind
    separator: str | None = Field(default=None, min_length=1)
    """How a multiple-choice cell joins its choices (``┋``, ``|``, ``,``)."""
    scale: tuple[int, int] | None = None
    options: list[str] | None = None
    """The choices in order (else: the values seen, in order of first appearance)."""
    rows: list[str] | None = None
    """A matrix's row labels (else: each column's header after the shared prefix)."""

    @model_validator(mode="after")
    def _shape(self) -> QuestionColumns:
        """Every rule the question breaks, in one message (not only the first)."""
        wrong: list[str] = []
        if (self.column is None) == (self.columns is None):
            wrong.append("give either column (one column) or columns (a matrix's rows)")
        if self.type == "matrix" and self.columns is None:
            wrong.append("a matrix needs columns: one column per row")
        if self.type != "matrix" and self.columns is not None:
            wrong.append(f"a {self.type} question reads one column: use column")
        if self.type == "multiple" and self.separator is None:
            wrong.append("a multiple question needs the separator between its choices")
        if self.type != "multiple" and self.separator is not None:
            wrong.append(f"separator is read only for a multiple question, not {self.type}")
        if self.scale is not None and self.scale[0] >= self.scale[1]:
            wrong.append("scale must be [lowest, highest] with lowest < highest")
        if self.rows is not None and self.columns and len(self.rows) != len(self.columns):
            wrong.append(f"rows names {len(self.rows)} labels for {len(self.columns)} columns")
        if wrong:
            raise ValueError("; ".join(wrong))
        return self


class ColumnMapping(BaseModel):
    """The layout of one export, as the user confirms it (``--columns FILE``, YAML or JSON)."""

    model_config = ConfigDict(extra="forbid")

    header_row: int = Field(default=1, ge=1)
    """1-based row holding the column names (rows above it are titles)."""
    id_column: Column
    time_column: Column
    """The submit/end time (the response's submitted_at)."""
    start_column: Column | None = None
    time_format: str | None = None
    """``strptime`` format (e.g. ``%Y年%m月%d日 %H:%M``); else common forms are read."""
    timezone: str | None = None
    completed_column: Column | None = None
    email_column: Column | None = None
    phone_column: Column | None = None
    name_column: Column | None = None
    external_reference_column: Column | None = None
    location_columns: list[Column] = Field(default_factory=list)
    """Joined with ``-`` into the location (e.g. 国家, 省, 市)."""
    title: str | None = None
    questions: list[QuestionColumns] = Field(min_length=1)


def detect(grid: Grid) -> float:
    """Never sniffed: 问卷网 has no known layout, so only ``--tool wenjuan`` picks this reader."""
    return 0.0


def mapping_of(
    raw: dict[str, Any] | None, header: list[str] | None = None, name: str = ""
) -> ColumnMapping:
    """The user's mapping, validated; ``Invalid`` naming each mapping field and value wrong
    and, given the file's ``header``, each column it names that the file lacks — all at once,
    so a mistyped type does not hide a missing column."""
    if raw is None:
        raise Invalid(
            "问卷网 and unrecognised layouts are read through a column mapping: give --columns "
            "FILE (YAML/JSON with header_row, id_column, time_column and questions)",
            "--columns",
            None,
        )
    try:
        return ColumnMapping.model_validate(raw)
    except ValidationError as exc:
        problems = [
            Problem(
                _where(error["loc"]),
                _shown(error.get("input")),
                error["msg"].removeprefix("Value error, "),
            )
            for error in exc.errors()
        ]
        if header is not None:
            problems += _missing(_named(raw), header, _header_row(raw), name)
        raise Invalid(problems) from None


def _shown(value: Any) -> Any:
    """The value an error names: a whole question (a rule between its fields) by its column."""
    if isinstance(value, dict):
        return value.get("column") or value.get("columns")
    return value


def _where(loc: tuple[int | str, ...]) -> str:
    """A pydantic error location as the mapping's path: ``columns.questions[2].separator``."""
    out = "columns"
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def parse(grid: Grid, options: ImportOptions, definition: object | None = None) -> ParsedExport:
    """Read the rows below the mapped header row; ``Invalid`` naming every mapping field that
    does not fit the file before any row is read."""
    if definition is not None:
        name = getattr(definition, "name", "")
        raise Invalid("问卷网 has no definition file: give --columns instead", "--definition", name)
    raw = options.columns
    first = _header_row(raw) if raw is not None else 1
    if first > len(grid.rows):
        raise Invalid(
            f"is past the end of {grid.name} ({len(grid.rows)} rows)", "columns.header_row", first
        )
    header = [c.strip() for c in grid.rows[first - 1]]
    mapping = mapping_of(raw, header, grid.name)
    where = _columns(mapping, header, grid.name)
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
        rid = response.response_id
        if rid and rid in seen:
            reason = f"appears twice (rows {seen[rid]} and {line})"
            problems.append(RowProblem(line, mapping.id_column, rid, reason))
        if problems:
            raw = {h: row[i] for i, h in enumerate(header) if i < len(row) and h}
            export.rejected += [
                RowProblem(p.row, p.field, p.value, p.reason, raw) for p in problems
            ]
            continue
        seen[rid] = line
        export.responses.append(response)
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


def _header_row(raw: dict[str, Any]) -> int:
    """The header row the mapping names, 1 when it names none or no usable one (a bad value
    is reported by the validation; the columns are still checked against row 1)."""
    row = raw.get("header_row", 1) if isinstance(raw, dict) else 1
    return row if isinstance(row, int) and not isinstance(row, bool) and row >= 1 else 1


_COLUMN_KEYS = ("id_column", "time_column", "start_column", "completed_column", "email_column",
                "phone_column", "name_column", "external_reference_column")  # fmt: skip


def _named(raw: Any) -> list[tuple[str, str]]:
    """Every column name a mapping (valid or not) gives, with the mapping field naming it."""
    if not isinstance(raw, dict):
        return []
    wanted = [(key, raw[key]) for key in _COLUMN_KEYS if isinstance(raw.get(key), str)]
    locations = raw.get("location_columns")
    if isinstance(locations, list):
        wanted += [(f"location_columns[{k}]", c) for k, c in enumerate(locations)]
    questions = raw.get("questions")
    for k, q in enumerate(questions if isinstance(questions, list) else []):
        if not isinstance(q, dict):
            continue
        if isinstance(q.get("column"), str):
            wanted.append((f"questions[{k}].column", q["column"]))
        columns = q.get("columns")
        if isinstance(columns, list):
            wanted += [(f"questions[{k}].columns[{j}]", c) for j, c in enumerate(columns)]
    return [(field, c.strip()) for field, c in wanted if isinstance(c, str) and c.strip()]


def _missing(
    wanted: list[tuple[str, str]], header: list[str], header_row: int, name: str
) -> list[Problem]:
    present = set(header)
    listed = ", ".join(h for h in header if h)
    return [
        Problem(
            f"columns.{field}",
            column,
            f"is not a column of header row {header_row} of {name} (columns: {listed})",
        )
        for field, column in wanted
        if column not in present
    ]


def _columns(mapping: ColumnMapping, header: list[str], name: str) -> dict[str, int]:
    """Every column the mapping names → its index; all missing ones refused at once."""
    wanted = _named(mapping.model_dump(exclude_none=True))
    problems = _missing(wanted, header, mapping.header_row, name)
    if problems:
        raise Invalid(problems)
    index: dict[str, int] = {}
    for i, column in enumerate(header):
        index.setdefault(column, i)
    return {column: index[column] for _, column in wanted}


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
