"""Read CSV, XLSX, legacy XLS, JSON Lines and Parquet into chunks of strings, any encoding.

Pure: paths in, chunks out. A record the reader cannot make sense of (a broken JSON line, a CSV
line with the wrong number of fields) is handed on as a ``BrokenRecord`` to be quarantined,
never dropped.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import itertools
import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from cxloop.errors import UnreadableFile

FileFormat = Literal["csv", "xlsx", "xls", "jsonl", "json", "parquet"]
ROW_COLUMN = "__row__"
_BAD_NAME = re.compile("[\ud800-\udfff\x00]")
SNIFF_BYTES = 1 << 20


@dataclass(frozen=True)
class BrokenRecord:
    """A record that could not be split into columns; kept whole for the quarantine."""

    row_number: int
    raw: str
    reason: str


@dataclass
class RawChunk:
    """Up to ``chunk_rows`` records as strings (empty string = missing), with their row numbers."""

    frame: pd.DataFrame
    broken: list[BrokenRecord] = field(default_factory=list)


@dataclass(frozen=True)
class SourceInfo:
    path: Path
    format: FileFormat
    encoding: str | None
    delimiter: str | None
    sha256: str


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sniff_format(head: bytes, path: Path) -> FileFormat:
    """Decide the format from the bytes, not the extension (exports are often misnamed)."""
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0"):  # OLE2: Excel 97–2003 (问卷星 still exports it)
        return "xls"
    if head.startswith(b"PAR1"):
        return "parquet"
    text = head.lstrip(codecs.BOM_UTF8).lstrip()
    if text.startswith(b"{"):
        return "jsonl"
    if text.startswith(b"["):
        return "json"
    return "csv"


def sniff_encoding(head: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 by BOM, else UTF-8 or GB18030 by line.

    A line of a GB18030 file that holds Chinese almost never decodes as UTF-8, whereas a UTF-8
    file with a few broken rows decodes everywhere else: so the share of non-ASCII lines that
    fail decides, and the broken rows of a UTF-8 file are quarantined rather than misread.
    """
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    lines = (head[: head.rfind(b"\n") + 1] or head).splitlines()
    non_ascii = failed = 0
    for line in lines:
        if max(line, default=0) < 0x80:
            continue
        non_ascii += 1
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            failed += 1
    if failed == 0 or failed * 2 <= non_ascii:
        return "utf-8"
    # Chinese text in GB18030 is mostly GB2312 pairs (both bytes 0xA1+); Latin-1 or cp1252 text
    # has lone high bytes before ASCII letters, which GB18030 would turn into rare characters.
    high = len(re.findall(rb"[\x80-\xff]", head))
    pairs = len(re.findall(rb"[\xa1-\xf7][\xa1-\xfe]", head))
    if high and 2 * pairs * 10 >= high * 8:
        return "gb18030"
    if failed < 3:  # a few broken rows of a UTF-8 file: they are quarantined as such
        return "utf-8"
    raise UnreadableFile(
        "the file is neither UTF-8 nor Chinese GB18030 (it reads as nonsense in both): "
        "name its encoding, e.g. --encoding cp1252 or --encoding latin-1"
    )


def sniff_delimiter(first_line: str) -> str:
    """The separator of the header line: comma, semicolon, tab or pipe, whichever splits most."""
    counts = {sep: first_line.count(sep) for sep in (",", ";", "\t", "|")}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] > 0 else ","


def describe(path: Path, encoding: str | None = None, *, fingerprint: bool = True) -> SourceInfo:
    """Format, encoding and separator of a file, or ``UnreadableFile`` saying why not.

    ``fingerprint=False`` skips the SHA-256 (a full read) when only the format is wanted."""
    if not path.exists():
        raise UnreadableFile(f"{path}: no such file")
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise UnreadableFile(
                f"{encoding!r} is not an encoding Python knows (e.g. utf-8, gb18030, utf-16)"
            ) from None
    if path.is_dir():
        raise UnreadableFile(f"{path}: is a folder, not a file")
    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
    if not head.strip():
        raise UnreadableFile(f"{path.name}: the file is empty")
    fmt = sniff_format(head, path)
    enc: str | None = None
    delimiter: str | None = None
    if fmt in ("csv", "jsonl", "json"):
        enc = encoding or sniff_encoding(head)
        if fmt == "csv":
            text = head.decode(enc, errors="replace").lstrip("\ufeff")
            lines = [line for line in text.splitlines() if not _is_preamble(line)]
            delimiter = sniff_delimiter(lines[0] if lines else "")
    return SourceInfo(path, fmt, enc, delimiter, file_sha256(path) if fingerprint else "")


