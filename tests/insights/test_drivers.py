"""Key drivers: known weights recovered, Shapley checked against brute force, quadrants, input."""

from __future__ import annotations

import doctest
from itertools import combinations
from math import factorial
from pathlib import Path

import ibis
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression

from cxloop.errors import Invalid
from cxloop.insights import drivers as drivers_module
from cxloop.insights.drivers import (
    COLUMNS,
    JOHNSON_METHOD,
    SHAPLEY_METHOD,
    key_drivers,
    quadrants,
)

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
SEED = 20250601


def _known_weights(n: int = 3000, seed: int = SEED) -> pd.DataFrame:
    """outcome = 3·x1 + 2·x2 + 1·x3 + 0·x4 + noise; x1–x2 correlated 0.5, x2–x3 0.3."""
    rng = np.random.default_rng(seed)
    cov = np.array(
        [
            [1.0, 0.5, 0.0, 0.0],
            [0.5, 1.0, 0.3, 0.0],
            [0.0, 0.3, 1.0, 0.0],
            [0.0, 0.0, 0.0, 1.0],
        ]
    )
    x = rng.multivariate_normal(np.zeros(4), cov, size=n)
    frame = pd.DataFrame(x, columns=["x1", "x2", "x3", "x4"])
    frame["y"] = x @ np.array([3.0, 2.0, 1.0, 0.0]) + rng.normal(scale=2.0, size=n)
    return frame


def _r_squared(frame: pd.DataFrame, columns: list[str], outcome: str) -> float:
    if not columns:
        return 0.0
    model = LinearRegression().fit(frame[columns], frame[outcome])
    return float(model.score(frame[columns], frame[outcome]))


def _brute_force_shapley(frame: pd.DataFrame, names: list[str], outcome: str) -> dict[str, float]:
    """Shapley values of R² from one sklearn fit per subset: an independent implementation."""
    p = len(names)
    values = {}
    for name in names:
        others = [o for o in names if o != name]
        total = 0.0
        for k in range(p):
            for subset in combinations(others, k):
                weight = factorial(k) * factorial(p - k - 1) / factorial(p)
                gain = _r_squared(frame, [*subset, name], outcome)
                total += weight * (gain - _r_squared(frame, list(subset), outcome))
        values[name] = total
    return values


def test_known_weights_come_back_in_true_order_with_the_null_driver_last() -> None:
    result = key_drivers(_known_weights(), outcome="y", drivers=["x1", "x2", "x3", "x4"])
    table = result.table
    assert table["driver"].tolist() == ["x1", "x2", "x3", "x4"]
    assert table["rank"].tolist() == [1, 2, 3, 4]
    null = table.set_index("driver").loc["x4"]
    assert 0 <= null["ci_low"] <= null["importance"] <= null["ci_high"] < 0.005
    assert null["share"] < 0.005
    assert abs(null["coefficient"]) < 0.15
    # the true slopes come back within their sampling noise
    slopes = table.set_index("driver")["coefficient"]
    assert slopes[["x1", "x2", "x3"]].to_numpy() == pytest.approx([3, 2, 1], abs=0.15)
    assert (table["ci_low"] <= table["importance"]).all()
    assert (table["importance"] <= table["ci_high"]).all()
    assert result.method == SHAPLEY_METHOD
    assert result.n == 3000 and (table["n"] == 3000).all()
    assert list(table.columns) == list(COLUMNS)


def test_shapley_importances_sum_to_the_full_model_r_squared() -> None:
    frame = _known_weights()
    names = ["x1", "x2", "x3", "x4"]
    result = key_drivers(frame, outcome="y", drivers=names, n_boot=20)
    full = _r_squared(frame, names, "y")
    assert result.r_squared == pytest.approx(full, abs=1e-12)
    assert result.table["importance"].sum() == pytest.approx(full, abs=1e-12)
    assert result.table["share"].sum() == pytest.approx(1.0, abs=1e-12)
    assert result.r_squared_ci_low <= full <= result.r_squared_ci_high


