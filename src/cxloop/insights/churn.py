"""Churn prediction on any customer table: a calibrated blend of boosted trees and a spline
logistic regression, with per-row reasons and an honest cross-validation report.

The blend weight is chosen by out-of-fold ROC-AUC inside the training data (the same generic
rule on every table: trees win where effects are non-linear, the smooth linear model where data
are few and effects additive), and the same out-of-fold scores calibrate the probabilities.
Column typing (identifiers, yes/no text, numbers stored as text…) lives in ``churn_features``.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy
import sklearn
from scipy import stats
from scipy.special import expit, logit
from sklearn.base import BaseEstimator, clone
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import MissingIndicator, SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import (
    OneHotEncoder,
    QuantileTransformer,
    SplineTransformer,
    StandardScaler,
)
from threadpoolctl import threadpool_limits

from cxloop.errors import Invalid, Problem
from cxloop.insights.churn_features import ColumnPlan, churn_target, encode, plan_columns
from cxloop.metrics.intervals import wilson_interval

Floats = npt.NDArray[np.float64]
BLEND_WEIGHTS = tuple(round(w / 10, 1) for w in range(11))
"""Candidate weights of the boosted trees in the log-odds blend (the rest goes to the linear)."""
FEW_VALUES = 10
"""Numeric columns with at most this many distinct values get one indicator per value."""
MIN_CLASS_ROWS = 10
EPS = 1e-6


def _linear_model(plan: ColumnPlan, x: Floats) -> Pipeline:
    """Logistic regression on natural-spline-like bases of each number's quantile (smooth,
    non-linear, robust to skew and ties) and indicators for categories and few-valued numbers."""
    few: list[int] = []
    many: list[int] = []
    for j, is_category in enumerate(plan.categorical):
        column = x[:, j]
        distinct = np.unique(column[~np.isnan(column)]).size
        (few if is_category or distinct <= FEW_VALUES else many).append(j)
    parts: list[tuple[str, Any, list[int]]] = []
    if few:
        parts.append(("levels", OneHotEncoder(handle_unknown="ignore"), few))
    if many:
        smooth = make_pipeline(
            SimpleImputer(strategy="median"),
            QuantileTransformer(n_quantiles=min(100, len(x))),
            SplineTransformer(n_knots=5, degree=3),
        )
        parts.append(("splines", smooth, many))
        if np.isnan(x[:, np.asarray(many)]).any():
            parts.append(("missing", MissingIndicator(error_on_new=False), many))
    return make_pipeline(ColumnTransformer(parts), LogisticRegression(C=1.0, max_iter=5000))


def plain_logistic(plan: ColumnPlan) -> Pipeline:
    """The baseline the model must beat: standardised numbers (median-imputed) and one-hot
    categories in an ordinary logistic regression."""
    categories = [j for j, is_category in enumerate(plan.categorical) if is_category]
    numbers = [j for j, is_category in enumerate(plan.categorical) if not is_category]
    parts: list[tuple[str, Any, list[int]]] = [
        ("numbers", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numbers)
    ]
    if categories:
        parts.append(("levels", OneHotEncoder(handle_unknown="ignore"), categories))
    return make_pipeline(ColumnTransformer(parts), LogisticRegression(max_iter=5000))


def _boosted_model(plan: ColumnPlan, learning_rate: float, seed: int) -> Any:
    """Gradient-boosted trees, shallow and regularised so that small tables do not overfit."""
    return HistGradientBoostingClassifier(
        learning_rate=learning_rate,
        max_iter=150,
        max_leaf_nodes=6,
        min_samples_leaf=40,
        l2_regularization=1.0,
        categorical_features=plan.categorical if any(plan.categorical) else None,
        early_stopping=False,
        random_state=seed,
    )


def _log_odds(model: Any, x: Floats) -> Floats:
    return np.asarray(logit(np.clip(model.predict_proba(x)[:, 1], EPS, 1 - EPS)))


class ChurnModel(BaseEstimator):
    """Churn probability, reasons and cross-validation for any table with a two-valued target.

    ``fit`` reads the table's columns (see ``columns_`` and ``dropped_``), fits a
    ``HistGradientBoostingClassifier`` and a spline logistic regression, blends their log-odds
    with the weight of best out-of-fold ROC-AUC (``blend_weight_``) and Platt-scales the blend on
    those out-of-fold scores — the same as ``CalibratedClassifierCV(method="sigmoid",
    ensemble=False)``, written here because the out-of-fold scores that choose the weight also
    calibrate, saving a second round of fits. Fitting runs on ``n_threads`` threads.

    Learned: ``columns_`` (used column → kind), ``dropped_`` (column → reason),
    ``positive_label_``, ``base_rate_``, ``blend_weight_``, ``oof_auc_`` (weight → internal
    ROC-AUC), ``calibration_`` (Platt slope, intercept), ``feature_importances_`` (a Series over
    ``columns_`` summing to 1: mean absolute ``reasons`` contribution on up to 1,000 training
    rows), ``model_version_`` and ``fit_seconds_``. Not persisted yet: no pickles, and the
    boosted trees have no JSON form in scikit-learn; refit from data instead.

    >>> rng = np.random.default_rng(0)
    >>> age, plan = rng.integers(18, 80, 400), rng.choice(["a", "b"], 400)
    >>> table = pd.DataFrame({"age": age, "plan": plan, "churned": rng.random(400) < age / 100})
    >>> model = ChurnModel().fit(table, target="churned")
    >>> model.predict_proba(table).shape
    (400,)
    """

    def __init__(
        self,
        random_state: int = 0,
        *,
        internal_folds: int = 3,
        learning_rate: float = 0.05,
        ignore: Sequence[str] = (),
        n_threads: int | None = 1,
    ) -> None:
        self.random_state = random_state
        self.internal_folds = internal_folds
        self.learning_rate = learning_rate
        self.ignore = ignore
        self.n_threads = n_threads

    def fit(
        self, df: pd.DataFrame, target: str = "churned", *, positive: object = None
    ) -> ChurnModel:
        """Learn column handling, both models, the blend weight and the calibration; ``self``."""
        started = time.perf_counter()
        if target not in df.columns:
            raise Invalid(Problem("target", target, "is not a column of the table"))
        y, self.positive_label_ = churn_target(df[target], positive)
        for label, count in ((self.positive_label_, int(y.sum())), ("other", int((1 - y).sum()))):
            if count < MIN_CLASS_ROWS:
                raise Invalid(
                    Problem(target, label, f"has {count} rows; each class needs {MIN_CLASS_ROWS}")
                )
        self.plan_ = plan_columns(df, target, self.ignore)
        self.columns_, self.dropped_ = dict(self.plan_.kinds), dict(self.plan_.dropped)
        self.target_, self.n_, self.base_rate_ = target, len(df), float(y.mean())
        x = encode(df, self.plan_)
        with threadpool_limits(limits=self.n_threads):
            scores = np.zeros((len(x), 2))
            folds = StratifiedKFold(
                self.internal_folds, shuffle=True, random_state=self.random_state
            )
            for train, test in folds.split(x, y):
                for k, model in enumerate(self._new_models(x[train])):
                    scores[test, k] = _log_odds(model.fit(x[train], y[train]), x[test])
            self.oof_auc_ = {
                w: float(roc_auc_score(y, w * scores[:, 0] + (1 - w) * scores[:, 1]))
                for w in BLEND_WEIGHTS
            }
            self.blend_weight_ = max(BLEND_WEIGHTS, key=lambda w: self.oof_auc_[w])
            blend = self.blend_weight_ * scores[:, 0] + (1 - self.blend_weight_) * scores[:, 1]
            platt = LogisticRegression(C=np.inf).fit(blend[:, None], y)
            self.calibration_ = (float(platt.coef_[0, 0]), float(platt.intercept_[0]))
            self.boosted_model_, self.linear_model_ = (
                model.fit(x, y) for model in self._new_models(x)
            )
            sample = np.random.default_rng(self.random_state).permutation(len(x))[:1000]
            strength = np.abs(self._contributions(x[sample])).mean(axis=0)
        self.feature_importances_ = pd.Series(strength / strength.sum(), index=self.plan_.columns)
        self.model_version_ = self._version(df)
        self.fit_seconds_ = time.perf_counter() - started
        return self

    def _new_models(self, x: Floats) -> tuple[Any, Pipeline]:
        return _boosted_model(self.plan_, self.learning_rate, self.random_state), _linear_model(
            self.plan_, x
        )

    def _calibrated_log_odds(self, x: Floats) -> Floats:
        weight = self.blend_weight_
        blend = weight * _log_odds(self.boosted_model_, x) if weight > 0 else np.zeros(len(x))
        if weight < 1:
            blend = blend + (1 - weight) * _log_odds(self.linear_model_, x)
        slope, intercept = self.calibration_
        return np.asarray(slope * blend + intercept)

    def predict_proba(self, df: pd.DataFrame) -> Floats:
        """Calibrated churn probability per row, 1-D: the positive (churned) class only, unlike
        scikit-learn's two-column output."""
        with threadpool_limits(limits=self.n_threads):
            return np.asarray(expit(self._calibrated_log_odds(encode(df, self.plan_))))

    def _contributions(self, x: Floats) -> Floats:
        """Per row and column: calibrated log-odds now minus with that column at its training
        baseline (median, or the most common category). Exact for the model, cheap (one
        prediction per column), but not additive when trees interact."""
        full = self._calibrated_log_odds(x)
        out = np.empty_like(x)
        for j, column in enumerate(self.plan_.columns):
            moved = x.copy()
            moved[:, j] = self.plan_.baselines[column]
            out[:, j] = full - self._calibrated_log_odds(moved)
        return out

    def reasons(self, df: pd.DataFrame, top: int = 3) -> pd.DataFrame:
        """The ``top`` columns that raised each row's churn risk most, long format.

        ``contribution`` is the change in log-odds of churn against the same row with that column
        set to its training baseline (median / most common category); only positive ones are
        listed, so a row at baseline everywhere has no reasons. Columns: ``row`` (the index
        label), ``rank``, ``feature``, ``value``, ``contribution``, ``probability``.
        """
        if top < 1:
            raise Invalid(Problem("top", top, "must be at least 1"))
        x = encode(df, self.plan_)
        with threadpool_limits(limits=self.n_threads):
            contributions = self._contributions(x)
            probability = expit(self._calibrated_log_odds(x))
        rows = []
        columns = self.plan_.columns
        for i, label in enumerate(df.index):
            order = np.argsort(-contributions[i], kind="stable")[:top]
            for rank, j in enumerate(order, start=1):
                if contributions[i, j] > 0:
                    value = df.iloc[i][columns[j]]
                    rows.append(
                        (label, rank, columns[j], value, contributions[i, j], probability[i])
                    )
        names = ["row", "rank", "feature", "value", "contribution", "probability"]
        return pd.DataFrame(rows, columns=names)

    def _version(self, df: pd.DataFrame) -> str:
        described = {
            "shape": list(df.shape),
            "columns": [[str(c), str(t)] for c, t in df.dtypes.items()],
            "params": {k: repr(v) for k, v in sorted(self.get_params().items())},
            "versions": [sklearn.__version__, np.__version__, pd.__version__, scipy.__version__],
        }
        return hashlib.sha256(json.dumps(described).encode()).hexdigest()[:12]

    def cross_validate(
        self,
        df: pd.DataFrame,
        target: str = "churned",
        folds: int = 5,
        seeds: Sequence[int] = (0, 1, 2),
        *,
        positive: object = None,
        baseline: bool = True,
    ) -> ChurnCVResult:
        """Stratified ``folds``-fold cross-validation repeated for each seed (folds and model
        seed both), refitting everything — column typing included — on each training part."""
        if target not in df.columns:
            raise Invalid(Problem("target", target, "is not a column of the table"))
        y, _ = churn_target(df[target], positive)
        scores: dict[str, dict[str, list[float]]] = {"churn_model": {}, "plain_logistic": {}}
        pooled, seconds = np.zeros(len(df)), []
        for seed in seeds:
            splits = StratifiedKFold(folds, shuffle=True, random_state=seed).split(df, y)
            for train, test in splits:
                model = clone(self).set_params(random_state=seed)
                model.fit(df.iloc[train], target, positive=positive)
                seconds.append(model.fit_seconds_)
                p = model.predict_proba(df.iloc[test])
                if seed == seeds[0]:
                    pooled[test] = p
                _score(scores["churn_model"], y[test], p)
                if baseline:
                    plain = plain_logistic(model.plan_)
                    with threadpool_limits(limits=self.n_threads):
                        plain.fit(encode(df.iloc[train], model.plan_), y[train])
                        q = plain.predict_proba(encode(df.iloc[test], model.plan_))[:, 1]
                    _score(scores["plain_logistic"], y[test], q)
        return _cv_result(scores, y, pooled, folds, tuple(seeds), float(np.mean(seconds)))


