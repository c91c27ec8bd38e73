"""Significance of changes: hand-checked tests, Welch against scipy, BH, type-I error, periods."""

from __future__ import annotations

import datetime as dt
import doctest
import math
import warnings

import ibis
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cxloop.errors import Invalid
from cxloop.metrics import ces, compare, csat, nps
from cxloop.metrics.compare import (
    benjamini_hochberg,
    compare_periods,
    mean_difference,
    nps_difference,
    proportion_difference,
)

pytestmark = pytest.mark.filterwarnings("ignore:The 'future.infer_string' option is deprecated")

Z95 = 1.959963984540054
SEED = 20250501


def _normal_two_sided(z: float) -> float:
    return math.erfc(abs(z) / math.sqrt(2))


# --- NPS ------------------------------------------------------------------------------------


def test_nps_difference_is_b_minus_a_with_the_hand_trinomial_standard_error() -> None:
    result = nps_difference((50, 30, 20), (60, 25, 15))
    var_a = (0.5 + 0.2 - 0.3**2) / 100
    var_b = (0.6 + 0.15 - 0.45**2) / 100
    se = math.sqrt(var_a + var_b) * 100
    assert result.difference == 15.0
    assert result.se == pytest.approx(se, rel=1e-12)
    assert result.p_value == pytest.approx(_normal_two_sided(15 / se), rel=1e-9)
    assert (result.ci_low, result.ci_high) == pytest.approx((15 - Z95 * se, 15 + Z95 * se))
    assert (result.n_a, result.n_b) == (100, 100)
    assert "trinomial" in result.method


def test_nps_test_holds_its_type_i_error_at_five_percent_by_simulation() -> None:
    """2,000 pairs of 150 answers from one population (45 % pro, 30 % passive, 25 % det.).

    Measured with seed 20250501: 0.0475 of p-values below 0.05 (95 of 2,000).
    """
    rng = np.random.default_rng(SEED)
    draws = rng.multinomial(150, [0.45, 0.30, 0.25], size=(2000, 2))
    p_values = np.array([nps_difference(a, b).p_value for a, b in draws])
    rate = float(np.mean(p_values < 0.05))
    assert 0.04 <= rate <= 0.06, rate


def test_nps_test_detects_a_large_true_difference() -> None:
    rng = np.random.default_rng(SEED)
    a = rng.multinomial(200, [0.30, 0.30, 0.40])  # NPS −10
    b = rng.multinomial(200, [0.55, 0.30, 0.15])  # NPS +40
    result = nps_difference(a, b)
    assert result.p_value < 1e-6
    assert result.ci_high > 30 and result.ci_low > 0


def test_nps_without_answers_or_without_variance_gives_nan_not_warnings() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        empty = nps_difference((0, 0, 0), (5, 3, 2))
        all_promoters = nps_difference((10, 0, 0), (20, 0, 0))
    assert math.isnan(empty.difference) and math.isnan(empty.p_value)
    assert all_promoters.difference == 0.0 and all_promoters.se == 0.0
    assert math.isnan(all_promoters.p_value) and math.isnan(all_promoters.ci_low)


def test_nps_refuses_negative_counts_and_wrong_shapes_naming_each() -> None:
    with pytest.raises(Invalid) as caught:
        nps_difference((1, -2, 3), (1, 2), confidence=1.5)
    assert {p.field for p in caught.value.problems} == {"confidence", "a.passives", "b"}


# --- proportions ----------------------------------------------------------------------------


def test_proportion_test_pools_for_the_p_value_and_not_for_the_interval() -> None:
    result = proportion_difference(40, 100, 55, 100)
    pooled = 95 / 200
    z = 0.15 / math.sqrt(pooled * (1 - pooled) * (2 / 100))
    se = math.sqrt(0.4 * 0.6 / 100 + 0.55 * 0.45 / 100)
    assert result.difference == pytest.approx(0.15, abs=1e-15)
    assert result.p_value == pytest.approx(_normal_two_sided(z), rel=1e-9)
    assert result.se == pytest.approx(se, rel=1e-12)
    assert (result.ci_low, result.ci_high) == pytest.approx((0.15 - Z95 * se, 0.15 + Z95 * se))


