"""Customer lifetime value: BG/NBD for how often and how long, Gamma–Gamma for how much.

Both models are fitted by maximum likelihood with ``scipy.optimize`` on log-parameters (so every
parameter stays positive) from a per-customer calibration summary: ``frequency`` (repeat
purchases x), ``recency`` (t_x, first to last purchase) and ``T`` (first purchase to the end of
calibration), in ``freq`` periods. We write the likelihoods ourselves because the library that
has them, ``lifetimes``, is archived; ``bench/clv_bench.py`` times both side by side.

References: Fader, Hardie & Lee (2005), "Counting your customers the easy way: an alternative
to the Pareto/NBD model", Marketing Science 24(2) (BG/NBD); Fader, Hardie & Lee (2005), "RFM and
CLV: using iso-value curves for customer base analysis", JMR 42(4) (Gamma–Gamma).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from cxloop.errors import Invalid, Problem
from cxloop.insights.clv_models import (
    CONFIDENCE,
    ModelFit,
    discounted_value,
    expected_purchases,
    expected_spend,
    fit_bgnbd,
    fit_gamma_gamma,
    p_alive,
)
from cxloop.insights.tables import as_frame

if TYPE_CHECKING:
    import ibis

PERIOD_DAYS = {"D": 1.0, "W": 7.0, "M": 365.2425 / 12}
"""``freq`` units in days; a month is the mean Gregorian month so durations stay continuous."""
MIN_REPEATERS_TRUSTED = 100
"""Below this many repeat customers the estimates are shaky; the result says so."""
STRONG_CORRELATION = 0.3
"""Above this |correlation| of frequency and spend the Gamma–Gamma values are suspect."""
HOLDOUT_FREQUENCY_CAP = 7
PARAMETER_COLUMNS = ("model", "parameter", "n", "estimate", "std_error", "ci_low", "ci_high")


@dataclass(frozen=True)
class HoldoutCheck:
    """Actual vs expected repeat purchases after calibration: the check an analyst trusts."""

    n: int
    periods: float
    actual_total: float
    expected_total: float
    mean_absolute_error: float
    by_frequency: pd.DataFrame
    """``frequency`` (calibration x, last row ``HOLDOUT_FREQUENCY_CAP`` means "or more"), ``n``,
    ``actual_mean``, ``expected_mean``."""


@dataclass(frozen=True)
class ClvResult:
    """BG/NBD + Gamma–Gamma fit with a per-customer table, its n, method and caveats."""

    params: dict[str, float]
    parameters: pd.DataFrame
    customers: pd.DataFrame
    n: int
    n_repeat: int
    n_spend: int
    log_likelihood_bgnbd: float
    log_likelihood_gamma_gamma: float
    spend_frequency_correlation: float
    freq: str
    discount_rate: float
    horizon: int
    method: str
    caveats: tuple[str, ...]
    holdout: HoldoutCheck | None = None
    fits: dict[str, ModelFit] = field(default_factory=dict, repr=False)

    def to_json_dict(self) -> dict[str, Any]:
        """Parameters, intervals, counts, method and caveats as JSON-ready values (no pickles)."""
        return {
            "params": self.params,
            "parameters": self.parameters.to_dict(orient="records"),
            "n": self.n,
            "n_repeat": self.n_repeat,
            "n_spend": self.n_spend,
            "log_likelihood_bgnbd": self.log_likelihood_bgnbd,
            "log_likelihood_gamma_gamma": self.log_likelihood_gamma_gamma,
            "freq": self.freq,
            "discount_rate": self.discount_rate,
            "horizon": self.horizon,
            "method": self.method,
            "caveats": list(self.caveats),
        }


# --- likelihoods --------------------------------------------------------------------------------


def _timestamp(value: Any, name: str, problems: list[Problem]) -> pd.Timestamp | None:
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError):
        problems.append(Problem(name, value, "is not a date"))
        return None
    if pd.isna(stamp):
        problems.append(Problem(name, value, "is not a date"))
        return None
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return stamp.normalize()


def purchase_days(
    frame: pd.DataFrame, customer_col: str, date_col: str, amount_col: str
) -> pd.DataFrame:
    """One row per customer and day (``customer``, ``day``, ``amount`` summed), checked:
    ``Invalid`` names the first bad row of each kind."""
    problems: list[Problem] = []
    missing = [c for c in (customer_col, date_col, amount_col) if c not in frame.columns]
    for name in missing:
        problems.append(Problem(name, None, "is not a column of the transactions"))
    if problems:
        raise Invalid(problems)
    days = pd.to_datetime(frame[date_col], errors="coerce", format="mixed")
    if getattr(days.dt, "tz", None) is not None:
        days = days.dt.tz_convert("UTC").dt.tz_localize(None)
    amounts = pd.to_numeric(frame[amount_col], errors="coerce")
    for name, bad, reason in (
        (customer_col, frame[customer_col].isna(), "is missing"),
        (date_col, days.isna(), "is not a date"),
        (amount_col, amounts.isna(), "is not a number"),
        (amount_col, amounts < 0, "is negative"),
    ):
        if bad.any():
            rows = np.flatnonzero(bad.to_numpy())
            value = frame[name].iloc[rows[0]]
            problems.append(Problem(name, value, f"{reason} (row {rows[0]}; {len(rows)} rows)"))
    if problems:
        raise Invalid(problems)
    clean = pd.DataFrame(
        {"customer": frame[customer_col].to_numpy(), "day": days.dt.normalize(), "amount": amounts}
    )
    return clean.groupby(["customer", "day"], as_index=False, sort=True).agg(
        amount=("amount", "sum")
    )


def calibration_summary(
    days: pd.DataFrame, calibration_end: pd.Timestamp, period_days: float
) -> pd.DataFrame:
    """Per customer first seen by ``calibration_end``: ``frequency``, ``recency``, ``T``,
    ``monetary`` (mean of repeat days with positive spend; NaN if none) and ``n_spend``."""
    calibration = days[days["day"] <= calibration_end]
    grouped = calibration.groupby("customer", sort=True)["day"]
    first = grouped.transform("min")
    repeat = calibration[calibration["day"] > first]
    paid = repeat[repeat["amount"] > 0].groupby("customer")["amount"]
    summary = pd.DataFrame(
        {
            "frequency": grouped.size() - 1,
            "recency": (grouped.max() - grouped.min()).dt.days / period_days,
            "T": (calibration_end - grouped.min()).dt.days / period_days,
        }
    )
    summary["frequency"] = summary["frequency"].astype("int64")
    summary["monetary"] = paid.mean().reindex(summary.index)
    summary["n_spend"] = paid.size().reindex(summary.index, fill_value=0).astype("int64")
    summary.index.name = "customer"
    return summary


# --- the analysis -------------------------------------------------------------------------------


def _check_options(
    freq: str, discount_rate: float, horizon: int, calibration_end: Any, observation_end: Any
) -> tuple[pd.Timestamp, pd.Timestamp | None]:
    problems: list[Problem] = []
    if freq not in PERIOD_DAYS:
        problems.append(Problem("freq", freq, f"is not one of: {', '.join(PERIOD_DAYS)}"))
    if not np.isfinite(discount_rate) or discount_rate < 0:
        problems.append(Problem("discount_rate", discount_rate, "is not a rate ≥ 0 per period"))
    if isinstance(horizon, bool) or not isinstance(horizon, int) or horizon < 1:
        problems.append(Problem("horizon", horizon, "is not a whole number of periods ≥ 1"))
    end = _timestamp(calibration_end, "calibration_end", problems)
    observed = None
    if observation_end is not None:
        observed = _timestamp(observation_end, "observation_end", problems)
        if end is not None and observed is not None and observed <= end:
            problems.append(
                Problem("observation_end", observation_end, "is not after calibration_end")
            )
    if problems or end is None:
        raise Invalid(problems)
    return end, observed


def _holdout(
    days: pd.DataFrame,
    customers: pd.DataFrame,
    params: dict[str, float],
    start: pd.Timestamp,
    end: pd.Timestamp,
    period_days: float,
) -> tuple[HoldoutCheck, pd.Series, pd.Series]:
    """Repeat purchases of calibrated customers in (start, end] against the model's expectation."""
    periods = (end - start).days / period_days
    inside = days[(days["day"] > start) & (days["day"] <= end)]
    actual = (
        inside.groupby("customer").size().reindex(customers.index, fill_value=0).astype("int64")
    )
    expected = pd.Series(
        expected_purchases(
            params, periods, customers["frequency"], customers["recency"], customers["T"]
        ),
        index=customers.index,
    )
    band = customers["frequency"].clip(upper=HOLDOUT_FREQUENCY_CAP)
    by_frequency = (
        pd.DataFrame({"frequency": band, "actual": actual, "expected": expected})
        .groupby("frequency", sort=True)
        .agg(
            n=("actual", "size"), actual_mean=("actual", "mean"), expected_mean=("expected", "mean")
        )
        .reset_index()
    )
    check = HoldoutCheck(
        n=len(customers),
        periods=periods,
        actual_total=float(actual.sum()),
        expected_total=float(expected.sum()),
        mean_absolute_error=float(np.mean(np.abs(actual - expected))),
        by_frequency=by_frequency,
    )
    return check, actual, expected


