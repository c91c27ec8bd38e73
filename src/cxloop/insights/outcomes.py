"""What voice does to behaviour: effects of what customers said on what they then did.

Input is a frame from ``cxloop.insights.frames`` (executed to pandas): one row per customer and
exposure, with ``exposed`` (bool), an outcome column and confounder columns. For each exposure
``outcome_effects`` gives

* the **crude** difference exposed − unexposed (risk difference for binary outcomes, mean
  difference for counts and amounts; two-proportion z-test or Welch t-test from
  ``cxloop.metrics.compare``) and the crude ratio (risk ratio / ratio of means, log interval);
* the **adjusted** difference and ratio, controlling for the confounders, by g-computation
  (``method="regression"``: one outcome model per arm — scikit-learn ``LogisticRegression`` without
  penalty for binary, ``LinearRegression`` otherwise — predicted for every row under both arms and
  averaged, i.e. standardised to the compared population) or by inverse-propensity weighting with
  stabilised weights (``method="ipw"``: a logistic propensity model, Hájek weighted means);
  intervals are bootstrap percentiles (rows resampled as integer weights, ``n_boot`` times, fixed
  seed), the p-value a normal test on the bootstrap standard error;
* Benjamini–Hochberg q-values over the exposures, and the value at stake.

Written with scikit-learn and numpy because statsmodels (which has g-computation helpers) is not
a dependency. Observational: every result says what it adjusted for and that it is not proof of
causation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from cxloop.errors import Invalid, Problem
from cxloop.insights.adjustment import Estimator, design
from cxloop.metrics.compare import benjamini_hochberg, mean_difference, proportion_difference

Kind = Literal["binary", "count", "amount"]
Method = Literal["regression", "ipw"]
Floats = npt.NDArray[np.float64]

EFFECT_COLUMNS = (
    "exposure",
    "n",
    "n_exposed",
    "n_unexposed",
    "mean_exposed",
    "mean_unexposed",
    "crude",
    "crude_ci_low",
    "crude_ci_high",
    "crude_p_value",
    "crude_ratio",
    "crude_ratio_ci_low",
    "crude_ratio_ci_high",
    "estimate",
    "ci_low",
    "ci_high",
    "p_value",
    "q_value",
    "significant",
    "ratio",
    "ratio_ci_low",
    "ratio_ci_high",
    "value_at_stake",
    "value_ci_low",
    "value_ci_high",
    "caveats",
)
CHURNER_COLUMNS = (
    "topic",
    "n",
    "n_churned",
    "n_stayed",
    "share_churned",
    "share_stayed",
    "estimate",
    "ci_low",
    "ci_high",
    "p_value",
    "q_value",
    "significant",
)
MIN_ARM = 30
"""Below this many rows in an arm (or outcomes, for binary) a row carries a small-n caveat."""
MIN_ADJUSTED_ARM = 10
"""Below this many rows in an arm only the crude difference is given: a model per arm with the
confounders cannot be fitted on fewer."""
EXTREME_PROPENSITY = 0.02
"""Propensities outside [0.02, 0.98] signal a positivity problem (exposure nearly determined)."""


@dataclass(frozen=True)
class OutcomesResult:
    """Effects per exposure (``table``, columns ``EFFECT_COLUMNS``) with what was done, in words."""

    table: pd.DataFrame
    outcome: str
    kind: str
    method: str
    confounders: tuple[str, ...]
    n: int
    caveats: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class ChurnerTopicsResult:
    """Share of churned vs staying customers who said each topic before (``CHURNER_COLUMNS``)."""

    table: pd.DataFrame
    outcome: str
    method: str
    n: int
    caveats: tuple[str, ...] = field(default=())


def _crude(kind: str, a: Floats, y: Floats, confidence: float) -> dict[str, float]:
    """Crude difference (compare.*) and ratio with a log-scale (Katz / delta) interval."""
    y0, y1 = y[a == 0], y[a == 1]
    if kind == "binary":
        test = proportion_difference(y0.sum(), len(y0), y1.sum(), len(y1), confidence=confidence)
    else:
        test = mean_difference(
            y0.sum(),
            (y0**2).sum(),
            len(y0),
            y1.sum(),
            (y1**2).sum(),
            len(y1),
            confidence=confidence,
        )
    # numpy scalars: no outcome among the unexposed (nobody churned) gives an undefined ratio
    # (NaN), never a ZeroDivisionError
    m0, m1 = np.float64(y0.mean()), np.float64(y1.mean())
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = m1 / m0 if m0 > 0 and m1 > 0 else np.float64("nan")
        if kind == "binary":
            se = np.sqrt((1 - m1) / y1.sum() + (1 - m0) / y0.sum())
        else:
            se = np.sqrt(y1.var(ddof=1) / len(y1) / m1**2 + y0.var(ddof=1) / len(y0) / m0**2)
        low, high = ratio * np.exp(-z * se), ratio * np.exp(z * se)
    return {
        "mean_exposed": float(m1),
        "mean_unexposed": float(m0),
        "crude": test.difference,
        "crude_ci_low": test.ci_low,
        "crude_ci_high": test.ci_high,
        "crude_p_value": test.p_value,
        "crude_ratio": float(ratio),
        "crude_ratio_ci_low": float(low),
        "crude_ratio_ci_high": float(high),
    }


def _check(
    frame: pd.DataFrame,
    exposures: Sequence[str],
    outcome: str,
    kind: str,
    confounders: Sequence[str],
    method: str,
    confidence: float,
    value_col: str | None,
) -> None:
    problems = []
    if frame.empty:  # an empty table would read as "no effect anywhere"
        problems.append(Problem("frame", 0, "has no rows: there is nobody to compare"))
    needed = ["exposure", "exposed", outcome, *confounders] + ([value_col] if value_col else [])
    problems += [Problem(c, None, "is not a column of the frame") for c in needed if c not in frame]
    if kind not in ("binary", "count", "amount"):
        problems.append(Problem("kind", kind, "is not one of binary, count, amount"))
    if method not in ("regression", "ipw"):
        problems.append(Problem("method", method, "is not one of regression, ipw"))
    if not 0 < confidence < 1:
        problems.append(Problem("confidence", confidence, "is not between 0 and 1"))
    if "exposure" in frame:
        known = set(frame["exposure"])
        problems += [
            Problem("exposures", e, "is not in the frame") for e in exposures if e not in known
        ]
    if outcome in frame and kind == "binary":
        values = set(pd.unique(frame[outcome].dropna()))
        if not values <= {0, 1}:
            problems.append(Problem(outcome, sorted(values)[:5], "is not a 0/1 outcome"))
    if problems:
        raise Invalid(problems)


def _row_caveats(a: Floats, y: Floats, kind: str, propensity: Floats) -> list[str]:
    notes = []
    n1, n0 = int(a.sum()), int(len(a) - a.sum())
    if min(n1, n0) < MIN_ARM:
        notes.append(f"small n: {n1} exposed, {n0} unexposed")
    if kind == "binary" and min(y[a == 1].sum(), y[a == 0].sum()) < 10:
        notes.append("fewer than 10 outcomes in an arm: the adjusted model is unstable")
    finite = propensity[np.isfinite(propensity)]
    if len(finite):
        extreme = float(np.mean((finite < EXTREME_PROPENSITY) | (finite > 1 - EXTREME_PROPENSITY)))
        if extreme > 0.01:
            notes.append(
                f"positivity: {extreme:.0%} of propensities outside "
                f"[{EXTREME_PROPENSITY}, {1 - EXTREME_PROPENSITY}]"
            )
    return notes


def outcome_effects(
    frame: pd.DataFrame,
    *,
    exposures: Sequence[str] | None = None,
    outcome: str,
    kind: Kind = "binary",
    confounders: Sequence[str] = (),
    method: Method = "regression",
    confidence: float = 0.95,
    value_col: str | None = None,
    n_boot: int = 200,
    random_state: int = 0,
) -> OutcomesResult:
    """Crude and adjusted effect of each exposure on ``outcome``, exposed − unexposed.

    ``estimate`` is the adjusted difference (risk difference for binary, mean difference
    otherwise) with its bootstrap interval, ``p_value`` and BH ``q_value`` over the exposures;
    ``value_at_stake`` is n exposed × estimate × the exposed customers' mean ``value_col``.
    Rows whose ``exposed`` is missing are left out of that exposure's comparison.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> exposed = rng.random(400) < 0.5
    >>> churned = (rng.random(400) < np.where(exposed, 0.4, 0.1)).astype(int)
    >>> frame = pd.DataFrame({"exposure": "late", "exposed": exposed, "churned": churned})
    >>> result = outcome_effects(frame, outcome="churned", n_boot=50)
    >>> row = result.table.iloc[0]
    >>> bool(row.ci_low < 0.3 < row.ci_high), int(row.n)
    (True, 400)
    """
    names = (
        list(dict.fromkeys(frame["exposure"]))
        if exposures is None and "exposure" in frame
        else list(exposures or [])
    )
    _check(frame, names, outcome, kind, confounders, method, confidence, value_col)
    rng = np.random.default_rng(random_state)
    alpha = (1 - confidence) / 2
    rows, used = [], 0
    for name in names:
        part = frame[
            (frame["exposure"] == name) & frame["exposed"].notna() & frame[outcome].notna()
        ]
        a: Floats = np.asarray(part["exposed"].astype(bool), dtype="float64")
        y: Floats = part[outcome].to_numpy(dtype="float64")
        row: dict[str, Any] = {"exposure": name, "n": len(part), "n_exposed": int(a.sum())}
        row["n_unexposed"] = len(part) - row["n_exposed"]
        used += len(part)
        if min(row["n_exposed"], row["n_unexposed"]) < 2:
            rows.append({**row, "caveats": "cannot compare: an arm has fewer than 2 rows"})
            continue
        row.update(_crude(kind, a, y, confidence))
        if min(row["n_exposed"], row["n_unexposed"]) < MIN_ADJUSTED_ARM:
            rows.append(
                {
                    **row,
                    "caveats": f"crude only: an arm has fewer than {MIN_ADJUSTED_ARM} rows, "
                    "too few to adjust for confounders",
                }
            )
            continue
        estimator = Estimator(kind, method, design(part, confounders), a, y)
        m0, m1 = estimator.means(np.ones(len(a)))
        propensity = estimator.propensity
        boot = np.empty((n_boot, 2))
        arms = [np.flatnonzero(a == arm) for arm in (0, 1)]
        for b in range(n_boot):
            # resampled within each arm, so no replicate loses an arm (a stratified bootstrap)
            drawn = np.concatenate([rng.choice(rows_of, len(rows_of)) for rows_of in arms])
            weight = np.bincount(drawn, minlength=len(a))
            boot[b] = estimator.means(weight.astype("float64"))
        differences = boot[:, 1] - boot[:, 0]
        with np.errstate(divide="ignore", invalid="ignore"):
            ratios = boot[:, 1] / boot[:, 0]
        if not (row["mean_unexposed"] > 0 and m0 > 0):  # no outcome unexposed: no ratio
            ratios = np.full(n_boot, np.nan)
        se = float(np.std(differences, ddof=1))
        estimate = m1 - m0
        row.update(
            estimate=estimate,
            ci_low=float(np.quantile(differences, alpha)),
            ci_high=float(np.quantile(differences, 1 - alpha)),
            p_value=float(2 * stats.norm.sf(abs(estimate) / se)) if se > 0 else float("nan"),
            ratio=m1 / m0 if np.isfinite(ratios).any() else float("nan"),
            ratio_ci_low=_quantile(ratios, alpha),
            ratio_ci_high=_quantile(ratios, 1 - alpha),
        )
        if value_col:
            value = float(part.loc[a == 1, value_col].astype("float64").mean())
            scale = row["n_exposed"] * value
            row.update(
                value_at_stake=scale * estimate,
                value_ci_low=scale * row["ci_low"],
                value_ci_high=scale * row["ci_high"],
            )
        row["caveats"] = "; ".join(_row_caveats(a, y, kind, propensity))
        rows.append(row)
    table = pd.DataFrame(rows).reindex(columns=list(EFFECT_COLUMNS))
    table["q_value"] = benjamini_hochberg(table["p_value"].astype("float64"))
    table["significant"] = table["q_value"] < 1 - confidence
    return OutcomesResult(
        table=table,
        outcome=outcome,
        kind=kind,
        method=_method_words(kind, method, confounders, n_boot),
        confounders=tuple(confounders),
        n=used,
        caveats=_caveats(confounders, value_col),
    )


def _quantile(values: Floats, q: float) -> float:
    """The q-quantile of the finite values; NaN when there are none (an undefined ratio)."""
    finite = values[np.isfinite(values)]
    return float(np.quantile(finite, q)) if len(finite) else float("nan")


def _method_words(kind: str, method: str, confounders: Sequence[str], n_boot: int) -> str:
    crude = "two-proportion z-test" if kind == "binary" else "Welch t-test"
    if not confounders:
        adjusted = "no confounders: the adjusted estimate equals the crude difference"
    elif method == "regression":
        model = "logistic regression" if kind == "binary" else "linear regression"
        adjusted = f"g-computation, one {model} per arm, standardised to the compared customers"
    else:
        adjusted = "inverse-propensity weighting, stabilised weights, logistic propensity"
    return f"crude: {crude}; adjusted: {adjusted}; intervals: {n_boot} bootstrap percentiles"


def _caveats(confounders: Sequence[str], value_col: str | None) -> tuple[str, ...]:
    adjusted = ", ".join(confounders) if confounders else "nothing"
    notes = [
        f"observational: adjusted for {adjusted}; not proof of causation — unmeasured "
        "differences between those who said it and those who did not remain",
        "q_value is Benjamini–Hochberg over the exposures analysed together",
    ]
    if value_col:
        notes.append(f"value at stake assumes the effect times the exposed's mean {value_col}")
    return tuple(notes)


def churner_topics(
    frame: pd.DataFrame,
    topics: Sequence[str],
    outcome: str = "churned",
    *,
    confidence: float = 0.95,
) -> ChurnerTopicsResult:
    """What churned customers said before leaving vs those who stayed: for each topic, the
    share of churned and of staying customers who said it, difference churned − stayed
    (two-proportion z-test), BH q-values over the topics.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"exposure": "slow", "exposed": [True] * 30 + [False] * 70,
    ...                       "churned": [1] * 20 + [0] * 10 + [1] * 10 + [0] * 60})
    >>> row = churner_topics(frame, ["slow"]).table.iloc[0]
    >>> round(float(row.share_churned), 3), round(float(row.share_stayed), 3)
    (0.667, 0.143)
    """
    _check(frame, topics, outcome, "binary", (), "regression", confidence, None)
    rows, used = [], 0
    for topic in topics:
        part = frame[
            (frame["exposure"] == topic) & frame["exposed"].notna() & frame[outcome].notna()
        ]
        if "customer_id" in part:  # one row per customer: did they say it before, did they go
            part = part.groupby("customer_id")[["exposed", outcome]].max()
        said = part["exposed"].astype(bool).to_numpy()
        left = part[outcome].to_numpy(dtype="float64") == 1
        used += len(part)
        n1, n0 = int(left.sum()), int((~left).sum())
        row: dict[str, Any] = {"topic": topic, "n": len(part), "n_churned": n1, "n_stayed": n0}
        if min(n1, n0) == 0:
            rows.append(row)
            continue
        test = proportion_difference(
            said[~left].sum(), n0, said[left].sum(), n1, confidence=confidence
        )
        row.update(
            share_churned=float(said[left].mean()),
            share_stayed=float(said[~left].mean()),
            estimate=test.difference,
            ci_low=test.ci_low,
            ci_high=test.ci_high,
            p_value=test.p_value,
        )
        rows.append(row)
    table = pd.DataFrame(rows).reindex(columns=list(CHURNER_COLUMNS))
    table["q_value"] = benjamini_hochberg(table["p_value"].astype("float64"))
    table["significant"] = table["q_value"] < 1 - confidence
    caveats = (
        "descriptive: who said what before leaving, not what made them leave",
        "q_value is Benjamini–Hochberg over the topics analysed together",
    )
    return ChurnerTopicsResult(
        table=table,
        outcome=outcome,
        method="two-proportion z-test on the share who said each topic, churned − stayed",
        n=used,
        caveats=caveats,
    )
