"""A view's result as named tables, and those tables as CSV or XLSX bytes.

Generic on purpose: every dashboard's ``…Result`` is a pydantic model, so its lists of row
models become one table each (nested models and dicts become dotted columns, lists of plain
values one ``;``-joined cell) and its plain fields one ``about`` table; a new view needs no
code here. Every text cell passes ``csv_cells.safe_cell`` (formula injection).
"""

from __future__ import annotations

import csv
import datetime as dt
import enum
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, get_args

from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from pydantic import BaseModel

from cxloop.csv_cells import safe_cell

Table = list[dict[str, Any]]
Tables = dict[str, Table]
NO_ROWS = "(no rows)"
"""The one line of an empty table whose columns are unknown (CSV and XLSX alike)."""
ABOUT = "about"
"""The table of a result's plain fields (what produced the numbers: filters, method, n…)."""
SHEET_NAME_MAX = 31


class Rows(list[dict[str, Any]]):
    """An empty table that still knows its columns (from its row model), so an export that
    matches nothing keeps its header row."""

    def __init__(self, header: Sequence[str]) -> None:
        super().__init__()
        self.header = list(header)


def model_columns(model: type[BaseModel], prefix: str = "") -> list[str]:
    """The columns ``flat_row`` gives a row of ``model`` (nested models dotted; a dict field's
    keys vary by row, so it stands as one column)."""
    out: list[str] = []
    for name, spec in model.model_fields.items():
        inner = spec.annotation
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            out += model_columns(inner, f"{prefix}{name}.")
        else:
            out.append(f"{prefix}{name}")
    return out


def _plain(value: Any) -> Any:
    """A cell value: numbers, text, booleans and None as they are; dates ISO; enums their
    value; lists of plain values joined with ``;``."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, list | tuple | set | frozenset):
        return ";".join(str(_plain(v)) for v in value)
    return value


def _flatten(value: Any, prefix: str, out: dict[str, Any]) -> None:
    if isinstance(value, BaseModel):
        value = {name: getattr(value, name) for name in type(value).model_fields}
    if isinstance(value, Mapping):
        if not value and prefix:
            out[prefix] = None
        for key, inner in value.items():
            _flatten(inner, f"{prefix}.{key}" if prefix else str(key), out)
        return
    if isinstance(value, list | tuple) and any(isinstance(v, BaseModel | Mapping) for v in value):
        out[prefix] = "; ".join(_brief(v) for v in value)  # rows inside a row: one cell
        return
    out[prefix] = _plain(value)


def _brief(value: Any) -> str:
    """A row inside a row as one short text: its plain values, space-separated."""
    cells = flat_row(value).values()
    return " ".join(_short(c) for c in cells if c is not None and c != "")


def _short(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def flat_row(value: Any) -> dict[str, Any]:
    """One row model (or mapping) as column → cell, nested slices as dotted columns."""
    out: dict[str, Any] = {}
    _flatten(value, "", out)
    return out


def _is_rows(value: Any) -> bool:
    return isinstance(value, list | tuple) and all(
        isinstance(v, BaseModel | Mapping) for v in value
    )


def tables(result: BaseModel, *, about: Sequence[tuple[str, Any]] = ()) -> Tables:
    """``result``'s row lists as tables (named after their field; a nested model's row lists
    as ``<field>.<inner>``), then ``about``: ``about`` pairs and the plain fields."""
    found: Tables = {}
    plain: list[tuple[str, Any]] = list(about)
    _collect(result, "", found, plain)
    found[ABOUT] = [{"field": k, "value": v} for k, v in plain]
    return found


def _collect(model: BaseModel, prefix: str, found: Tables, plain: list[tuple[str, Any]]) -> None:
    for name in type(model).model_fields:
        value = getattr(model, name)
        key = f"{prefix}{name}"
        if _is_rows(value) and value:
            found[key] = [flat_row(v) for v in value]
        elif isinstance(value, list | tuple) and not value and _holds_models(model, name):
            found[key] = Rows(_row_columns(model, name))
        elif isinstance(value, BaseModel):
            _collect(value, f"{key}.", found, plain)
        else:
            row = flat_row({key: value})
            plain.extend(row.items())


def _row_columns(model: BaseModel, name: str) -> list[str]:
    """The columns of field ``name``'s row model (the first model in its annotation)."""
    annotation = type(model).model_fields[name].annotation
    for arg in get_args(annotation):
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return model_columns(arg)
    return []


def _holds_models(model: BaseModel, name: str) -> bool:
    """Whether field ``name`` is declared as a list of models (an empty one is still a table)."""
    annotation = type(model).model_fields[name].annotation
    return any(isinstance(arg, type) and issubclass(arg, BaseModel) for arg in get_args(annotation))


def columns(rows: Iterable[Mapping[str, Any]]) -> list[str]:
    """Every column of ``rows`` in first-seen order (rows may differ in their slices); an empty
    ``Rows`` its known header."""
    if isinstance(rows, Rows) and not rows:
        return rows.header
    seen: dict[str, None] = {}
    for row in rows:
        for key in row:
            seen.setdefault(key, None)
    return list(seen)


def to_csv(rows: Table) -> bytes:
    """One table as UTF-8 CSV with a BOM (Excel opens Chinese text right), cells made safe;
    no rows: the header when the columns are known, else one line ``(no rows)``."""
    out = io.StringIO()
    header = columns(rows)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header or [NO_ROWS])
    for row in rows:
        writer.writerow(["" if row.get(c) is None else safe_cell(row.get(c)) for c in header])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def sheet_names(names: Iterable[str]) -> dict[str, str]:
    """Each table's sheet name: at most 31 characters, without ``[]:*?/\\``, unique."""
    used: set[str] = set()
    out: dict[str, str] = {}
    for name in names:
        base = "".join("_" if c in "[]:*?/\\" else c for c in name)[:SHEET_NAME_MAX] or "sheet"
        candidate, number = base, 2
        while candidate.lower() in used:
            suffix = f"~{number}"
            candidate, number = base[: SHEET_NAME_MAX - len(suffix)] + suffix, number + 1
        used.add(candidate.lower())
        out[name] = candidate
    return out


def to_xlsx(found: Tables) -> bytes:
    """Every table on its own sheet (header row bold-free, frozen), cells made safe."""
    book = Workbook()
    book.remove(book.active)
    names = sheet_names(found)
    for name, rows in found.items():
        sheet = book.create_sheet(names[name])
        header = columns(rows) if rows else []  # an empty sheet says so in words
        sheet.append(header or [NO_ROWS])
        for row in rows:
            sheet.append([_cell(row.get(c)) for c in header])
        sheet.freeze_panes = "A2"
        for index, column in enumerate(header, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = min(
                40, max(8, len(column) + 2)
            )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _cell(value: Any) -> Any:
    value = safe_cell(value)
    if isinstance(value, str) and len(value) > 32_767:  # Excel's cell limit
        return value[:32_760] + "…"
    return value
