"""BG/NBD + Gamma–Gamma CLV: published CDNOW parameters, recovery from simulation, sanity, errors.

The CDNOW tests need ``<repo>/../shared/data`` (development data, not shipped) and skip with a
reason without it. Published values: Fader, Hardie & Lee (2005) BG/NBD paper (r, alpha, a, b)
and "RFM and CLV" (p, q, v).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import differentiate

from cxloop.errors import Invalid
from cxloop.insights import clv, clv_models

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
SAMPLE = DATA / "cdnow_sample.txt"
SUMMARY = DATA / "cdnow_customers_summary_with_transactions.csv"
PUBLISHED_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PUBLISHED_GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "v": 15.44}
CALIBRATION_END = "1997-09-30"
OBSERVATION_END = "1998-06-30"


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} not present (shared development data, not shipped with the repo)")
    return path


def _read_sample() -> pd.DataFrame:
    return pd.read_csv(
        _need(SAMPLE),
        sep=r"\s+",
        header=None,
        names=["master_id", "customer", "date", "cds", "dollars"],
        dtype={"master_id": str, "date": str},
    )


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    return _read_sample()


@pytest.fixture(scope="module")
def cdnow_result(cdnow: pd.DataFrame) -> clv.ClvResult:
    return clv.fit_clv(
        cdnow,
        customer_col="customer",
        date_col="date",
        amount_col="dollars",
        calibration_end=CALIBRATION_END,
        observation_end=OBSERVATION_END,
    )


# --- CDNOW: the published fit ------------------------------------------------------------------


def test_cdnow_bgnbd_reproduces_published_parameters_within_one_percent(
    cdnow_result: clv.ClvResult,
) -> None:
    for name, published in PUBLISHED_BGNBD.items():
        assert cdnow_result.params[name] == pytest.approx(published, rel=0.01), name
    assert cdnow_result.n == 2357


def test_cdnow_gamma_gamma_from_exact_spends_reproduces_published_within_two_percent(
    cdnow_result: clv.ClvResult,
) -> None:
    for name, published in PUBLISHED_GAMMA_GAMMA.items():
        assert cdnow_result.params[name] == pytest.approx(published, rel=0.02), name
    assert cdnow_result.n_spend == cdnow_result.n_repeat == 946


def test_cdnow_summary_matches_the_published_summary_file(cdnow_result: clv.ClvResult) -> None:
    published = pd.read_csv(_need(SUMMARY)).set_index("ID").sort_index()
    ours = cdnow_result.customers.set_index("customer").sort_index()
    assert ours.index.tolist() == published.index.tolist()
    assert (ours["frequency"] == published["x"]).all()
    # The file is rounded to 2 dp; 0.005 plus float slack.
    assert np.abs(ours["recency"] - published["t_x"]).max() <= 0.0051
    assert np.abs(ours["T"] - published["T"]).max() <= 0.0051
    spend = ours["monetary"].fillna(0.0)
    assert np.abs(spend - published["zbar"]).max() <= 0.0051


def test_bgnbd_fitted_on_the_rounded_summary_file_also_matches_the_paper() -> None:
    published = pd.read_csv(_need(SUMMARY))
    fit = clv_models.fit_bgnbd(published["x"], published["t_x"], published["T"])
    for name, value in PUBLISHED_BGNBD.items():
        assert fit.params[name] == pytest.approx(value, rel=0.01), name
    assert fit.converged


def test_cdnow_holdout_counts_actual_repeat_purchase_days_and_expects_them_roughly(
    cdnow: pd.DataFrame, cdnow_result: clv.ClvResult
) -> None:
    dates = pd.to_datetime(cdnow["date"], format="%Y%m%d")
    later = cdnow[
        (dates > pd.Timestamp(CALIBRATION_END)) & (dates <= pd.Timestamp(OBSERVATION_END))
    ]
    holdout = cdnow_result.holdout
    assert holdout is not None
    assert holdout.actual_total == len(later[["customer", "date"]].drop_duplicates())
    assert holdout.periods == pytest.approx(273 / 7)
    assert holdout.n == 2357 == holdout.by_frequency["n"].sum()
    # What an analyst checks: the model's total is within 15 % of what happened.
    assert holdout.expected_total == pytest.approx(holdout.actual_total, rel=0.15)
    frame = cdnow_result.customers
    error = np.mean(np.abs(frame["holdout_purchases"] - frame["holdout_expected"]))
    assert holdout.mean_absolute_error == pytest.approx(error)


def test_cdnow_result_states_method_caveats_and_zero_spend(cdnow_result: clv.ClvResult) -> None:
    caveats = " ".join(cdnow_result.caveats)
    assert "8 transactions with amount 0" in caveats
    assert f"{cdnow_result.spend_frequency_correlation:.3f}" in caveats
    assert "BG/NBD" in cdnow_result.method and "Gamma–Gamma" in cdnow_result.method
    table = cdnow_result.parameters
    assert list(table.columns) == list(clv.PARAMETER_COLUMNS)
    assert ((table["ci_low"] < table["estimate"]) & (table["estimate"] < table["ci_high"])).all()


# --- simulation: known parameters come back ----------------------------------------------------

TRUE = {"r": 0.5, "alpha": 4.0, "a": 1.0, "b": 3.0, "p": 6.0, "q": 4.0, "v": 15.0}
START = pd.Timestamp("2024-01-01")
WEEKS = 78


def simulate(n: int, seed: int) -> pd.DataFrame:
    """Transactions from BG/NBD + Gamma–Gamma with ``TRUE``: Poisson purchases at a gamma rate,
    a beta drop-out chance after each repeat purchase, gamma spends around a gamma scale."""
    rng = np.random.default_rng(seed)
    rates = rng.gamma(TRUE["r"], 1 / TRUE["alpha"], n)
    drop = rng.beta(TRUE["a"], TRUE["b"], n)
    scale = rng.gamma(TRUE["q"], 1 / TRUE["v"], n)
    rows = []
    for i in range(n):
        week = rng.uniform(0, 12)
        weeks = [week]
        while True:
            week += rng.exponential(1 / rates[i])
            if week > WEEKS:
                break
            weeks.append(week)
            if rng.random() < drop[i]:
                break
        spends = rng.gamma(TRUE["p"], 1 / scale[i], len(weeks))
        rows += [
            (f"c{i}", START + pd.Timedelta(days=w * 7), s)
            for w, s in zip(weeks, spends, strict=True)
        ]
    return pd.DataFrame(rows, columns=["customer", "at", "spend"])


@pytest.fixture(scope="module")
def simulated() -> clv.ClvResult:
    return clv.fit_clv(
        simulate(4000, seed=0),
        customer_col="customer",
        date_col="at",
        amount_col="spend",
        calibration_end=START + pd.Timedelta(weeks=WEEKS),
    )


def test_parameters_simulated_from_a_known_process_are_recovered(
    simulated: clv.ClvResult,
) -> None:
    """Tolerance: each estimate within 25 % of the truth and within 3 standard errors (log
    scale) — 4,000 simulated customers, seed 0; whole-day dates add a little rounding."""
    table = simulated.parameters.set_index("parameter")
    z = 2 * 1.959964
    for name, true in TRUE.items():
        row = table.loc[name]
        assert row["estimate"] == pytest.approx(true, rel=0.25), name
        se_log = (np.log(row["ci_high"]) - np.log(row["ci_low"])) / z
        assert abs(np.log(row["estimate"] / true)) < 3 * se_log, name


def test_intervals_use_the_same_hessian_as_scipy_differentiate() -> None:
    rng = np.random.default_rng(7)
    counts = rng.integers(1, 8, 300).astype(float)
    means = rng.gamma(6.0, 30 / 6.0, 300)
    fit = clv_models.fit_gamma_gamma(counts, means)
    at = np.log([fit.params[k] for k in clv_models.GAMMA_GAMMA_PARAMS])
    hessian = differentiate.hessian(
        lambda z: np.sum(clv_models.gamma_gamma_log_likelihood(z, counts, means), axis=-1), at
    ).ddf
    se_log = np.sqrt(np.diag(np.linalg.inv(-hessian)))
    for name, se in zip(clv_models.GAMMA_GAMMA_PARAMS, se_log, strict=True):
        assert fit.std_errors[name] == pytest.approx(fit.params[name] * se, rel=1e-3), name


# --- predictions -------------------------------------------------------------------------------


def test_p_alive_is_one_without_repeat_purchases_and_rises_with_recency(
    simulated: clv.ClvResult,
) -> None:
    params = simulated.params
    assert clv_models.p_alive(params, [0, 0], [0, 0], [10, 50]).tolist() == [1.0, 1.0]
    recency = np.linspace(1, 40, 20)
    alive = clv_models.p_alive(params, np.full(20, 3), recency, np.full(20, 40))
    assert np.all(np.diff(alive) > 0)
    expected = clv_models.expected_purchases(params, 10, np.full(20, 3), recency, np.full(20, 40))
    assert np.all(np.diff(expected) > 0)
    table = simulated.customers
    assert (table.loc[table["frequency"] == 0, "p_alive"] == 1.0).all()


def test_predictions_agree_with_the_lifetimes_package() -> None:
    lifetimes = pytest.importorskip("lifetimes", reason="lifetimes (a dev extra) not installed")
    published = {**PUBLISHED_BGNBD, **PUBLISHED_GAMMA_GAMMA}
    fitter = lifetimes.BetaGeoFitter()
    fitter.params_ = pd.Series({k: published[k] for k in clv_models.BGNBD_PARAMS})
    x, t_x, age = np.array([0, 1, 2, 7, 20]), np.array([0, 5, 30, 20, 38]), np.full(5, 38.86)
    theirs = fitter.conditional_expected_number_of_purchases_up_to_time(39, x, t_x, age)
    ours = clv_models.expected_purchases(published, 39, x, t_x, age)
    np.testing.assert_allclose(ours, theirs, rtol=1e-9)
    alive = fitter.conditional_probability_alive(x, t_x, age)
    np.testing.assert_allclose(clv_models.p_alive(published, x, t_x, age), alive, rtol=1e-9)


def test_clv_without_discount_is_spend_times_expected_purchases(
    simulated: clv.ClvResult,
) -> None:
    params, table = simulated.params, simulated.customers
    rows = (table["frequency"], table["recency"], table["T"])
    spend = table["expected_spend"].to_numpy()
    plain = clv_models.discounted_value(params, spend, 52, 0.0, *rows)
    np.testing.assert_allclose(plain, spend * clv_models.expected_purchases(params, 52, *rows))
    assert np.all(table["clv"].to_numpy() < plain)  # the default discounts 1 % a week
    population_mean = params["p"] * params["v"] / (params["q"] - 1)
    spend_of_new = table.loc[table["frequency"] == 0, "expected_spend"]
    np.testing.assert_allclose(spend_of_new, population_mean)


# --- input handling ----------------------------------------------------------------------------

SMALL = pd.DataFrame(
    {
        "who": ["a", "a", "a", "b", "b", "c", "d", "d", "e", "e"],
        "when": [
            "2024-01-01",
            "2024-01-01 15:00",
            "2024-02-01",
            "2024-01-03",
            "2024-01-20",
            "2024-01-10",
            "2024-02-02",
            "2024-02-09",
            "2024-01-15",
            "2024-03-01",
        ],
        "paid": [10.0, 5.0, 12.0, 20.0, 18.0, 5.0, 7.0, 0.0, 30.0, 25.0],
    }
)
COLUMNS: dict[str, Any] = {"customer_col": "who", "date_col": "when", "amount_col": "paid"}


def test_same_day_purchases_merge_and_zero_amounts_leave_the_spend_model() -> None:
    result = clv.fit_clv(SMALL, **COLUMNS, calibration_end="2024-03-31", freq="D")
    table = result.customers.set_index("who")
    assert table.loc["a", "frequency"] == 1  # 1 Jan twice is one purchase
    assert table.loc["a", "recency"] == 31
    assert table.loc["d", "frequency"] == 1 and table["monetary"].isna()["d"]
    assert result.n_repeat == 4 and result.n_spend == 3
    assert any("1 transactions with amount 0" in c for c in result.caveats)
    assert any("only 4 customers made a repeat purchase" in c for c in result.caveats)


def test_an_ibis_table_gives_the_same_result_as_its_dataframe() -> None:
    ibis = pytest.importorskip("ibis")
    frame = SMALL.assign(when=pd.to_datetime(SMALL["when"], format="mixed"))
    from_frame = clv.fit_clv(frame, **COLUMNS, calibration_end="2024-03-31", freq="D")
    from_ibis = clv.fit_clv(ibis.memtable(frame), **COLUMNS, calibration_end="2024-03-31", freq="D")
    assert from_ibis.params == pytest.approx(from_frame.params)


@pytest.mark.parametrize(
    ("change", "options", "field", "value"),
    [
        ({"paid": None}, {}, "paid", None),
        ({"when": ["not a date", *SMALL["when"][1:]]}, {}, "when", "not a date"),
        ({"paid": [-3.0, *SMALL["paid"][1:]]}, {}, "paid", -3.0),
        ({}, {"calibration_end": "2023-12-31"}, "calibration_end", "2023-12-31"),
        ({}, {"calibration_end": "someday"}, "calibration_end", "someday"),
        ({}, {"freq": "fortnight"}, "freq", "fortnight"),
        ({}, {"observation_end": "2024-01-01"}, "observation_end", "2024-01-01"),
    ],
)
def test_bad_input_is_invalid_naming_field_and_value(
    change: dict[str, Any], options: dict[str, Any], field: str, value: object
) -> None:
    frame = SMALL.copy()
    for column, new in change.items():
        if new is None:
            frame = frame.drop(columns=column)
        else:
            frame[column] = new
    arguments: dict[str, Any] = {"calibration_end": "2024-03-31", **options}
    with pytest.raises(Invalid) as raised:
        clv.fit_clv(frame, **COLUMNS, **arguments)
    problem = raised.value.problems[0]
    assert (problem.field, problem.value) == (field, value)
    assert problem.reason
