"""CSV and Excel cells a spreadsheet opens as text: formula-like texts get a ``'`` (OWASP), plain
numbers stay numbers, and the target-list files (CSV and Excel) use the same rule."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from cxloop.act import exports
from cxloop.csv_cells import safe_cell, safe_row


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
        ("+1 to the above", "'+1 to the above"),
        ("-5 stars", "'-5 stars"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=cmd", "'\t=cmd"),
        ("\r=cmd", "'\r=cmd"),
        ("-1+cmd|' /C calc'!A0", "'-1+cmd|' /C calc'!A0"),
        ("+A1", "'+A1"),
        ("送得快 =)", "送得快 =)"),  # only the first character matters
        ("", ""),
    ],
)
def test_formula_like_texts_get_a_quote(value: str, shown: str) -> None:
    assert safe_cell(value) == shown


NUMBERS = ["-5", "+3", "-0.25", "-.5", "1e5", "-2E-3", -5, 9.5, None, True]
PHONES = ["+86 138 0013 8000", "+1 (555) 010-9999", "-", "\t42"]


@pytest.mark.parametrize("value", [*NUMBERS, *PHONES])
def test_numbers_and_phone_numbers_stay_as_they_are(value: object) -> None:
    assert safe_cell(value) == value


def test_a_row_is_made_safe_value_by_value() -> None:
    assert safe_row({"text": "=1+1", "nps": -1, "id": "-7"}) == {
        "text": "'=1+1",
        "nps": -1,
        "id": "-7",
    }


def _members() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["c-1", "c-2"],
            "segment": ['=cmd|" /C calc"!A0', "gold"],
            "value": [-5.0, 12.5],
            "topics": [["delivery", "@price"], []],
        }
    )


def test_target_list_csv_defangs_text_and_keeps_numbers() -> None:
    rows = list(csv.DictReader(io.StringIO(exports.to_csv(_members()))))
    assert rows[0]["segment"] == '\'=cmd|" /C calc"!A0'
    assert rows[0]["topics"] == "delivery;@price"  # starts with a letter: left alone
    assert rows[0]["value"] == "-5.0" and rows[1]["segment"] == "gold"


def test_target_list_xlsx_holds_no_formula(tmp_path: Path) -> None:
    path = tmp_path / "list.xlsx"
    exports.write_xlsx(_members(), path, sheet="members", about=[("name", "=evil()")])
    book = load_workbook(path)
    cells = [c for sheet in book for row in sheet.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert book["members"]["B2"].value == '\'=cmd|" /C calc"!A0'
    assert book["members"]["C2"].value == -5
    assert book["about"]["B2"].value == "'=evil()"
