"""A view's result flattened generically into tables, and those tables as CSV and XLSX that a
spreadsheet opens as text where a customer typed a formula."""

from __future__ import annotations

import csv
import datetime as dt
import io

from openpyxl import load_workbook
from pydantic import BaseModel

from cxloop.reports import tables


class Aspect(BaseModel):
    topic: str
    share: float


class Cell(BaseModel):
    slice: dict[str, str | None]
    n: int
    score: float | None
    aspects: list[Aspect]


class Overall(BaseModel):
    n: int
    rows: list[Cell]


class Result(BaseModel):
    metric: str
    since: dt.date | None
    where: list[str]
    cells: list[Cell]
    empty: list[Cell]
    overall: Overall


def _result() -> Result:
    cells = [
        Cell(slice={"region": "华东", "segment": None}, n=12, score=-25.5,
             aspects=[Aspect(topic="配送", share=0.25), Aspect(topic="price", share=0.1)]),
        Cell(slice={"region": "=HYPERLINK(\"http://evil\")", "segment": "vip"}, n=1, score=None,
             aspects=[]),
    ]  # fmt: skip
    return Result(
        metric="nps",
        since=dt.date(2026, 1, 1),
        where=["region=华东", "channel=app"],
        cells=cells,
        empty=[],
        overall=Overall(n=13, rows=cells[:1]),
    )


def test_rows_become_tables_with_nested_slices_as_dotted_columns() -> None:
    found = tables.tables(_result(), about=[("view", "demo")])
    assert list(found) == ["cells", "empty", "overall.rows", tables.ABOUT]
    first = found["cells"][0]
    assert first["slice.region"] == "华东"
    assert first["slice.segment"] is None
    assert first["aspects"] == "配送 0.25; price 0.1"
    assert found["empty"] == []
    about = {row["field"]: row["value"] for row in found[tables.ABOUT]}
    assert about == {
        "view": "demo", "metric": "nps", "since": "2026-01-01",
        "where": "region=华东;channel=app", "overall.n": 13,
    }  # fmt: skip


def test_csv_neutralises_formulas_keeps_numbers_and_chinese() -> None:
    found = tables.tables(_result())
    data = tables.to_csv(found["cells"])
    assert data.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0]["slice.region"] == "华东"
    assert rows[0]["score"] == "-25.5"
    assert rows[1]["slice.region"] == '\'=HYPERLINK("http://evil")'
    assert rows[1]["score"] == ""


def test_xlsx_has_a_sheet_per_table_and_no_formula_cells() -> None:
    book = load_workbook(io.BytesIO(tables.to_xlsx(tables.tables(_result()))))
    assert book.sheetnames == ["cells", "empty", "overall.rows", "about"]
    sheet = book["cells"]
    header = [c.value for c in sheet[1]]
    region = header.index("slice.region")
    values = [row[region].value for row in sheet.iter_rows(min_row=2)]
    assert values == ["华东", '\'=HYPERLINK("http://evil")']
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)
    assert sheet.cell(2, header.index("score") + 1).value == -25.5
    assert [c.value for c in book["empty"][1]] == ["(no rows)"]


def test_sheet_names_are_cut_cleaned_and_unique() -> None:
    long = "a" * 40
    names = tables.sheet_names([long, long + "b", "x/y:z", "About", "about"])
    assert names[long] == "a" * 31
    assert names[long + "b"] == "a" * 29 + "~2"
    assert names["x/y:z"] == "x_y_z"
    assert names["about"] == "about~2"
    assert all(len(v) <= 31 for v in names.values())


def test_an_empty_table_keeps_its_header_and_an_unknown_one_says_no_rows() -> None:
    """An export that matches nothing is not a BOM and a line break alone."""
    found = tables.tables(_result())
    text = tables.to_csv(found["empty"]).decode("utf-8-sig")
    assert text == "slice,n,score,aspects\r\n"
    nested = tables.model_columns(Overall)
    assert nested == ["n", "rows"]
    assert tables.to_csv([]).decode("utf-8-sig") == "(no rows)\r\n"
