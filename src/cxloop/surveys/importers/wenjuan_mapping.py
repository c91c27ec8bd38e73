"""The column mapping a user confirms for 问卷网 and unknown layouts (``--columns FILE``): its
shape, and its check against the file's header that names every mistake at once. Pure."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from cxloop.errors import Invalid, Problem
from cxloop.surveys.importers.model import QuestionKind

Column = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
"""A header name as the file writes it (surrounding blanks ignored)."""


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
            problems += _missing(_named(raw), header, header_row_of(raw), name)
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


def header_row_of(raw: dict[str, Any]) -> int:
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


def mapped_columns(mapping: ColumnMapping, header: list[str], name: str) -> dict[str, int]:
    """Every column the mapping names → its index; all missing ones refused at once."""
    wanted = _named(mapping.model_dump(exclude_none=True))
    problems = _missing(wanted, header, mapping.header_row, name)
    if problems:
        raise Invalid(problems)
    index: dict[str, int] = {}
    for i, column in enumerate(header):
        index.setdefault(column, i)
    return {column: index[column] for _, column in wanted}
