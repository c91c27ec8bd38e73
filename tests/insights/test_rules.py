"""Association rules: hand-computed support/confidence/lift, sparse input, helpers, bad input."""

from __future__ import annotations

import doctest
from pathlib import Path

import ibis
import pandas as pd
import pytest

from cxloop.errors import Invalid
from cxloop.insights import rules as rules_module
from cxloop.insights.rules import COLUMNS, association_rules, order_baskets, topic_baskets

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"

# Ten feedback baskets. Counts by hand: slow 6, cold 5, rude 3, price 1;
# {slow, cold} 4, {slow, rude} 2, {cold, rude} 1, {slow, cold, rude} 1.
BASKETS = {
    1: ["slow", "cold"],
    2: ["slow", "cold"],
    3: ["slow", "cold", "rude"],
    4: ["slow", "cold"],
    5: ["slow", "rude"],
    6: ["slow"],
    7: ["cold"],
    8: ["rude"],
    9: ["price"],
    10: [],  # a basket whose only row has no item: not a basket at all
}


def _pairs() -> pd.DataFrame:
    rows = [(basket, item) for basket, items in BASKETS.items() for item in items]
    rows.append((10, None))
    rows.append((1, "slow"))  # a repeated mention counts once
    return pd.DataFrame(rows, columns=["basket_id", "item"])


def _rule(table: pd.DataFrame, antecedents: tuple[str, ...], consequents: tuple[str, ...]) -> dict:
    match = table[(table["antecedents"] == antecedents) & (table["consequents"] == consequents)]
    assert len(match) == 1, (antecedents, consequents, table)
    return match.iloc[0].to_dict()


def test_support_confidence_and_lift_equal_the_hand_computed_values() -> None:
    result = association_rules(_pairs(), min_support=0.1, min_confidence=0.0, min_lift=0.0)
    table = result.table
    assert result.n_baskets == 9 and result.n_items == 4
    slow_cold = _rule(table, ("slow",), ("cold",))
    # support 4/9, confidence 4/6, lift (4/6) / (5/9)
    assert slow_cold["support"] == pytest.approx(4 / 9)
    assert slow_cold["confidence"] == pytest.approx(4 / 6)
    assert slow_cold["lift"] == pytest.approx((4 / 6) / (5 / 9))
    assert (slow_cold["count"], slow_cold["antecedent_count"], slow_cold["n_baskets"]) == (4, 6, 9)
    assert slow_cold["confidence_ci_low"] < 4 / 6 < slow_cold["confidence_ci_high"]
    cold_slow = _rule(table, ("cold",), ("slow",))
    assert cold_slow["confidence"] == pytest.approx(4 / 5)
    three = _rule(table, ("cold", "rude"), ("slow",))
    # {cold, rude} in 1 basket, always with slow: confidence 1, lift 1 / (6/9)
    assert three["support"] == pytest.approx(1 / 9)
    assert three["confidence"] == pytest.approx(1.0)
    assert three["lift"] == pytest.approx(9 / 6)
    assert list(table.columns) == list(COLUMNS)
    # price is in 1 of 9 baskets (0.11 ≥ 0.1) but never with another item: in no rule
    items = table["antecedents"] + table["consequents"]
    assert not items.map(lambda rule: "price" in rule).any()


def test_rules_are_sorted_by_lift_and_filtered_by_confidence_and_lift() -> None:
    table = association_rules(_pairs(), min_support=0.1, min_confidence=0.7, min_lift=1.1).table
    assert (table["confidence"] >= 0.7).all() and (table["lift"] >= 1.1).all()
    assert table["lift"].is_monotonic_decreasing
    # slow → cold: confidence 0.67 < 0.7, out; cold → slow: 0.8, lift 1.2, in
    pairs = set(zip(table.antecedents, table.consequents, strict=True))
    assert (("slow",), ("cold",)) not in pairs
    assert (("cold",), ("slow",)) in pairs


def test_max_len_caps_the_items_in_a_rule() -> None:
    table = association_rules(_pairs(), min_support=0.1, min_confidence=0.0, max_len=2).table
    lengths = (table["antecedents"].map(len) + table["consequents"].map(len)).tolist()
    assert lengths and max(lengths) == 2


def test_integer_product_ids_come_back_as_themselves() -> None:
    pairs = pd.DataFrame({"basket_id": [1, 1, 2, 2, 3], "item": [101, 7, 101, 7, 101]})
    table = association_rules(pairs, min_support=0.3, min_confidence=0.5).table
    assert set(zip(table.antecedents, table.consequents, strict=True)) == {
        ((7,), (101,)),
        ((101,), (7,)),
    }
    assert table.set_index("consequents").loc[[(101,)], "confidence"].item() == pytest.approx(1.0)


def test_empty_input_gives_an_empty_table_with_a_caveat() -> None:
    result = association_rules(pd.DataFrame({"basket_id": [], "item": []}))
    assert result.table.empty and list(result.table.columns) == list(COLUMNS)
    assert result.n_baskets == 0
    assert "no baskets: nothing to mine" in result.caveats