def _parameter_table(fits: dict[str, ModelFit]) -> pd.DataFrame:
    rows = [
        {
            "model": model,
            "parameter": name,
            "n": fit.n,
            "estimate": value,
            "std_error": fit.std_errors[name],
            "ci_low": fit.ci_low[name],
            "ci_high": fit.ci_high[name],
        }
        for model, fit in fits.items()
        for name, value in fit.params.items()
    ]
    return pd.DataFrame(rows, columns=list(PARAMETER_COLUMNS))


def fit_clv(
    transactions: pd.DataFrame | ibis.Table,
    *,
    customer_col: str,
    date_col: str,
    amount_col: str,
    calibration_end: Any,
    freq: str = "W",
    discount_rate: float = 0.01,
    horizon: int = 52,
    observation_end: Any = None,
) -> ClvResult:
    """Fit BG/NBD + Gamma–Gamma on purchases up to ``calibration_end`` and value every customer.

    Same-day purchases of a customer merge into one (amounts summed). ``discount_rate`` is per
    ``freq`` period (the default 0.01 per week is about 68 % a year); ``horizon`` is in periods.
    With ``observation_end`` the purchases after ``calibration_end`` are a holdout check.

    Examples
    --------
    >>> import pandas as pd
    >>> rows = [("a", "2024-01-01", 10.0), ("a", "2024-02-01", 12.0), ("a", "2024-03-05", 9.0),
    ...         ("b", "2024-01-03", 20.0), ("b", "2024-01-20", 18.0), ("c", "2024-01-10", 5.0),
    ...         ("d", "2024-02-02", 7.0), ("d", "2024-02-09", 8.0), ("e", "2024-01-15", 30.0)]
    >>> frame = pd.DataFrame(rows, columns=["customer_id", "bought_on", "amount"])
    >>> result = fit_clv(frame, customer_col="customer_id", date_col="bought_on",
    ...                  amount_col="amount", calibration_end="2024-03-31")
    >>> result.n, result.n_repeat, sorted(result.params)
    (5, 3, ['a', 'alpha', 'b', 'p', 'q', 'r', 'v'])
    """
    end, observed = _check_options(freq, discount_rate, horizon, calibration_end, observation_end)
    frame = as_frame(transactions, "transactions")
    days = purchase_days(frame, customer_col, date_col, amount_col)
    period_days = PERIOD_DAYS[freq]
    if days.empty or days["day"].min() > end:
        first = None if days.empty else days["day"].min().date().isoformat()
        raise Invalid(f"is before the first purchase ({first})", "calibration_end", calibration_end)
    summary = calibration_summary(days, end, period_days)
    n_repeat = int((summary["frequency"] > 0).sum())
    spenders = summary[summary["n_spend"] > 0]
    if n_repeat == 0 or len(spenders) < 2:
        raise Invalid(
            f"leaves {n_repeat} customers with a repeat purchase and {len(spenders)} with repeat"
            " spend by calibration_end; BG/NBD needs one, Gamma–Gamma two",
            "calibration_end",
            calibration_end,
        )
    bgnbd = fit_bgnbd(summary["frequency"], summary["recency"], summary["T"])
    spend = fit_gamma_gamma(spenders["n_spend"], spenders["monetary"])
    fits = {"bgnbd": bgnbd, "gamma_gamma": spend}
    params = {**bgnbd.params, **spend.params}

    table = summary[["frequency", "recency", "T", "monetary"]].copy()
    recency_t = (summary["frequency"], summary["recency"], summary["T"])
    table["expected_purchases"] = expected_purchases(params, float(horizon), *recency_t)
    table["p_alive"] = p_alive(params, *recency_t)
    table["expected_spend"] = expected_spend(params, summary["n_spend"], summary["monetary"])
    table["clv"] = discounted_value(
        params, table["expected_spend"].to_numpy(), horizon, discount_rate, *recency_t
    )
    holdout = None
    if observed is not None:
        holdout, actual, expected = _holdout(days, summary, params, end, observed, period_days)
        table["holdout_purchases"] = actual
        table["holdout_expected"] = expected
    varies = spenders["n_spend"].nunique() > 1 and spenders["monetary"].nunique() > 1
    correlation = (
        float(np.corrcoef(spenders["n_spend"], spenders["monetary"])[0, 1]) if varies else np.nan
    )
    customers = table.rename_axis(customer_col).reset_index()
    caveats = _caveats(frame, days, amount_col, end, observed, fits, n_repeat, correlation)
    return ClvResult(
        params=params,
        parameters=_parameter_table(fits),
        customers=customers,
        n=len(summary),
        n_repeat=n_repeat,
        n_spend=len(spenders),
        log_likelihood_bgnbd=bgnbd.log_likelihood,
        log_likelihood_gamma_gamma=spend.log_likelihood,
        spend_frequency_correlation=correlation,
        freq=freq,
        discount_rate=discount_rate,
        horizon=horizon,
        method=(
            f"BG/NBD (Fader, Hardie & Lee 2005) on {len(summary)} customers and Gamma–Gamma"
            f" (FHL 2005, 'RFM and CLV') on {len(spenders)} repeaters with positive spend,"
            " both by maximum likelihood on log-parameters (scipy L-BFGS-B); same-day purchases"
            f" merged; units of 1 {freq}; intervals {CONFIDENCE:.0%} from the numerical Hessian;"
            f" clv = expected spend × expected purchases per period over {horizon} periods,"
            f" discounted at {discount_rate:g} per period (not the infinite-horizon DERT)"
        ),
        caveats=caveats,
        holdout=holdout,
        fits=fits,
    )