def read_chunks(info: SourceInfo, chunk_rows: int) -> Iterator[RawChunk]:
    """Chunks of at most ``chunk_rows`` records; memory stays bounded whatever the file size."""
    readers = {
        "csv": _read_csv,
        "xlsx": _read_xlsx,
        "xls": _read_xls,
        "jsonl": _read_jsonl,
        "json": _read_json_array,
        "parquet": _read_parquet,
    }
    yield from readers[info.format](info, chunk_rows)


def _frame(columns: list[str], rows: list[list[str]], numbers: list[int]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=columns, dtype=object)
    frame[ROW_COLUMN] = numbers
    return frame


def _unique_headers(raw: list[str]) -> list[str]:
    """Blank or repeated headers get a position suffix, so no column is silently overwritten."""
    taken: set[str] = set()
    headers = []
    for index, name in enumerate(raw, start=1):
        name = _BAD_NAME.sub("\ufffd", str(name).strip().lstrip("\ufeff")) or f"column_{index}"
        candidate, n = name, 1
        while candidate in taken:  # `name,name,name_2` → name, name_2, name_2_2
            n += 1
            candidate = f"{name}_{n}"
        taken.add(candidate)
        headers.append(candidate)
    return headers


_SEPARATORS = (",", ";", "\t", "|")


def _is_preamble(line: str) -> bool:
    """A ``# …`` line with no separator before the header (analytics exports write some);
    a header such as ``#,name`` (a row-number column) has one and is kept."""
    line = line.lstrip("\ufeff")
    return line.startswith("#") and not any(sep in line for sep in _SEPARATORS)


def _read_csv(info: SourceInfo, chunk_rows: int) -> Iterator[RawChunk]:
    encoding = info.encoding or "utf-8"
    csv.field_size_limit(1 << 30)  # a long cell is checked against its field's limit, not split
    with info.path.open(encoding=encoding, errors="surrogateescape", newline="") as handle:
        first = handle.readline()
        skipped = 0
        while first and _is_preamble(first):
            skipped, first = skipped + 1, handle.readline()
        lines = itertools.chain([first] if first else [], handle)
        reader = csv.reader(lines, delimiter=info.delimiter or ",")
        try:
            header = next(reader)
        except StopIteration:
            raise UnreadableFile(f"{info.path.name}: the file has no header row") from None
        except csv.Error as exc:
            raise UnreadableFile(f"{info.path.name}: the header row is not CSV ({exc})") from None
        columns = _unique_headers(header)
        width = len(columns)
        rows: list[list[str]] = []
        numbers: list[int] = []
        broken: list[BrokenRecord] = []
        line = skipped + reader.line_num
        while True:
            start = line + 1
            try:
                record = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                line = skipped + reader.line_num
                broken.append(BrokenRecord(start, "", f"is not valid CSV ({exc})"))
                continue
            line = skipped + reader.line_num
            if not record or (len(record) == 1 and not record[0].strip()):
                continue
            if len(record) != width:
                if len(record) > width and not any(cell.strip() for cell in record[width:]):
                    record = record[:width]
                else:
                    broken.append(
                        BrokenRecord(
                            start,
                            info.delimiter.join(record) if info.delimiter else str(record),
                            f"has {len(record)} fields but the header has {width}",
                        )
                    )
                    continue
            rows.append(record)
            numbers.append(start)
            if len(rows) >= chunk_rows:
                yield RawChunk(_frame(columns, rows, numbers), broken)
                rows, numbers, broken = [], [], []
        yield RawChunk(_frame(columns, rows, numbers), broken)  # header-only files too


def cell_text(value: Any) -> str:
    """Spreadsheet and JSON values as the text a user typed (integral floats lose the .0)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _read_xlsx(info: SourceInfo, chunk_rows: int) -> Iterator[RawChunk]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(info.path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise UnreadableFile(f"{info.path.name}: not a readable .xlsx workbook ({exc})") from None
    try:
        rows = book.worksheets[0].iter_rows(values_only=True)
        yield from _sheet_chunks(info, rows, chunk_rows)
    finally:
        book.close()


def _read_xls(info: SourceInfo, chunk_rows: int) -> Iterator[RawChunk]:
    """Legacy BIFF workbooks through calamine (Rust): no Excel, no conversion step."""
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(info.path))
        sheet = book.get_sheet_by_index(0)
        rows = sheet.iter_rows()
    except (CalamineError, OSError, ValueError) as exc:
        raise UnreadableFile(
            f"{info.path.name}: not a readable .xls workbook ({exc}); if it is password "
            "protected, open it and save it without a password"
        ) from None
    try:
        yield from _sheet_chunks(info, rows, chunk_rows)
    finally:
        book.close()


def _sheet_chunks(
    info: SourceInfo, rows_iter: Iterator[Any], chunk_rows: int
) -> Iterator[RawChunk]:
    """The first sheet's rows: the first non-empty row is the header, empty rows are skipped."""
    columns: list[str] | None = None
    rows: list[list[str]] = []
    numbers: list[int] = []
    for number, values in enumerate(rows_iter, start=1):
        cells = [cell_text(v) for v in values]
        if columns is None:
            if any(c.strip() for c in cells):
                while cells and not cells[-1].strip():
                    cells.pop()
                columns = _unique_headers(cells)
            continue
        if not any(c.strip() for c in cells):
            continue
        cells = (cells + [""] * len(columns))[: len(columns)]
        rows.append(cells)
        numbers.append(number)
        if len(rows) >= chunk_rows:
            yield RawChunk(_frame(columns, rows, numbers))
            rows, numbers = [], []
    if columns is None:
        raise UnreadableFile(f"{info.path.name}: the first sheet has no header row")
    yield RawChunk(_frame(columns, rows, numbers))


