"""Confounder adjustment for the voice × behaviour effects: the design matrix, and the adjusted
arm means by g-computation or inverse-propensity weighting, refitted on bootstrap weights.

Split from ``outcomes.py`` (the comparisons, tests and result shapes) so each file holds one
concern; used only by ``outcomes.outcome_effects``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.linear_model import LinearRegression, LogisticRegression

Floats = npt.NDArray[np.float64]


def design(frame: pd.DataFrame, confounders: Sequence[str]) -> Floats:
    """Confounders as a numeric matrix: categories one-hot (first dropped, missing its own
    level), numbers standardised with missing values at the mean plus a missing indicator."""
    parts: list[pd.DataFrame] = []
    for name in confounders:
        column = frame[name]
        if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
            values = column.astype("float64")
            missing = values.isna()
            if missing.all():  # nothing known (e.g. no sign-up dates): nothing to adjust for
                continue
            spread = float(values.std()) if len(values) - missing.sum() > 1 else 0.0
            spread = spread if np.isfinite(spread) and spread > 0 else 1.0
            parts.append(((values.fillna(values.mean()) - values.mean()) / spread).to_frame(name))
            if missing.any():
                parts.append(missing.astype("float64").to_frame(f"{name}_missing"))
        else:
            levels = column.astype("object").where(column.notna(), "(missing)").astype(str)
            parts.append(pd.get_dummies(levels, prefix=name, drop_first=True, dtype="float64"))
    if not parts:
        return np.zeros((len(frame), 0))
    return pd.concat(parts, axis=1).to_numpy(dtype="float64")


def _logistic_start(x: Floats, y: Floats) -> Floats:
    """Unpenalised logistic maximum likelihood (scikit-learn), as [intercept, coefficients]."""
    if len(np.unique(y)) < 2:
        share = float(np.clip(y.mean(), 1e-6, 1 - 1e-6))
        return np.concatenate(([np.log(share / (1 - share))], np.zeros(x.shape[1])))
    model = LogisticRegression(C=np.inf, max_iter=1000).fit(x, y)
    return np.concatenate((model.intercept_, model.coef_[0])).astype("float64")


def _logistic_newton(x1: Floats, y: Floats, weight: Floats, beta: Floats) -> Floats:
    """Weighted logistic fit by Newton steps from ``beta`` (the full-data solution).

    Hand-written because refitting scikit-learn's lbfgs for every bootstrap replicate cost
    ~60 ms a fit (228 s for 9 exposures x 200 replicates on the demo); Newton from the
    full-data optimum converges in 2-4 steps of one small p x p solve each.
    """
    ridge = 1e-8 * np.eye(x1.shape[1])
    for _ in range(8):
        p = _sigmoid(x1, beta)
        gradient = x1.T @ (weight * (y - p))
        hessian = (x1 * (weight * p * (1 - p))[:, None]).T @ x1 + ridge
        step = np.linalg.solve(hessian, gradient)
        beta = beta + step
        if float(np.max(np.abs(step))) < 1e-7:
            break
    return beta


def _sigmoid(x1: Floats, beta: Floats) -> Floats:
    return np.asarray(1 / (1 + np.exp(-np.clip(x1 @ beta, -30, 30))), dtype="float64")


class Estimator:
    """Adjusted arm means (unexposed, exposed) for one exposure; refit on bootstrap weights."""

    def __init__(self, kind: str, method: str, x: Floats, a: Floats, y: Floats):
        self.kind, self.method, self.a, self.y = kind, method, a, y
        self.x1 = np.column_stack((np.ones(len(a)), x))
        self.propensity: Floats = np.full(len(a), np.nan)
        self.start: list[Floats] = []
        if x.shape[1] and method == "ipw":
            self.start = [_logistic_start(x, a)]
        elif x.shape[1] and kind == "binary":
            self.start = [_logistic_start(x[a == arm], y[a == arm]) for arm in (0, 1)]

    def means(self, weight: Floats) -> tuple[float, float]:
        x1, a, y = self.x1, self.a, self.y
        if x1.shape[1] == 1:
            arms = [float(np.average(y[a == arm], weights=weight[a == arm])) for arm in (0, 1)]
            return arms[0], arms[1]
        if self.method == "ipw":
            score = _sigmoid(x1, _logistic_newton(x1, a, weight, self.start[0]))
            if np.all(weight == 1):
                self.propensity = score
            share = float(np.average(a, weights=weight))
            stabilised = np.where(a == 1, share / score, (1 - share) / (1 - score)) * weight
            return (
                float(np.average(y[a == 0], weights=stabilised[a == 0])),
                float(np.average(y[a == 1], weights=stabilised[a == 1])),
            )
        result = []
        for arm in (0, 1):
            rows = a == arm
            if self.kind == "binary":
                beta = _logistic_newton(x1[rows], y[rows], weight[rows], self.start[arm])
                predicted = _sigmoid(x1, beta)
            else:
                fit = LinearRegression(fit_intercept=False).fit(
                    x1[rows], y[rows], sample_weight=weight[rows]
                )
                predicted = np.asarray(fit.predict(x1), dtype="float64")
            result.append(float(np.average(predicted, weights=weight)))
        return result[0], result[1]