def test_proportion_with_unequal_groups_matches_hand_formula() -> None:
    result = proportion_difference(30, 50, 90, 120, confidence=0.9)
    pooled = 120 / 170
    z = (0.75 - 0.6) / math.sqrt(pooled * (1 - pooled) * (1 / 50 + 1 / 120))
    se = math.sqrt(0.6 * 0.4 / 50 + 0.75 * 0.25 / 120)
    z90 = stats.norm.ppf(0.95)
    assert result.p_value == pytest.approx(_normal_two_sided(z), rel=1e-9)
    assert result.ci_high == pytest.approx(0.15 + z90 * se, rel=1e-12)


def test_proportion_at_the_boundaries_gives_nan_where_a_standard_error_is_zero() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        all_satisfied = proportion_difference(10, 10, 20, 20)
        opposite = proportion_difference(0, 10, 10, 10)
        empty = proportion_difference(0, 0, 3, 10)
    assert math.isnan(all_satisfied.p_value)
    assert opposite.difference == 1.0 and opposite.p_value < 1e-4  # pooled SE is positive
    assert math.isnan(opposite.ci_low)  # the unpooled SE is zero: no honest interval
    assert math.isnan(empty.p_value) and math.isnan(empty.difference)


def test_proportion_refuses_more_successes_than_answers() -> None:
    with pytest.raises(Invalid, match="exceeds n"):
        proportion_difference(11, 10, 5, 10)


# --- means ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("n_a", "n_b", "scale_b"), [(40, 40, 1.0), (12, 75, 2.5), (3, 9, 0.2)])
def test_welch_from_sums_matches_scipy_ttest_on_the_raw_samples(
    n_a: int, n_b: int, scale_b: float
) -> None:
    rng = np.random.default_rng(SEED + n_a)
    a = rng.normal(4.0, 1.2, n_a)
    b = rng.normal(4.4, 1.2 * scale_b, n_b)
    result = mean_difference(a.sum(), (a * a).sum(), n_a, b.sum(), (b * b).sum(), n_b)
    expected = stats.ttest_ind(b, a, equal_var=False)
    low, high = expected.confidence_interval(0.95)
    assert result.difference == pytest.approx(b.mean() - a.mean(), abs=1e-10)
    assert result.p_value == pytest.approx(expected.pvalue, abs=1e-10)
    assert (result.ci_low, result.ci_high) == pytest.approx((low, high), abs=1e-10)
    assert result.se == pytest.approx(math.sqrt(a.var(ddof=1) / n_a + b.var(ddof=1) / n_b))


def test_welch_with_one_answer_or_no_spread_gives_nan_not_warnings() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        single = mean_difference(5, 25, 1, 30, 160, 6)
        flat = mean_difference(20, 80, 5, 20, 80, 5)  # all 4s on both sides
        nothing = mean_difference(0, 0, 0, 0, 0, 0)
    assert math.isnan(single.p_value) and math.isnan(single.ci_low)
    assert flat.difference == 0.0 and math.isnan(flat.p_value)
    assert math.isnan(nothing.p_value)


def test_welch_with_one_flat_group_still_tests_on_the_other_groups_df() -> None:
    b = np.array([3.0, 5.0, 4.0, 6.0, 7.0])  # mean 5 against a flat group of 4s
    result = mean_difference(20, 80, 5, b.sum(), (b * b).sum(), 5)
    t = 1.0 / math.sqrt(b.var(ddof=1) / 5)  # all the variance is b's: df = n_b − 1 = 4
    assert result.p_value == pytest.approx(2 * stats.t.sf(t, 4), abs=1e-12)


# --- Benjamini–Hochberg ---------------------------------------------------------------------


def test_bh_matches_a_hand_worked_example() -> None:
    # sorted p: .005 .01 .03 .04 .20 (m = 5); p·m/rank: .025 .025 .05 .05 .20;
    # running minimum from the largest down leaves them as they are
    q = benjamini_hochberg([0.04, 0.005, 0.20, 0.01, 0.03])
    np.testing.assert_allclose(q, [0.05, 0.025, 0.20, 0.025, 0.05], rtol=1e-12)