def _read_jsonl(info: SourceInfo, chunk_rows: int) -> Iterator[RawChunk]:
    encoding = info.encoding or "utf-8"
    records: list[dict[str, str]] = []
    numbers: list[int] = []
    broken: list[BrokenRecord] = []

    def flush() -> RawChunk:
        columns: dict[str, None] = {}
        for record in records:
            columns.update(dict.fromkeys(record))
        names = list(columns)
        rows = [[record.get(name, "") for name in names] for record in records]
        return RawChunk(_frame(_unique_headers(names), rows, numbers), broken)

    with info.path.open(encoding=encoding, errors="surrogateescape") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                broken.append(
                    BrokenRecord(number, line.rstrip("\n"), f"is not valid JSON ({exc.msg})")
                )
                continue
            if not isinstance(value, dict):
                broken.append(BrokenRecord(number, line.rstrip("\n"), "is not a JSON object"))
                continue
            records.append({str(k): cell_text(v) for k, v in value.items()})
            numbers.append(number)
            if len(records) >= chunk_rows:
                yield flush()
                records, numbers, broken = [], [], []
    if records or broken:
        yield flush()


def _read_json_array(info: SourceInfo, chunk_rows: int) -> Iterator[RawChunk]:
    """A JSON array of objects (what many APIs export); read whole, so big data belongs in
    JSON Lines."""
    try:
        data = json.loads(info.path.read_text(encoding=info.encoding or "utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UnreadableFile(f"{info.path.name}: not valid JSON ({exc})") from None
    if not isinstance(data, list):
        raise UnreadableFile(f"{info.path.name}: JSON must be an array of objects")
    for start in range(0, max(len(data), 1), chunk_rows):
        part = data[start : start + chunk_rows]
        records = [(n, r) for n, r in enumerate(part, start=start + 1) if isinstance(r, dict)]
        broken = [
            BrokenRecord(n, json.dumps(r, ensure_ascii=False)[:500], "is not a JSON object")
            for n, r in enumerate(part, start=start + 1)
            if not isinstance(r, dict)
        ]
        columns: dict[str, None] = {}
        for _, record in records:
            columns.update(dict.fromkeys(str(k) for k in record))
        names = list(columns)
        rows = [[cell_text(record.get(name)) for name in names] for _, record in records]
        yield RawChunk(_frame(_unique_headers(names), rows, [n for n, _ in records]), broken)


def _read_parquet(info: SourceInfo, chunk_rows: int) -> Iterator[RawChunk]:
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(info.path)
    except Exception as exc:  # pyarrow raises ArrowInvalid/OSError for damaged files
        raise UnreadableFile(f"{info.path.name}: not a readable Parquet file ({exc})") from None
    offset = 0
    for batch in parquet.iter_batches(batch_size=chunk_rows):
        data = batch.to_pylist()
        names = batch.schema.names
        rows = [[cell_text(record[name]) for name in names] for record in data]
        numbers = list(range(offset + 1, offset + len(rows) + 1))
        offset += len(rows)
        yield RawChunk(_frame(_unique_headers(list(names)), rows, numbers))


def read_records(records: list[dict[str, Any]]) -> Iterator[RawChunk]:
    """API batches go through the same path as files: one chunk, rows numbered from 1."""
    if not records:
        return
    columns: dict[str, None] = {}
    for record in records:
        columns.update(dict.fromkeys(str(k) for k in record))
    names = list(columns)
    rows = [[cell_text(record.get(name)) for name in names] for record in records]
    yield RawChunk(_frame(_unique_headers(names), rows, list(range(1, len(rows) + 1))))


def records_sha256(records: list[dict[str, Any]]) -> str:
    body = json.dumps(records, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(body.encode("utf-8", errors="surrogatepass")).hexdigest()


__all__ = [
    "ROW_COLUMN",
    "BrokenRecord",
    "RawChunk",
    "SourceInfo",
    "describe",
    "read_chunks",
    "read_records",
    "records_sha256",
]