def _score(into: dict[str, list[float]], y: npt.NDArray[np.int_], p: Floats) -> None:
    """ROC-AUC, PR-AUC (average precision), Brier, and the calibration slope and intercept:
    the logistic recalibration of held-out outcomes on the predicted log-odds (1 and 0 if
    calibrated)."""
    z = logit(np.clip(p, EPS, 1 - EPS))[:, None]
    recalibration = LogisticRegression(C=np.inf).fit(z, y)
    found = {
        "roc_auc": roc_auc_score(y, p),
        "pr_auc": average_precision_score(y, p),
        "brier": brier_score_loss(y, p),
        "calibration_slope": recalibration.coef_[0, 0],
        "calibration_intercept": recalibration.intercept_[0],
    }
    for metric, value in found.items():
        into.setdefault(metric, []).append(float(value))


@dataclass(frozen=True)
class ChurnCVResult:
    """Cross-validated quality of a churn model: ``table`` (model, metric, n, estimate, sd,
    ci_low, ci_high, folds) and ``calibration`` (bin, n, predicted, observed, ci_low, ci_high)."""

    n: int
    n_churned: int
    base_rate: float
    folds: int
    seeds: tuple[int, ...]
    table: pd.DataFrame
    calibration: pd.DataFrame
    fit_seconds: float
    method: str
    caveats: str

    def estimate(self, metric: str, model: str = "churn_model") -> float:
        """One metric's mean over folds × seeds, e.g. ``result.estimate("roc_auc")``."""
        rows = self.table[(self.table["model"] == model) & (self.table["metric"] == metric)]
        if rows.empty:
            raise Invalid(Problem("metric", f"{model}/{metric}", "was not measured"))
        return float(rows["estimate"].iloc[0])