def test_bh_takes_the_running_minimum_and_caps_at_one() -> None:
    # p·m/rank for .01 .02 .021 .9 .95 (m=5): .05 .05 .035 1.125 .95 → min from the top
    q = benjamini_hochberg([0.01, 0.02, 0.021, 0.9, 0.95])
    np.testing.assert_allclose(q, [0.035, 0.035, 0.035, 0.95, 0.95], rtol=1e-12)
    assert q.max() <= 1


def test_bh_is_monotone_in_p_and_never_below_p() -> None:
    p = np.random.default_rng(SEED).uniform(size=200) ** 3
    q = benjamini_hochberg(p)
    order = np.argsort(p)
    assert np.all(np.diff(q[order]) >= 0)
    assert np.all(q >= p) and np.all(q <= 1)


def test_bh_leaves_nan_as_nan_and_does_not_count_it() -> None:
    q = benjamini_hochberg([0.01, np.nan, 0.04, np.nan])
    np.testing.assert_allclose(q, [0.02, np.nan, 0.04, np.nan])
    assert benjamini_hochberg([]).shape == (0,)
    assert np.isnan(benjamini_hochberg([np.nan])).all()


def test_bh_refuses_values_outside_zero_to_one() -> None:
    with pytest.raises(Invalid):
        benjamini_hochberg([0.5, 1.5])


# --- periods --------------------------------------------------------------------------------


def _two_months() -> ibis.Table:
    """App jumps from NPS −10 to +50 between January and February; web stays at +20."""
    jan, feb = dt.datetime(2025, 1, 15), dt.datetime(2025, 2, 15)
    app_jan = [10] * 60 + [8] * 60 + [3] * 80  # 200 answers, NPS −10
    app_feb = [10] * 120 + [8] * 60 + [3] * 20  # 200 answers, NPS +50
    web = [9] * 50 + [7] * 40 + [5] * 30  # 120 answers, NPS +16.7, both months
    channels = ["app"] * 400 + ["web"] * 240
    stamps = [jan] * 200 + [feb] * 200 + [jan] * 120 + [feb] * 120
    answers = app_jan + app_feb + web + web
    return ibis.memtable(
        {"channel": channels, "created_at": stamps, "nps": answers, "csat": [
            5 if x >= 9 else 3 for x in answers
        ], "ces": [x // 2 + 1 for x in answers]},
        schema={"channel": "string", "created_at": "timestamp", "nps": "int64",
                "csat": "int64", "ces": "int64"},
    )  # fmt: skip


JAN, FEB = pd.Timestamp("2025-01-01"), pd.Timestamp("2025-02-01")


def test_compare_periods_flags_a_planted_change_and_not_an_unchanged_slice() -> None:
    frame = nps(_two_months(), by=["channel"], period="month")
    result = compare_periods(frame, metric="nps", by=["channel"], base=JAN, current=FEB)
    assert list(result.columns) == ["channel", *compare.RESULT_COLUMNS]
    app, web = result.iloc[0], result.iloc[1]
    assert (app["channel"], app["n_base"], app["n_current"]) == ("app", 200, 200)
    assert (app["score_base"], app["score_current"], app["difference"]) == (-10.0, 50.0, 60.0)
    assert app["significant"] and app["q_value"] < 1e-6
    assert web["difference"] == 0.0 and web["p_value"] == 1.0 and not web["significant"]
    # the rows agree with the one-pair function, and BH ran over both slices
    single = nps_difference((60, 60, 80), (120, 60, 20))
    assert app["p_value"] == single.p_value and app["ci_low"] == single.ci_low
    assert app["q_value"] == pytest.approx(min(1.0, app["p_value"] * 2))


def test_compare_periods_accepts_period_strings_and_tests_csat_as_a_proportion() -> None:
    frame = csat(_two_months(), by=["channel"], period="month")
    result = compare_periods(frame, metric="csat", by="channel", base="2025-01", current="2025-02")
    single = proportion_difference(60, 200, 120, 200)
    assert result.iloc[0]["p_value"] == pytest.approx(single.p_value, rel=1e-12)
    assert result.iloc[0]["difference"] == pytest.approx(0.3, abs=1e-12)
    assert not result.iloc[1]["significant"]


def test_compare_periods_on_ces_reads_the_variance_back_from_the_t_interval() -> None:
    table = _two_months()
    frame = ces(table, by=["channel"], period="month")
    result = compare_periods(frame, metric="ces", by=["channel"], base=JAN, current=FEB)
    raw = table.execute()
    app = raw[raw.channel == "app"]
    jan = app[app.created_at.dt.month == 1].ces.to_numpy(dtype=float)
    feb = app[app.created_at.dt.month == 2].ces.to_numpy(dtype=float)
    expected = stats.ttest_ind(feb, jan, equal_var=False)
    assert result.iloc[0]["p_value"] == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-300)
    low, high = expected.confidence_interval(0.95)
    assert result.iloc[0]["ci_low"] == pytest.approx(low, abs=1e-10)
    assert result.iloc[0]["ci_high"] == pytest.approx(high, abs=1e-10)
    # with exact sums in the frame the same test comes out
    exact = frame.assign(
        total=(frame["score"] * frame["n"]).round(),
        squares=[float((x**2).sum()) for x in (jan, feb)] + [np.nan, np.nan],
    ).iloc[:2]
    again = compare_periods(exact, metric="ces", by=["channel"], base=JAN, current=FEB)
    assert again.iloc[0]["p_value"] == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-300)


