"""Any export file read whole into a ``Grid`` of text cells, header rows included.

The bytes decide the format (``PK`` zip = .xlsx, OLE2 = legacy .xls, else delimited text), the
encoding (BOM, UTF-8, GB18030, UTF-16, then cp1252 for Western Windows re-saves; or the one the user
names) and the separator — the same sniffers the import door uses — so a misnamed ``.csv`` or a
问卷星 ``.xls`` read alike. Pure: reads a file, touches no store.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
import zipfile
from pathlib import Path
from typing import Any

from cxloop.errors import Invalid, UnreadableFile
from cxloop.ingest.readers import cell_text, sniff_delimiter, sniff_encoding, sniff_format
from cxloop.surveys.importers.model import Grid

MAX_BYTES = 512 * 1024 * 1024
_MAGIC = (
    (b"\x89PNG", "an image (PNG)"),
    (b"\xff\xd8\xff", "an image (JPEG)"),
    (b"GIF8", "an image (GIF)"),
    (b"RIFF", "an image or media file (RIFF)"),
    (b"%PDF", "a PDF document"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"Rar!", "a RAR archive"),
)
_WESTERN = frozenset("’‘“”„–—…€£¥©®°·«»¿¡×÷§¶•™")
"""Punctuation Windows-1252 text holds besides accented letters (Word and Excel write them)."""


def check_encoding(name: str, field: str = "--encoding") -> str:
    """The codec name as Python knows it, or ``Invalid`` naming the option and the value."""
    try:
        return codecs.lookup(name.strip()).name
    except (LookupError, ValueError):
        raise Invalid(
            "is not an encoding Python knows (e.g. utf-8, cp1252, gb18030, utf-16)", field, name
        ) from None


def read_grid(path: Path, encoding: str | None = None) -> Grid:
    """Every record of the file (the first sheet of a workbook) as text cells, trailing empty
    cells dropped and empty rows kept, so row numbers match the file's records. ``encoding``
    (text files only) replaces the sniffing. Raises ``Invalid`` naming the file and why when
    it cannot be read."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise Invalid(f"{path.name}: cannot be read ({exc.strerror or exc})") from None
    if not data.strip():
        raise Invalid(f"{path.name}: the file is empty")
    if len(data) > MAX_BYTES:
        raise Invalid(f"{path.name}: {len(data):,} bytes is more than an export can hold")
    binary = binary_kind(data[:4096])
    if binary:
        raise Invalid(
            f"is not a survey export: it is {binary}, not a table of responses; download the "
            "responses from the tool as CSV, TSV, XLSX or XLS",
            "file",
            path.name,
        )
    if is_limesurvey_archive(data) or b"<LimeSurveyDocType>Responses" in data[:4096]:
        from cxloop.surveys.importers.lss import responses_grid  # .lsa / .lsr: XML responses

        return responses_grid(path.name, data)
    kind = sniff_format(data[:8], path)
    if kind == "xlsx":
        return Grid(_trim(_xlsx_rows(path)), "xlsx", name=path.name)
    if kind == "xls":
        return Grid(_trim(_xls_rows(path)), "xls", name=path.name)
    return text_grid(data, path.name, encoding)


def binary_kind(head: bytes) -> str | None:
    """What a file that is not text is (an image, a PDF, an archive, "binary data"), else None:
    said before any tool sniffing, so a screenshot saved as ``.csv`` is not sent to ``--tool``.
    Workbooks (zip, OLE2) are read elsewhere; UTF-16 text (with a BOM) holds NULs and is text."""
    if head.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        return None
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF8)):
        return None
    controls = sum(1 for b in head if b < 0x20 and b not in (0x09, 0x0A, 0x0C, 0x0D))
    return "binary data" if controls * 20 > len(head) else None


def is_limesurvey_archive(data: bytes) -> bool:
    """A LimeSurvey ``.lsa`` survey archive (a zip holding ``.lss``/``.lsr``), not a workbook."""
    if not data.startswith(b"PK\x03\x04"):
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return any(n.lower().endswith(".lsr") for n in archive.namelist())
    except (zipfile.BadZipFile, ValueError, OSError):  # a damaged directory: "negative seek"
        return False


def text_grid(data: bytes, name: str = "", encoding: str | None = None) -> Grid:
    """A delimited text export: encoding (unless named) and separator sniffed, parsed by the csv
    module (quoted newlines, ``""`` and separators inside answers are common), a BOM and NULs
    dropped."""
    encoding = _sniff(data[: 1 << 20], name) if encoding is None else check_encoding(encoding)
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


def _sniff(head: bytes, name: str) -> str:
    """UTF-8/UTF-16/GB18030 as the import door sniffs them, then Windows-1252: an export that
    Excel re-saved on a Western Windows (SurveyMonkey, Qualtrics: ``Café``, ``Crème brûlée``)."""
    try:
        return sniff_encoding(head)
    except UnreadableFile as exc:  # neither UTF-8 nor GB18030
        if looks_western(head):
            return "cp1252"
        raise Invalid(
            "is neither UTF-8, Chinese GB18030 nor Western Windows-1252 text (it reads as "
            "nonsense in each): name its encoding with --encoding, e.g. --encoding latin-1",
            "file",
            name,
        ) from exc


def looks_western(head: bytes) -> bool:
    """True when the bytes read as Windows-1252 Latin text: every byte is defined there, the
    bytes over 0x7F stand alone between ASCII letters (``Caf\xe9``; GBK and UTF-8 write
    characters as runs of two or more), and nine in ten of them are Latin letters or the
    punctuation Word and Excel write (’ “ ” – € …)."""
    try:
        text = head.decode("cp1252")
    except UnicodeDecodeError:  # 0x81, 0x8D, 0x8F, 0x90, 0x9D are undefined in cp1252
        return False
    runs = re.findall(rb"[\x80-\xff]+", head)
    if not runs:
        return False
    lone = sum(1 for run in runs if len(run) == 1)
    high = [c for c in text if ord(c) > 0x7F]
    latin = sum(1 for c in high if c in _WESTERN or unicodedata.name(c, "").startswith("LATIN"))
    return lone * 10 >= len(runs) * 8 and latin * 10 >= len(high) * 9


def _xlsx_rows(path: Path) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise Invalid(f"{path.name}: not a readable .xlsx workbook ({exc})") from None
    try:  # read_only parses the sheet lazily: a damaged sheet fails here, not at load
        return [_cells(values) for values in book.worksheets[0].iter_rows(values_only=True)]
    except Exception as exc:
        raise Invalid(f"{path.name}: not a readable .xlsx workbook ({exc})") from None
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
