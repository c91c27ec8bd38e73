"""Any export file read whole into a ``Grid`` of text cells, header rows included.

The bytes decide the format (``PK`` zip = .xlsx, OLE2 = legacy .xls, else delimited text), the
encoding (BOM, UTF-8, GB18030, UTF-16) and the separator — the same sniffers the import door uses —
so a misnamed ``.csv`` or a 问卷星 ``.xls`` read alike. Pure: reads a file, touches no store.
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path
from typing import Any

from cxloop.errors import Invalid
from cxloop.ingest.readers import cell_text, sniff_delimiter, sniff_encoding, sniff_format
from cxloop.surveys.importers.model import Grid

MAX_BYTES = 512 * 1024 * 1024


def read_grid(path: Path) -> Grid:
    """Every record of the file (the first sheet of a workbook) as text cells, trailing empty
    cells dropped and empty rows kept, so row numbers match the file's records. Raises
    ``Invalid`` naming the file and why when it cannot be read."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise Invalid(f"{path.name}: cannot be read ({exc.strerror or exc})") from None
    if not data.strip():
        raise Invalid(f"{path.name}: the file is empty")
    if len(data) > MAX_BYTES:
        raise Invalid(f"{path.name}: {len(data):,} bytes is more than an export can hold")
    if is_limesurvey_archive(data) or b"<LimeSurveyDocType>Responses" in data[:4096]:
        from cxloop.surveys.importers.lss import responses_grid  # .lsa / .lsr: XML responses

        return responses_grid(path.name, data)
    kind = sniff_format(data[:8], path)
    if kind == "xlsx":
        return Grid(_trim(_xlsx_rows(path)), "xlsx", name=path.name)
    if kind == "xls":
        return Grid(_trim(_xls_rows(path)), "xls", name=path.name)
    return text_grid(data, path.name)


def is_limesurvey_archive(data: bytes) -> bool:
    """A LimeSurvey ``.lsa`` survey archive (a zip holding ``.lss``/``.lsr``), not a workbook."""
    if not data.startswith(b"PK\x03\x04"):
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return any(n.lower().endswith(".lsr") for n in archive.namelist())
    except zipfile.BadZipFile:
        return False


def text_grid(data: bytes, name: str = "") -> Grid:
    """A delimited text export: encoding and separator sniffed, parsed by the csv module (quoted
    newlines, ``""`` and separators inside answers are common), a BOM and NULs dropped."""
    try:
        encoding = sniff_encoding(data[: 1 << 20])
    except Exception as exc:  # UnreadableFile: neither UTF-8 nor GB18030
        raise Invalid(f"{name}: {exc}") from None
    text = data.decode(encoding, errors="replace").lstrip("\ufeff").replace("\x00", "")
    first = text.split("\n", 1)[0]
    delimiter = sniff_delimiter(first)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        rows = [list(row) for row in reader]
    except csv.Error as exc:
        raise Invalid(f"{name}: not a readable delimited file ({exc})") from None
    return Grid(
        _trim(rows),
        "tsv" if delimiter == "\t" else "csv",
        encoding=encoding,
        delimiter=delimiter,
        name=name,
    )


def _xlsx_rows(path: Path) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise Invalid(f"{path.name}: not a readable .xlsx workbook ({exc})") from None
    try:
        return [_cells(values) for values in book.worksheets[0].iter_rows(values_only=True)]
    finally:
        book.close()


def _xls_rows(path: Path) -> list[list[str]]:
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(path))
        rows = book.get_sheet_by_index(0).to_python()
    except (CalamineError, OSError, ValueError) as exc:
        raise Invalid(
            f"{path.name}: not a readable .xls workbook ({exc}); if it is password protected, "
            "open it and save it without a password"
        ) from None
    return [_cells(values) for values in rows]


def _cells(values: Any) -> list[str]:
    """Spreadsheet values as typed text: ``9.0`` → ``9``, a date cell → ``2024-03-05 14:02:00``."""
    return [cell_text(v).strip("\r") for v in values]


def _trim(rows: list[list[str]]) -> list[list[str]]:
    """Drop trailing empty cells of each row and wholly empty rows at the end (LimeSurvey ends
    with an empty line; legacy Qualtrics rows end with a separator)."""
    out = []
    for row in rows:
        cells = list(row)
        while cells and not cells[-1].strip():
            cells.pop()
        out.append(cells)
    while out and not out[-1]:
        out.pop()
    return out