def test_a_slice_in_only_one_period_is_kept_with_nan_and_not_counted_by_bh() -> None:
    frame = nps(_two_months(), by=["channel"], period="month")
    extra = pd.DataFrame(
        {"channel": ["email"], "period": [FEB], "n": [40], "score": [25.0], "ci_low": [0.0],
         "ci_high": [50.0], "small_n": [False], "promoters": [20], "passives": [10],
         "detractors": [10]}
    )  # fmt: skip
    frame = pd.concat([frame, extra], ignore_index=True)
    result = compare_periods(frame, metric="nps", by=["channel"], base=JAN, current=FEB)
    assert result.channel.tolist() == ["app", "email", "web"]
    email = result.iloc[1]
    assert (email["n_base"], email["n_current"]) == (0, 40)
    assert math.isnan(email["score_base"]) and email["score_current"] == 25.0
    assert math.isnan(email["p_value"]) and math.isnan(email["q_value"])
    assert not email["significant"]
    app = result.iloc[0]
    assert app["q_value"] == pytest.approx(min(1.0, app["p_value"] * 2))  # m = 2, not 3


def test_compare_periods_without_slices_compares_the_whole_table() -> None:
    frame = nps(_two_months(), period="month")
    result = compare_periods(frame, metric="nps", base=JAN, current=FEB)
    assert list(result.columns) == list(compare.RESULT_COLUMNS)
    assert (result.n_base[0], result.n_current[0]) == (320, 320)
    assert result.significant[0]


def test_compare_periods_refuses_bad_arguments_naming_each() -> None:
    frame = nps(_two_months(), by=["channel"], period="month")
    with pytest.raises(Invalid) as caught:
        compare_periods(frame, metric="nope", by=["region"], base=JAN, current=FEB, alpha=2)
    assert {p.field for p in caught.value.problems} == {"metric", "frame", "alpha"}
    with pytest.raises(Invalid, match="several rows per slice"):
        compare_periods(frame, metric="nps", base=JAN, current=FEB)
    with pytest.raises(Invalid, match="is not a period"):
        compare_periods(frame, metric="nps", by=["channel"], base="2024-12", current=FEB)


def test_compare_examples_run() -> None:
    failed, attempted = doctest.testmod(compare, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert attempted > 0 and failed == 0


def test_a_slice_with_a_null_key_is_matched_across_periods() -> None:
    frame = pd.DataFrame(
        {"channel": [None, None], "period": [JAN, FEB], "n": [10, 12], "score": [0.0, 50.0],
         "promoters": [3, 8], "detractors": [3, 2]}
    )  # fmt: skip
    result = compare_periods(frame, metric="nps", by=["channel"], base=JAN, current=FEB)
    assert len(result) == 1 and result.channel[0] is None
    assert (result.n_base[0], result.n_current[0], result.difference[0]) == (10, 12, 50.0)