def _cv_result(
    scores: dict[str, dict[str, list[float]]],
    y: npt.NDArray[np.int_],
    pooled: Floats,
    folds: int,
    seeds: tuple[int, ...],
    fit_seconds: float,
) -> ChurnCVResult:
    """Means, sds and Nadeau–Bengio corrected t intervals (variance × (1/J + 1/(folds − 1)) over
    J = folds × seeds scores), which widen the naive interval for the overlap of training sets."""
    rows = []
    for model, metrics in scores.items():
        for metric, values in metrics.items():
            v = np.asarray(values)
            sd = float(v.std(ddof=1)) if len(v) > 1 else float("nan")
            half = stats.t.ppf(0.975, len(v) - 1) * sd * np.sqrt(1 / len(v) + 1 / (folds - 1))
            row = (model, metric, len(y), float(v.mean()), sd, v.mean() - half, v.mean() + half)
            rows.append((*row, len(v)))
    names = ["model", "metric", "n", "estimate", "sd", "ci_low", "ci_high", "folds"]
    bins = pd.qcut(pooled, 10, labels=False, duplicates="drop") + 1
    grouped = pd.DataFrame({"bin": bins, "p": pooled, "y": y}).groupby("bin")
    calibration = grouped.agg(n=("y", "size"), churned=("y", "sum"), predicted=("p", "mean"))
    share, low, high = wilson_interval(calibration["churned"], calibration["n"])
    calibration = calibration.drop(columns="churned").assign(
        observed=share, ci_low=low, ci_high=high
    )
    return ChurnCVResult(
        n=len(y),
        n_churned=int(y.sum()),
        base_rate=float(y.mean()),
        folds=folds,
        seeds=seeds,
        table=pd.DataFrame(rows, columns=names),
        calibration=calibration.reset_index(),
        fit_seconds=fit_seconds,
        method=(
            f"stratified {folds}-fold cross-validation × seeds {list(seeds)}; ChurnModel "
            "(calibrated log-odds blend of gradient-boosted trees and spline logistic "
            "regression) against plain logistic regression on the same folds; calibration "
            f"table from the out-of-fold probabilities of seed {seeds[0]} in 10 quantile bins"
        ),
        caveats=(
            "fold scores share training rows, so sd understates uncertainty; ci_low/ci_high use "
            "the Nadeau–Bengio correction and are approximate; the calibration table pools "
            "models of different folds; a new population (other period, market) may differ"
        ),
    )