def test_too_sparse_input_gives_an_empty_table_with_a_caveat() -> None:
    pairs = pd.DataFrame({"basket_id": range(200), "item": [f"sku{i}" for i in range(200)]})
    result = association_rules(pairs, min_support=0.05)
    assert result.table.empty and result.n_baskets == 200
    assert any(caveat.startswith("too sparse") for caveat in result.caveats)
    # items frequent on their own, but never together
    apart = pd.DataFrame({"basket_id": range(100), "item": ["a", "b"] * 50})
    result = association_rules(apart, min_support=0.1)
    assert result.table.empty
    assert any("no two items share" in caveat for caveat in result.caveats)


def test_no_rule_passing_the_thresholds_is_an_empty_table_with_a_caveat() -> None:
    result = association_rules(_pairs(), min_support=0.1, min_confidence=0.99, min_lift=2.0)
    assert result.table.empty
    assert any(caveat.startswith("no rule reaches") for caveat in result.caveats)


def test_rare_rules_and_small_n_are_caveats() -> None:
    result = association_rules(_pairs(), min_support=0.1, min_confidence=0.0)
    assert any("rest on fewer than 10 baskets" in caveat for caveat in result.caveats)
    assert "small n: 9 baskets" in result.caveats
    assert "1 rows with a missing basket or item ignored" in result.caveats


def test_an_ibis_table_gives_the_same_rules() -> None:
    pairs = _pairs().dropna()
    from_ibis = association_rules(ibis.memtable(pairs), min_support=0.1)
    from_pandas = association_rules(pairs, min_support=0.1)
    pd.testing.assert_frame_equal(from_ibis.table, from_pandas.table)


def test_topic_and_order_baskets_make_the_long_shape() -> None:
    topics = pd.DataFrame(
        {"feedback_id": ["f1", "f1", "f2", "f2"], "topic": ["a", "b", "a", "a"], "score": 0.0}
    )
    assert topic_baskets(topics).to_dict("list") == {
        "basket_id": ["f1", "f1", "f2"],
        "item": ["a", "b", "a"],
    }
    orders = pd.DataFrame(
        {
            "order_id": ["o1", "o2", "o3"],
            "customer_id": ["c1", "c1", None],
            "product": ["tea", "cake", "tea"],
        }
    )
    assert order_baskets(orders).to_dict("list") == {
        "basket_id": ["c1", "c1"],
        "item": ["tea", "cake"],
    }
    assert order_baskets(orders, by="order_id")["basket_id"].tolist() == ["o1", "o2", "o3"]
    with pytest.raises(Invalid, match="'customer_id' or 'order_id'"):
        order_baskets(orders, by="account_id")
    with pytest.raises(Invalid, match="not a column"):
        topic_baskets(orders)


@pytest.mark.parametrize(
    ("arguments", "field", "value", "reason"),
    [
        ({"basket_col": "order"}, "basket_col", "order", "is not a column"),
        ({"item_col": "sku"}, "item_col", "sku", "is not a column"),
        ({"min_support": 0}, "min_support", 0, "is not in (0, 1]"),
        ({"min_confidence": 1.5}, "min_confidence", 1.5, "is not in [0, 1]"),
        ({"min_lift": -1}, "min_lift", -1, "is negative"),
        ({"max_len": 1}, "max_len", 1, "a rule has two sides"),
    ],
)
def test_bad_input_is_invalid_naming_field_value_and_reason(
    arguments: dict[str, object], field: str, value: object, reason: str
) -> None:
    with pytest.raises(Invalid) as raised:
        association_rules(_pairs(), **arguments)  # type: ignore[arg-type]
    assert any(
        p.field == field and p.value == value and reason in p.reason for p in raised.value.problems
    )


def test_examples_in_the_docstrings_run() -> None:
    assert doctest.testmod(rules_module).failed == 0


def test_real_event_sessions_give_supports_equal_to_a_direct_count() -> None:
    path = DATA / "synthetic_ecom_events.csv.gz"
    if not path.exists():
        pytest.skip(f"real data absent: {path} (the shared DEV data folder is not linked)")
    events = pd.read_csv(path, usecols=["session_id", "event"])
    pairs = events.rename(columns={"session_id": "basket_id", "event": "item"})
    result = association_rules(pairs, min_support=0.05, min_confidence=0.3, max_len=3)
    table = result.table
    assert result.n_baskets == events["session_id"].nunique() and not table.empty
    sets = events.groupby("session_id")["event"].agg(frozenset)
    for row in table.head(20).itertuples():
        both = sets.map(lambda s, r=row: set(r.antecedents + r.consequents) <= s).sum()
        before = sets.map(lambda s, r=row: set(r.antecedents) <= s).sum()
        assert row.count == both and row.antecedent_count == before
        assert row.support == pytest.approx(both / len(sets))
        assert row.confidence == pytest.approx(both / before)
