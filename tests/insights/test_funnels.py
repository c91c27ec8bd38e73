"""Ordered funnels: order, window, best entry, segments, intervals, and the e-commerce story."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cxloop.errors import Invalid
from cxloop.insights.funnels import FUNNEL_COLUMNS, funnel
from cxloop.metrics import intervals

EVENTS_FILE = (
    Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "synthetic_ecom_events.csv.gz"
)
STEPS = ["view", "cart", "buy"]


def _log(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["customer_id", "event_type", "occurred_at"]).assign(
        occurred_at=lambda frame: pd.to_datetime(frame["occurred_at"])
    )


def test_steps_must_happen_in_order() -> None:
    log = _log(
        [
            ("a", "view", "2024-01-01 10:00"),
            ("a", "cart", "2024-01-01 10:01"),
            ("a", "buy", "2024-01-01 10:02"),
            ("b", "cart", "2024-01-01 09:00"),  # cart before view does not count
            ("b", "view", "2024-01-01 09:05"),
            ("c", "view", "2024-01-01 08:00"),
            ("c", "buy", "2024-01-01 08:10"),  # skipped the cart: stays at step 1
        ]
    )
    table = funnel(log, steps=STEPS).table
    assert table["n"].tolist() == [3, 1, 1]
    assert table["drop_off"].tolist() == [0, 2, 0]
    assert table["conversion_from_first"].tolist() == pytest.approx([1, 1 / 3, 1 / 3])
    assert list(table.columns) == list(FUNNEL_COLUMNS)


def test_a_step_outside_the_window_from_entry_does_not_count() -> None:
    log = _log(
        [
            ("a", "view", "2024-01-01 00:00"),
            ("a", "cart", "2024-01-05 00:00"),
            ("a", "buy", "2024-01-08 00:01"),  # 7 days 1 minute after entry
        ]
    )
    assert funnel(log, steps=STEPS, window="7D").table["n"].tolist() == [1, 1, 0]
    assert funnel(log, steps=STEPS, window=None).table["n"].tolist() == [1, 1, 1]


def test_a_later_entry_can_complete_the_funnel_and_its_times_are_reported() -> None:
    log = _log(
        [
            ("a", "view", "2024-01-01 00:00"),  # this entry times out before the buy
            ("a", "view", "2024-02-01 00:00"),
            ("a", "cart", "2024-02-01 00:10"),
            ("a", "buy", "2024-02-01 01:10"),
        ]
    )
    table = funnel(log, steps=STEPS, window="1D").table
    assert table["n"].tolist() == [1, 1, 1]
    assert table["median_seconds_from_previous"].tolist()[1:] == [600.0, 3600.0]


def test_intervals_are_wilson_on_user_counts() -> None:
    rows = [(f"u{i}", "view", "2024-01-01 00:00") for i in range(10)]
    rows += [(f"u{i}", "cart", "2024-01-01 00:01") for i in range(4)]
    table = funnel(_log(rows), steps=["view", "cart"]).table
    share, low, high = intervals.wilson_interval([4], [10])
    assert table.loc[1, ["conversion_from_previous", "ci_low", "ci_high"]].tolist() == [
        share[0],
        low[0],
        high[0],
    ]
    assert table.loc[0, ["conversion_from_previous", "ci_low"]].isna().all()


def test_segments_from_a_column_use_the_entering_event_and_from_a_mapping_the_user() -> None:
    log = _log(
        [
            ("a", "view", "2024-01-01 00:00"),
            ("a", "cart", "2024-01-01 00:01"),
            ("b", "view", "2024-01-01 00:00"),
            ("c", "view", "2024-01-01 00:00"),
            ("c", "cart", "2024-01-01 00:05"),
        ]
    ).assign(tier=["gold", "silver", "silver", "gold", "gold"])
    by_column = funnel(log, steps=["view", "cart"], by="tier")
    assert by_column.table[["segment", "step", "n"]].values.tolist() == [
        ["gold", "view", 2],
        ["gold", "cart", 2],
        ["silver", "view", 1],
        ["silver", "cart", 0],
    ]
    assert by_column.conversion("gold") == 1.0
    mapping = pd.DataFrame({"customer_id": ["a", "b"], "plan": ["pro", "pro"]})
    by_mapping = funnel(log, steps=["view", "cart"], by=mapping)
    assert by_mapping.by == "plan"
    assert by_mapping.table[["segment", "n"]].values.tolist() == [
        ["(missing)", 1],
        ["(missing)", 1],
        ["pro", 2],
        ["pro", 1],
    ]
    assert any("without a segment" in caveat for caveat in by_mapping.caveats)


def test_bad_funnel_input_names_field_value_and_reason() -> None:
    log = _log([("a", "view", "2024-01-01 00:00")])
    with pytest.raises(Invalid) as caught:
        funnel(log, steps=["view"], window="soon")
    assert {p.field for p in caught.value.problems} == {"steps"}
    with pytest.raises(Invalid) as caught:
        funnel(log, steps=["view", "cart"], window="soon")
    assert (caught.value.problems[0].field, caught.value.problems[0].value) == ("window", "soon")
    with pytest.raises(Invalid, match="never occurs"):
        funnel(log, steps=["cart", "view"])
    with pytest.raises(Invalid) as caught:
        funnel(log, steps=["view", "view"], user_col="user", by="segment")
    fields = {(p.field, p.value) for p in caught.value.problems}
    assert fields == {("user", None), ("steps", "view"), ("by", "segment")}
    bad_time = log.assign(occurred_at=["someday"])
    with pytest.raises(Invalid) as caught:
        funnel(bad_time, steps=["view", "cart"])
    assert caught.value.problems[0].value == "someday"


@pytest.fixture(scope="module")
def ecom() -> pd.DataFrame:
    if not EVENTS_FILE.exists():
        pytest.skip(f"synthetic e-commerce events not found at {EVENTS_FILE} (shared/data)")
    return pd.read_csv(EVENTS_FILE)


def test_new_users_convert_less_than_loyal_ones_in_the_ecom_funnel(ecom: pd.DataFrame) -> None:
    steps = [
        "catalog",
        "product_view",
        "add_to_cart",
        "cart",
        "shipping_details",
        "payment_details",
        "purchase",
    ]
    assert set(steps) <= set(ecom["event"])
    result = funnel(
        ecom,
        steps=steps,
        user_col="user_id",
        event_col="event",
        time_col="timestamp",
        window="7D",
        by="user_lifecycle",
    )
    assert result.conversion("new") < result.conversion("loyal")
    carts = result.table[result.table["step"] == "add_to_cart"].set_index("segment")
    # the gap is clear well before the sparse last step: the intervals do not overlap
    assert carts.loc["new", "first_ci_high"] < carts.loc["loyal", "first_ci_low"]
    assert result.n == ecom["user_id"].nunique()