def test_shapley_equals_a_brute_force_decomposition_by_separate_regressions() -> None:
    frame = _known_weights(n=400)
    names = ["x1", "x2", "x3", "x4"]
    expected = _brute_force_shapley(frame, names, "y")
    result = key_drivers(frame, outcome="y", drivers=names, n_boot=0)
    got = result.table.set_index("driver")["importance"].to_dict()
    assert got == pytest.approx(expected, abs=1e-10)
    assert np.isnan(result.table["ci_low"]).all() and "n_boot=0: no intervals" in result.caveats


def test_bootstrap_is_reproducible_with_the_same_random_state_and_differs_with_another() -> None:
    frame = _known_weights(n=500)
    names = ["x1", "x2", "x3", "x4"]
    first = key_drivers(frame, outcome="y", drivers=names, n_boot=30, random_state=7)
    again = key_drivers(frame, outcome="y", drivers=names, n_boot=30, random_state=7)
    other = key_drivers(frame, outcome="y", drivers=names, n_boot=30, random_state=8)
    pd.testing.assert_frame_equal(first.table, again.table)
    assert not np.allclose(first.table["ci_low"], other.table["ci_low"])


def test_more_than_twelve_drivers_switch_to_relative_weights_and_say_so() -> None:
    rng = np.random.default_rng(SEED)
    x = rng.normal(size=(600, 13))
    names = [f"d{i:02d}" for i in range(13)]
    frame = pd.DataFrame(x, columns=names)
    frame["y"] = x @ np.linspace(2.0, 0.0, 13) + rng.normal(size=600)
    result = key_drivers(frame, outcome="y", drivers=names, n_boot=10)
    assert result.method == JOHNSON_METHOD
    assert any("Johnson's relative weights" in caveat for caveat in result.caveats)
    full = _r_squared(frame, names, "y")
    assert result.table["importance"].sum() == pytest.approx(full, abs=1e-10)
    assert result.table["driver"].iloc[0] == "d00"
    assert result.table["driver"].iloc[-1] == "d12"


def test_relative_weights_agree_with_shapley_on_the_order_of_known_weights() -> None:
    frame = _known_weights()
    names = ["x1", "x2", "x3", "x4"]
    johnson = key_drivers(frame, outcome="y", drivers=names, method="relative_weights", n_boot=0)
    shapley = key_drivers(frame, outcome="y", drivers=names, n_boot=0)
    assert johnson.method == JOHNSON_METHOD
    assert johnson.table["driver"].tolist() == shapley.table["driver"].tolist()
    assert johnson.r_squared == pytest.approx(shapley.r_squared, abs=1e-10)


def test_quadrants_follow_the_median_split_of_importance_and_performance() -> None:
    assert quadrants([0.4, 0.3, 0.05, 0.02], [0.2, 0.9, 0.8, 0.1]) == [
        "fix first",
        "keep",
        "monitor",
        "low priority",
    ]
    # at the median counts as high
    assert quadrants([0.1, 0.1], [0.5, 0.5]) == ["keep", "keep"]
    with pytest.raises(Invalid, match="performance"):
        quadrants([0.1, 0.2], [0.5])


def test_constructed_ratings_land_in_their_designed_quadrants() -> None:
    # speed: weighs a lot, rated low; staff: weighs a lot, rated high;
    # decor: weighs little, rated high; parking: weighs little, rated low
    rng = np.random.default_rng(SEED)
    n = 2000
    means = {"speed": 2.0, "staff": 4.2, "decor": 4.0, "parking": 2.2}
    ratings = {
        name: np.clip(np.rint(rng.normal(mean, 1.0, n)), 1, 5) for name, mean in means.items()
    }
    frame = pd.DataFrame(ratings)
    frame["csat"] = (
        (1.5 * frame["speed"] + 1.5 * frame["staff"] + 0.2 * frame["decor"])
        + 0.2 * frame["parking"]
        + rng.normal(scale=1.0, size=n)
    )
    result = key_drivers(frame, outcome="csat", drivers=list(means), n_boot=20)
    got = result.table.set_index("driver")
    assert got["quadrant"].to_dict() == {
        "speed": "fix first",
        "staff": "keep",
        "decor": "monitor",
        "parking": "low priority",
    }
    assert (got["kind"] == "rating").all()
    assert got["performance"].to_dict() == pytest.approx(frame[list(means)].mean().to_dict())


