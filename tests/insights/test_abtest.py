"""A/B read-out: planted effects found, A/A quiet, SRM caught, numbers equal metrics.compare's."""

from __future__ import annotations

import doctest
from pathlib import Path

import ibis
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cxloop.errors import Invalid
from cxloop.insights import abtest as abtest_module
from cxloop.insights.abtest import COLUMNS, ab_test
from cxloop.metrics.compare import (
    benjamini_hochberg,
    mean_difference,
    nps_difference,
    proportion_difference,
)

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
SEED = 20250602


def _nps_answers(rng: np.random.Generator, n: int, pro: float, det: float) -> np.ndarray:
    """0–10 answers with the given promoter and detractor shares (passives the rest)."""
    kind = rng.choice(3, size=n, p=[pro, 1 - pro - det, det])
    return (
        np.where(kind == 0, rng.integers(9, 11, n), 0)
        + np.where(kind == 1, rng.integers(7, 9, n), 0)
        + np.where(kind == 2, rng.integers(0, 7, n), 0)
    )


def test_a_planted_share_difference_is_detected_and_inside_the_interval() -> None:
    rng = np.random.default_rng(SEED)
    n = 5000
    frame = pd.DataFrame(
        {
            "arm": ["control"] * n + ["new_checkout"] * n,
            "converted": np.concatenate([rng.random(n) < 0.30, rng.random(n) < 0.35]),
        }
    )
    result = ab_test(frame, variant_col="arm", metric=("share", "converted"))
    row = result.table.iloc[0]
    assert row["variant"] == "new_checkout" and result.control == "control"
    assert row["ci_low"] < 0.05 < row["ci_high"]
    assert row["significant"] and row["p_value"] < 0.001
    assert row["ratio_ci_low"] < 0.35 / 0.30 < row["ratio_ci_high"]
    assert list(result.table.columns) == list(COLUMNS)


def test_a_planted_nps_difference_is_detected_and_inside_the_interval() -> None:
    rng = np.random.default_rng(SEED)
    n = 3000
    answers = np.concatenate(
        [_nps_answers(rng, n, 0.40, 0.25), _nps_answers(rng, n, 0.50, 0.20)]
    )  # true NPS 15 → 30
    frame = pd.DataFrame({"variant": ["A"] * n + ["B"] * n, "likely": answers})
    row = ab_test(frame, variant_col="variant", metric=("nps", "likely")).table.iloc[0]
    assert row["ci_low"] < 15 < row["ci_high"]
    assert row["significant"]


def test_a_planted_mean_difference_is_detected_and_matches_scipy_welch() -> None:
    rng = np.random.default_rng(SEED)
    a, b = rng.normal(3.5, 1.0, 400), rng.normal(3.8, 1.5, 300)
    frame = pd.DataFrame({"arm": ["A"] * 400 + ["B"] * 300, "csat": np.concatenate([a, b])})
    row = ab_test(frame, variant_col="arm", metric=("mean", "csat")).table.iloc[0]
    assert row["ci_low"] < 0.3 < row["ci_high"] and row["significant"]
    welch = stats.ttest_ind(b, a, equal_var=False)
    assert row["p_value"] == pytest.approx(welch.pvalue, rel=1e-9)
    interval = welch.confidence_interval(0.95)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((interval.low, interval.high))


