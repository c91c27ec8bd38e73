"""How numbers read in CLI tables (``cxloop.cli.display``)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from cxloop.cli import display
from cxloop.config import Settings


@pytest.mark.parametrize(
    ("value", "period", "label"),
    [
        (pd.Timestamp("2025-10-01"), "month", "2025-10"),
        (pd.Timestamp("2025-10-01"), "quarter", "2025-Q4"),
        (pd.Timestamp("2025-10-20"), "week", "2025-W43"),
        (pd.Timestamp("2024-12-30"), "week", "2025-W01"),  # ISO year, not calendar year
        (dt.date(2025, 10, 31), "day", "2025-10-31"),
        ("2026-03-01", "quarter", "2026-Q1"),
        (pd.NaT, "month", "–"),
    ],
)
def test_periods_read_as_their_names(value: object, period: str, label: str) -> None:
    assert display.period_label(value, period) == label


@pytest.mark.parametrize(
    ("value", "currency", "shown"),
    [
        (1234.5, "CNY", "¥1,234.50"),
        (-12, "USD", "-$12.00"),
        (12.5, "chf", "12.50 CHF"),
        (float("nan"), "CNY", "–"),
        (None, "EUR", "–"),
    ],
)
def test_money_carries_its_currency(value: object, currency: str, shown: str) -> None:
    assert display.money(value, currency) == shown


def test_cells_round_shares_pvalues_and_counts() -> None:
    assert display.cell("share_easy", 0.6251) == "62.5%"
    assert display.cell("q_value", 0.00001) == "<0.001"
    assert display.cell("mean", 3.14159) == "3.14"
    assert display.cell("n", np.int64(12345)) == "12,345"
    assert display.cell("flag", True) == "yes"
    assert display.count(7, small=True) == "7 *" and display.count(70) == "70"
    assert display.number(27.777, 1, signed=True) == "+27.8"
    assert display.shown_columns(["n", "total", "squares", "share_easy"]) == ["n", "share_easy"]


def test_the_currency_setting_is_an_iso_code() -> None:
    assert Settings().currency == "CNY"
    assert Settings(currency="USD").currency == "USD"
    with pytest.raises(ValueError, match="currency"):
        Settings(currency="yuan")