def _caveats(
    frame: pd.DataFrame,
    days: pd.DataFrame,
    amount_col: str,
    end: pd.Timestamp,
    observed: pd.Timestamp | None,
    fits: dict[str, ModelFit],
    n_repeat: int,
    correlation: float,
) -> tuple[str, ...]:
    """What the reader must know before trusting the numbers, in words."""
    independence = (
        "Gamma–Gamma assumes spend is independent of purchase frequency: among repeaters the"
        " correlation of frequency and mean spend is "
    )
    if np.isnan(correlation):
        independence += "unknown (frequency or mean spend does not vary)"
    else:
        strong = abs(correlation) > STRONG_CORRELATION
        independence += f"{correlation:.3f}" + (" — too strong to ignore" if strong else "")
    found = [
        independence,
        "per-customer values are point estimates: parameter uncertainty (see the intervals) is"
        " not carried into them",
    ]
    zero = int((pd.to_numeric(frame[amount_col]) == 0).sum())
    if zero:
        found.append(
            f"{zero} transactions with amount 0 count as purchases in BG/NBD but are left out of"
            " the spend model"
        )
    if n_repeat < MIN_REPEATERS_TRUSTED:
        found.append(
            f"only {n_repeat} customers made a repeat purchase (< {MIN_REPEATERS_TRUSTED}):"
            " parameters and values are uncertain"
        )
    for model, fit in fits.items():
        if not fit.converged:
            found.append(f"{model} fit did not converge: {fit.message}")
        if any(np.isnan(v) for v in fit.std_errors.values()):
            found.append(f"{model} information matrix is singular: no intervals")
    if fits["gamma_gamma"].params["q"] <= 1:
        found.append("Gamma–Gamma q ≤ 1: population mean spend is infinite; expected_spend is NaN")
    late = (
        int((days["day"] > end).sum()) if observed is None else int((days["day"] > observed).sum())
    )
    if late:
        which = "observation_end" if observed is not None else "calibration_end"
        found.append(f"{late} purchase days after {which} are ignored")
    newcomers = days.loc[days["day"] > end, "customer"]
    first_seen_late = int(
        newcomers[~newcomers.isin(days.loc[days["day"] <= end, "customer"])].nunique()
    )
    if first_seen_late:
        found.append(
            f"{first_seen_late} customers first bought after calibration_end and have no value"
        )
    return tuple(found)
