"""Readers: formats and encodings sniffed from the bytes, nothing dropped silently."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from cxloop.errors import UnreadableFile
from cxloop.ingest.readers import ROW_COLUMN, describe, read_chunks

HEADER = "feedback_id,channel,created_at,text\n"
ROWS = "1,review,2026-01-01,送货很快\n2,review,2026-01-02,客服态度很差\n"


def _read(path: Path, chunk_rows: int = 1000) -> tuple[pd.DataFrame, list]:
    info = describe(path)
    chunks = list(read_chunks(info, chunk_rows))
    frame = pd.concat([c.frame for c in chunks], ignore_index=True)
    broken = [b for c in chunks for b in c.broken]
    return frame, broken


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "utf-16"])
def test_csv_encodings_are_detected(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes((HEADER + ROWS).encode(encoding))
    frame, broken = _read(path)
    assert broken == []
    assert list(frame.columns) == ["feedback_id", "channel", "created_at", "text", ROW_COLUMN]
    assert list(frame["text"]) == ["送货很快", "客服态度很差"]
    assert list(frame[ROW_COLUMN]) == [2, 3]


def test_a_utf8_file_with_one_broken_row_stays_utf8(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    good = (HEADER + ROWS * 20).encode()
    path.write_bytes(good + b"99,review,2026-01-03,bad \xff\xfe bytes\n")
    info = describe(path)
    assert info.encoding == "utf-8"
    frame, _ = _read(path)
    assert len(frame) == 41 and "\udcff" in frame["text"].iloc[-1]


def test_semicolon_csv_and_quoted_newlines(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text(
        'id;channel;created_at;text\n1;chat;2026-01-01;"two\nlines; and ""quotes"""\n'
        "2;chat;2026-01-02;next\n",
        encoding="utf-8",
    )
    frame, _ = _read(path)
    assert frame["text"].iloc[0] == 'two\nlines; and "quotes"'
    assert list(frame[ROW_COLUMN]) == [2, 4]


def test_a_csv_line_with_too_many_fields_is_handed_on_as_broken(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text(
        HEADER + "1,review,2026-01-01,ok\n2,review,2026-01-02,a,b,c\n", encoding="utf-8"
    )
    frame, broken = _read(path)
    assert len(frame) == 1
    assert broken[0].row_number == 3 and "has 6 fields but the header has 4" in broken[0].reason


def test_xlsx_jsonl_and_parquet_read_alike(tmp_path: Path) -> None:
    data = pd.DataFrame(
        {
            "feedback_id": ["1", "2"],
            "channel": ["survey", "review"],
            "nps": [9, 3],
            "created_at": ["2026-01-01", "2026-01-02"],
        }
    )
    data.to_excel(tmp_path / "f.xlsx", index=False)
    data.to_parquet(tmp_path / "f.parquet")
    (tmp_path / "f.jsonl").write_text(
        "\n".join(json.dumps(r) for r in data.to_dict("records")) + "\n{broken\n", encoding="utf-8"
    )
    for name in ("f.xlsx", "f.parquet", "f.jsonl"):
        frame, broken = _read(tmp_path / name)
        assert list(frame["nps"]) == ["9", "3"], name
        assert list(frame["channel"]) == ["survey", "review"], name
    _, broken = _read(tmp_path / "f.jsonl")
    assert broken[0].row_number == 3 and "not valid JSON" in broken[0].reason


def test_format_is_sniffed_not_taken_from_the_extension(tmp_path: Path) -> None:
    path = tmp_path / "really_excel.csv"
    pd.DataFrame({"a": [1]}).to_excel(path, index=False)
    assert describe(path).format == "xlsx"


def test_chunks_bound_memory(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text(
        HEADER + "".join(f"{i},chat,2026-01-01,t\n" for i in range(2500)), encoding="utf-8"
    )
    sizes = [len(c.frame) for c in read_chunks(describe(path), 1000)]
    assert sizes == [1000, 1000, 500]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"\xd0\xcf\x11\xe0rest", "not a readable .xls"),
        (b"PK\x03\x04broken", "xlsx"),
    ],
)
def test_unreadable_files_fail_with_a_clear_message(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(content)
    with pytest.raises(UnreadableFile, match=message):
        _read(path)


def test_a_missing_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFile, match="no such file"):
        describe(tmp_path / "nope.csv")