@pytest.mark.parametrize("metric", [("share", "converted"), ("nps", "likely"), ("mean", "csat")])
def test_an_a_a_split_is_not_significant(metric: tuple[str, str]) -> None:
    rng = np.random.default_rng(SEED)
    n = 4000
    frame = pd.DataFrame(
        {
            "arm": rng.permutation(np.repeat(["A", "B"], n // 2)),
            "converted": (rng.random(n) < 0.3).astype(int),
            "likely": _nps_answers(rng, n, 0.4, 0.25),
            "csat": rng.normal(4, 1, n),
        }
    )
    result = ab_test(frame, variant_col="arm", metric=metric)
    row = result.table.iloc[0]
    assert not row["significant"] and row["p_value"] > 0.05
    assert row["ci_low"] < 0 < row["ci_high"]
    assert not result.sample_ratio_mismatch


def test_sample_ratio_mismatch_fires_on_a_60_40_split_claimed_50_50() -> None:
    rng = np.random.default_rng(SEED)
    frame = pd.DataFrame(
        {"arm": ["A"] * 1200 + ["B"] * 800, "converted": (rng.random(2000) < 0.3).astype(int)}
    )
    claimed = ab_test(frame, variant_col="arm", metric=("share", "converted"))
    expected_p = stats.chisquare([1200, 800]).pvalue
    assert claimed.sample_ratio_mismatch and claimed.srm_p_value == pytest.approx(expected_p)
    assert any(caveat.startswith("sample ratio mismatch") for caveat in claimed.caveats)
    planned = ab_test(
        frame, variant_col="arm", metric=("share", "converted"), expected_split={"A": 6, "B": 4}
    )
    assert not planned.sample_ratio_mismatch and planned.srm_p_value == pytest.approx(1.0)
    assert planned.expected_split == {"A": 0.6, "B": 0.4}


def test_numbers_equal_cxloop_metrics_compare_called_directly() -> None:
    rng = np.random.default_rng(SEED)
    frame = pd.DataFrame(
        {
            "arm": np.repeat(["A", "B"], [700, 650]),
            "likely": np.concatenate(
                [_nps_answers(rng, 700, 0.4, 0.3), _nps_answers(rng, 650, 0.45, 0.2)]
            ),
            "converted": (rng.random(1350) < 0.4).astype(int),
            "csat": rng.integers(1, 6, 1350),
        }
    )
    a, b = frame[frame.arm == "A"], frame[frame.arm == "B"]

    def triple(s: pd.Series) -> tuple[int, int, int]:
        return int((s >= 9).sum()), int(s.between(7, 8).sum()), int((s <= 6).sum())

    expected = {
        "nps": nps_difference(triple(a.likely), triple(b.likely), confidence=0.9),
        "share": proportion_difference(
            a.converted.sum(), len(a), b.converted.sum(), len(b), confidence=0.9
        ),
        "mean": mean_difference(
            a.csat.sum(),
            (a.csat**2).sum(),
            len(a),
            b.csat.sum(),
            (b.csat**2).sum(),
            len(b),
            confidence=0.9,
        ),
    }
    for kind, column in (("nps", "likely"), ("share", "converted"), ("mean", "csat")):
        result = ab_test(frame, variant_col="arm", metric=(kind, column), confidence=0.9)
        row = result.table.iloc[0]
        direct = expected[kind]
        assert (row["difference"], row["ci_low"], row["ci_high"], row["p_value"]) == (
            direct.difference,
            direct.ci_low,
            direct.ci_high,
            direct.p_value,
        )
        assert (row["n"], row["control_n"]) == (direct.n_b, direct.n_a) == (650, 700)
        assert result.method.startswith(direct.method)


def test_several_variants_are_each_tested_against_control_with_bh_adjusted_p() -> None:
    rng = np.random.default_rng(SEED)
    shares = {"v1": 0.30, "v2": 0.33, "control": 0.30, "v3": 0.40}
    frame = pd.DataFrame(
        {
            "arm": np.repeat(list(shares), 1500),
            "converted": np.concatenate([rng.random(1500) < p for p in shares.values()]),
        }
    )
    result = ab_test(frame, variant_col="arm", metric=("share", "converted"))
    table = result.table
    assert result.control == "control"
    assert table["variant"].tolist() == ["v1", "v2", "v3"]
    assert table["p_adjusted"].to_numpy() == pytest.approx(
        benjamini_hochberg(table["p_value"].to_numpy())
    )
    assert (table["p_adjusted"] >= table["p_value"]).all()
    assert table["significant"].tolist() == (table["p_adjusted"] < 0.05).tolist()
    assert table.set_index("variant").loc["v3", "significant"]
    assert any("Benjamini–Hochberg" in caveat for caveat in result.caveats)


def test_the_share_ratio_is_variant_over_control() -> None:
    frame = pd.DataFrame(
        {"arm": ["a"] * 100 + ["b"] * 100, "hit": [1] * 20 + [0] * 80 + [1] * 30 + [0] * 70}
    )
    row = ab_test(frame, variant_col="arm", metric=("share", "hit")).table.iloc[0]
    assert row["ratio"] == pytest.approx(0.30 / 0.20)
    assert row["estimate"] == pytest.approx(0.30) and row["control_estimate"] == pytest.approx(0.2)


def test_small_groups_and_missing_values_are_caveats_not_errors() -> None:
    frame = pd.DataFrame(
        {
            "arm": ["A"] * 12 + ["B"] * 12 + [None],
            "csat": [4.0] * 5 + [3.0] * 6 + [None] + [5.0] * 13,
        }
    )
    result = ab_test(frame, variant_col="arm", metric=("mean", "csat"), control="B")
    assert result.control == "B" and result.table["variant"].tolist() == ["A"]
    assert result.n == 23
    assert "1 rows without a variant left out" in result.caveats
    assert "1 rows without a 'csat' value left out" in result.caveats
    assert any(caveat.startswith("small n (< 30 answers)") for caveat in result.caveats)


def test_an_ibis_table_gives_the_same_read_out() -> None:
    rng = np.random.default_rng(SEED)
    frame = pd.DataFrame({"arm": np.repeat(["A", "B"], 200), "converted": rng.integers(0, 2, 400)})
    from_ibis = ab_test(ibis.memtable(frame), variant_col="arm", metric=("share", "converted"))
    from_pandas = ab_test(frame, variant_col="arm", metric=("share", "converted"))
    pd.testing.assert_frame_equal(from_ibis.table, from_pandas.table)


@pytest.mark.parametrize(
    ("arguments", "field", "value", "reason"),
    [
        (
            {"variant_col": "nope", "metric": ("share", "hit")},
            "variant_col",
            "nope",
            "not a column",
        ),
        ({"variant_col": "arm", "metric": ("median", "hit")}, "metric", "median", "is not one of"),
        ({"variant_col": "arm", "metric": ("share", "gone")}, "metric", "gone", "not a column"),
        ({"variant_col": "arm", "metric": "hit"}, "metric", "hit", "is not a pair"),
        ({"variant_col": "arm", "metric": ("nps", "score")}, "score", 11, "0–10"),
        ({"variant_col": "arm", "metric": ("share", "score")}, "score", 3, "is not 0 or 1"),
        ({"variant_col": "arm", "metric": ("mean", "label")}, "label", "object", "not numeric"),
        (
            {"variant_col": "arm", "metric": ("share", "hit"), "control": "Z"},
            "control",
            "Z",
            "is not a variant",
        ),
        (
            {"variant_col": "arm", "metric": ("share", "hit"), "expected_split": {"A": 1}},
            "expected_split",
            "B",
            "has no planned share",
        ),
        (
            {"variant_col": "arm", "metric": ("share", "hit"), "confidence": 95},
            "confidence",
            95,
            "between 0 and 1",
        ),
    ],
)
def test_bad_input_is_invalid_naming_field_value_and_reason(
    arguments: dict[str, object], field: str, value: object, reason: str
) -> None:
    frame = pd.DataFrame(
        {"arm": ["A", "B", "A"], "hit": [0, 1, 1], "score": [3, 11, 5], "label": ["x", "y", "z"]}
    )
    frame["label"] = frame["label"].astype(object)
    with pytest.raises(Invalid) as raised:
        ab_test(frame, **arguments)  # type: ignore[arg-type]
    assert any(
        p.field == field and p.value == value and reason in p.reason for p in raised.value.problems
    ), raised.value.problems


def test_a_single_variant_is_invalid() -> None:
    frame = pd.DataFrame({"arm": ["A", "A"], "hit": [0, 1]})
    with pytest.raises(Invalid, match="fewer than two variants"):
        ab_test(frame, variant_col="arm", metric=("share", "hit"))


def test_examples_in_the_docstrings_run() -> None:
    assert doctest.testmod(abtest_module).failed == 0


def test_real_telco_churn_by_gender_matches_a_chi_square_of_the_two_by_two() -> None:
    path = DATA / "telco_customer_churn.csv"
    if not path.exists():
        pytest.skip(f"real data absent: {path} (the shared DEV data folder is not linked)")
    raw = pd.read_csv(path)
    frame = pd.DataFrame({"gender": raw["gender"], "churned": (raw["Churn"] == "Yes").astype(int)})
    result = ab_test(frame, variant_col="gender", metric=("share", "churned"))
    row = result.table.iloc[0]
    assert result.control == "Female" and row["variant"] == "Male"
    assert row["n"] + row["control_n"] == len(raw) == result.n
    # the pooled two-proportion z-test is the uncorrected chi-square test of the 2 × 2 table
    chi2 = stats.chi2_contingency(pd.crosstab(frame.gender, frame.churned), correction=False)
    assert row["p_value"] == pytest.approx(chi2.pvalue, rel=1e-9)
    counts = frame["gender"].value_counts()
    assert result.srm_p_value == pytest.approx(stats.chisquare(counts.to_numpy()).pvalue)