def test_a_problem_topic_performs_as_the_share_of_responses_without_it() -> None:
    rng = np.random.default_rng(SEED)
    n = 1500
    frame = pd.DataFrame(
        {
            "slow_delivery": (rng.random(n) < 0.3).astype(int),
            "friendly_rider": (rng.random(n) < 0.2).astype(int),
        }
    )
    frame["nps"] = np.clip(
        np.rint(
            7 - 3 * frame["slow_delivery"] + 1.5 * frame["friendly_rider"] + rng.normal(size=n)
        ),
        0,
        10,
    )
    table = key_drivers(
        frame, outcome="nps", drivers=["slow_delivery", "friendly_rider"], n_boot=10
    ).table.set_index("driver")
    assert table.loc["slow_delivery", "coefficient"] < 0
    assert table.loc["slow_delivery", "performance"] == pytest.approx(
        1 - frame["slow_delivery"].mean()
    )
    assert table.loc["friendly_rider", "performance"] == pytest.approx(
        frame["friendly_rider"].mean()
    )
    assert (table["kind"] == "binary").all()


def test_missing_values_are_dropped_listwise_and_counted() -> None:
    frame = _known_weights(n=800)
    frame.loc[:49, "x2"] = np.nan
    frame.loc[40:89, "y"] = np.nan  # 40..49 overlap: 90 distinct rows lost
    result = key_drivers(frame, outcome="y", drivers=["x1", "x2", "x3"], n_boot=10)
    assert result.n == 710 and (result.table["n"] == 710).all()
    assert "90 of 800 rows dropped for a missing value (listwise)" in result.caveats


def test_a_driver_without_variance_is_dropped_with_its_reason() -> None:
    frame = _known_weights(n=300)
    frame["always_one"] = 1
    result = key_drivers(frame, outcome="y", drivers=["x1", "always_one", "x2"], n_boot=10)
    assert result.table["driver"].tolist() == ["x1", "x2"]
    assert "always_one" in result.dropped
    assert any("'always_one' dropped" in caveat for caveat in result.caveats)


def test_collinear_drivers_are_flagged_and_share_their_importance() -> None:
    rng = np.random.default_rng(SEED)
    x = rng.normal(size=1000)
    frame = pd.DataFrame({"taste": x, "taste_twice": 2 * x, "price": rng.normal(size=1000)})
    frame["nps"] = 2 * frame["taste"] + frame["price"] + rng.normal(size=1000)
    result = key_drivers(frame, outcome="nps", drivers=["taste", "taste_twice", "price"], n_boot=5)
    importance = result.table.set_index("driver")["importance"]
    assert importance["taste"] == pytest.approx(importance["taste_twice"], rel=1e-9)
    assert result.r_squared == pytest.approx(_r_squared(frame, ["taste", "price"], "nps"))
    assert any("collinearity: VIF" in caveat for caveat in result.caveats)
    assert any("'taste' and 'taste_twice', r = 1.00" in caveat for caveat in result.caveats)


def test_small_n_is_a_caveat() -> None:
    result = key_drivers(_known_weights(n=30), outcome="y", drivers=["x1", "x2"], n_boot=10)
    assert any(caveat.startswith("small n: 30 rows") for caveat in result.caveats)


def test_an_ibis_table_gives_the_same_result_as_its_frame() -> None:
    frame = _known_weights(n=300)
    names = ["x1", "x2", "x3"]
    from_ibis = key_drivers(ibis.memtable(frame), outcome="y", drivers=names, n_boot=10)
    from_pandas = key_drivers(frame, outcome="y", drivers=names, n_boot=10)
    pd.testing.assert_frame_equal(from_ibis.table, from_pandas.table)


