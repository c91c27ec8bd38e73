"""RFM scores and segments, k-means clusters in words."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score
from threadpoolctl import threadpool_limits

from cxloop.errors import Invalid
from cxloop.insights.segments import (
    RFM_SEGMENTS,
    SEGMENT_ORDER,
    cluster_customers,
    rfm,
    score_by_rank,
)


def _orders() -> pd.DataFrame:
    """Five customers whose R, F and M ranks are all distinct, so scores equal ranks."""
    plan = {
        # customer: (last order date, number of orders, amount of each order)
        "A": ("2024-06-30", 5, 100.0),  # recency 1, F 5, M 500
        "B": ("2024-06-25", 1, 1000.0),  # recency 6, F 1, M 1000
        "C": ("2024-06-01", 4, 10.0),  # recency 30, F 4, M 40
        "D": ("2024-04-01", 3, 100.0),  # recency 91, F 3, M 300
        "E": ("2024-01-01", 2, 10.0),  # recency 182, F 2, M 20
    }
    rows = []
    for customer, (last, count, amount) in plan.items():
        for back in range(count):
            day = pd.Timestamp(last) - pd.Timedelta(days=back)
            rows.append((customer, day.strftime("%Y-%m-%d"), amount))
    return pd.DataFrame(rows, columns=["customer_id", "ordered_at", "amount"])


def test_rfm_gives_the_hand_computed_values_scores_codes_and_segments() -> None:
    result = rfm(_orders(), as_of="2024-07-01")
    table = result.customers.set_index("customer_id")
    assert table["recency_days"].to_dict() == {"A": 1, "B": 6, "C": 30, "D": 91, "E": 182}
    assert table["frequency"].to_dict() == {"A": 5, "B": 1, "C": 4, "D": 3, "E": 2}
    assert table["monetary"].to_dict() == {"A": 500, "B": 1000, "C": 40, "D": 300, "E": 20}
    assert table["rfm_code"].to_dict() == {
        "A": "554",
        "B": "415",
        "C": "342",
        "D": "233",
        "E": "121",
    }
    assert table["segment"].astype(str).to_dict() == {
        "A": "Champions",
        "B": "Promising",
        "C": "Loyal",
        "D": "At risk",
        "E": "Hibernating",
    }
    assert result.n == 5 and result.as_of == pd.Timestamp("2024-07-01")


def test_rfm_segment_summary_lists_every_segment_with_counts_and_value() -> None:
    segments = rfm(_orders(), as_of="2024-07-01").segments.set_index("segment")
    assert list(segments.index) == list(SEGMENT_ORDER)
    assert segments["n"].sum() == 5
    assert segments.loc["Champions", "n"] == 1 and segments.loc["Lost", "n"] == 0
    assert segments.loc["Champions", "value_share"] == pytest.approx(500 / 1860)
    assert segments.loc["Promising", "monetary"] == 1000


def test_ties_share_the_lowest_score_of_their_block() -> None:
    assert score_by_rank(pd.Series([1, 1, 1, 2, 3]), 5).tolist() == [1, 1, 1, 4, 5]
    assert score_by_rank(pd.Series([7, 7]), 5).tolist() == [3, 3]


def test_every_r_f_cell_has_exactly_one_first_match_and_every_segment_is_reachable() -> None:
    reached = set()
    for r in range(1, 6):
        for f in range(1, 6):
            matches = [
                name
                for name, (r_low, r_high), (f_low, f_high) in RFM_SEGMENTS
                if r_low <= r <= r_high and f_low <= f <= f_high
            ]
            assert matches, (r, f)
            reached.add(matches[0])
    assert reached == set(SEGMENT_ORDER) and len(SEGMENT_ORDER) == 11


def test_rfm_default_as_of_is_the_latest_order_and_later_orders_are_left_out() -> None:
    assert rfm(_orders()).customers["recency_days"].min() == 0
    cut = rfm(_orders(), as_of="2024-06-26").customers.set_index("customer_id")
    assert cut.loc["A", "frequency"] == 1 and cut.loc["A", "recency_days"] == 0  # 06-26 only
    assert cut.loc["B", "recency_days"] == 1
    assert "4 orders after as_of were left out" in rfm(_orders(), as_of="2024-06-26").caveats
    with pytest.raises(Invalid, match="before every order"):
        rfm(_orders(), as_of="2023-01-01")


def test_rfm_bad_input_names_field_value_and_reason() -> None:
    orders = _orders().astype({"amount": object})
    orders.loc[2, "ordered_at"] = "not a date"
    orders.loc[3, "amount"] = "lots"
    with pytest.raises(Invalid) as caught:
        rfm(orders)
    problems = {p.field: p for p in caught.value.problems}
    assert problems["ordered_at"].value == "not a date"
    assert problems["amount"].value == "lots" and "number" in problems["amount"].reason
    with pytest.raises(Invalid) as caught:
        rfm(_orders(), amount_col="value", bins=1)
    fields = {p.field for p in caught.value.problems}
    assert fields == {"value", "bins"}


def _planted_customers(seed: int = 7) -> tuple[pd.DataFrame, np.ndarray]:
    """Three planted groups: thrifty, big spenders, and delivery complainers."""
    rng = np.random.default_rng(seed)
    size = 120
    truth = np.repeat([0, 1, 2], size)
    spend = np.r_[
        rng.lognormal(3.0, 0.3, size), rng.lognormal(6.0, 0.3, size), rng.lognormal(4.5, 0.3, size)
    ]
    orders = np.r_[rng.poisson(1, size), rng.poisson(12, size), rng.poisson(4, size)]
    complaint = np.r_[
        rng.random(size) < 0.01, rng.random(size) < 0.01, rng.random(size) < 0.97
    ].astype(int)
    frame = pd.DataFrame(
        {
            "customer_id": [f"c{i:03d}" for i in range(3 * size)],
            "spend": spend,
            "orders": orders,
            "complaint_delivery": complaint,
        }
    )
    return frame, truth


def test_clusters_recover_planted_groups_and_name_the_planted_feature() -> None:
    frame, truth = _planted_customers()
    with threadpool_limits(limits=1):
        result = cluster_customers(frame, random_state=0)
    assert result.k == 3
    labels = result.assignments.set_index("customer_id").loc[frame["customer_id"], "cluster"]
    assert adjusted_rand_score(truth, labels) >= 0.9
    complainers = int(pd.Series(labels.to_numpy()[truth == 2]).mode()[0])
    spenders = int(pd.Series(labels.to_numpy()[truth == 1]).mode()[0])
    assert "complaint delivery" in result.descriptions[complainers]
    assert result.descriptions[spenders].startswith("high spend")
    assert result.profiles["n"].sum() == len(frame)
    assert set(result.log_scaled) == {"spend", "orders"}
    assert (
        result.k_scores["silhouette"].idxmax() == result.k_scores.index[result.k_scores.k == 3][0]
    )


def test_clusters_are_the_same_for_the_same_seed() -> None:
    frame, _ = _planted_customers(seed=3)
    with threadpool_limits(limits=1):
        first = cluster_customers(frame, k_range=range(2, 5))
        second = cluster_customers(frame, k_range=range(2, 5))
    assert first.assignments.equals(second.assignments)
    assert first.descriptions == second.descriptions


def test_clusters_refuse_text_features_and_impossible_k() -> None:
    frame, _ = _planted_customers()
    with pytest.raises(Invalid) as caught:
        cluster_customers(frame.assign(city="Paris"))
    assert caught.value.problems[0].field == "city"
    with pytest.raises(Invalid) as caught:
        cluster_customers(frame.head(5), k_range=range(2, 9))
    assert caught.value.problems[0].field == "k_range"