@pytest.mark.parametrize(
    ("arguments", "field", "value", "reason"),
    [
        ({"outcome": "nope", "drivers": ["x1"]}, "outcome", "nope", "is not a column"),
        ({"outcome": "y", "drivers": ["x1", "x9"]}, "drivers", "x9", "is not a column"),
        ({"outcome": "y", "drivers": ["x1", "label"]}, "drivers", "label", "is not numeric"),
        ({"outcome": "y", "drivers": ["x1", "y"]}, "drivers", "y", "is the outcome"),
        ({"outcome": "y", "drivers": ["x1", "x1"]}, "drivers", "x1", "is named twice"),
        ({"outcome": "y", "drivers": []}, "drivers", [], "is empty"),
        ({"outcome": "y", "drivers": ["x1"], "method": "ols"}, "method", "ols", "is not one of"),
        ({"outcome": "y", "drivers": ["x1"], "n_boot": -1}, "n_boot", -1, "whole number"),
        ({"outcome": "y", "drivers": ["x1"], "confidence": 1.5}, "confidence", 1.5, "between"),
    ],
)
def test_bad_input_is_invalid_naming_field_value_and_reason(
    arguments: dict[str, object], field: str, value: object, reason: str
) -> None:
    frame = _known_weights(n=50)
    frame["label"] = "a"
    with pytest.raises(Invalid) as raised:
        key_drivers(frame, **arguments)  # type: ignore[arg-type]
    assert any(
        p.field == field and p.value == value and reason in p.reason for p in raised.value.problems
    )


def test_a_constant_outcome_or_too_few_rows_is_invalid() -> None:
    frame = _known_weights(n=50)
    frame["flat"] = 5.0
    with pytest.raises(Invalid, match="has no variance"):
        key_drivers(frame, outcome="flat", drivers=["x1"])
    with pytest.raises(Invalid, match="too few"):
        key_drivers(frame.head(3), outcome="y", drivers=["x1", "x2", "x3"])


def test_examples_in_the_docstrings_run() -> None:
    assert doctest.testmod(drivers_module).failed == 0


@pytest.fixture(scope="module")
def telco() -> pd.DataFrame:
    path = DATA / "telco_customer_churn.csv"
    if not path.exists():
        pytest.skip(f"real data absent: {path} (the shared DEV data folder is not linked)")
    raw = pd.read_csv(path)
    frame = pd.DataFrame({"churn": (raw["Churn"] == "Yes").astype(int)})
    frame["tenure"] = raw["tenure"]
    frame["monthly_charges"] = raw["MonthlyCharges"]
    frame["senior"] = raw["SeniorCitizen"]
    frame["month_to_month"] = (raw["Contract"] == "Month-to-month").astype(int)
    frame["fiber"] = (raw["InternetService"] == "Fiber optic").astype(int)
    for column in ("TechSupport", "OnlineSecurity", "PaperlessBilling", "Partner", "Dependents"):
        frame[column.lower()] = (raw[column] == "Yes").astype(int)
    return frame


def test_real_telco_churn_shapley_matches_brute_force_regressions(telco: pd.DataFrame) -> None:
    names = ["tenure", "monthly_charges", "month_to_month", "techsupport"]
    expected = _brute_force_shapley(telco, names, "churn")
    result = key_drivers(telco, outcome="churn", drivers=names, n_boot=0)
    assert result.table.set_index("driver")["importance"].to_dict() == pytest.approx(
        expected, abs=1e-10
    )
    assert result.n == len(telco)


def test_real_telco_churn_ten_drivers_decompose_r_squared(telco: pd.DataFrame) -> None:
    names = [c for c in telco.columns if c != "churn"]
    result = key_drivers(telco, outcome="churn", drivers=names, n_boot=50)
    table = result.table
    assert len(table) == 10 and result.n == len(telco)
    assert table["importance"].sum() == pytest.approx(_r_squared(telco, names, "churn"))
    assert (table["ci_low"] <= table["importance"]).all()
    assert (table["importance"] <= table["ci_high"]).all()
    assert set(table["kind"]) == {"rating", "binary"}
    assert set(table["quadrant"]) <= {"fix first", "keep", "monitor", "low priority"}
