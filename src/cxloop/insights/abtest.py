"""A/B read-out: each variant against control on NPS, a share or a mean, with a sample-ratio check.

The tests themselves are ``cxloop.metrics.compare``'s (NPS z-test on the trinomial variance,
two-proportion z-test, Welch's t), called once per variant on its counts and sums, so a read-out
and a period comparison never disagree. With more than one treatment the p-values are adjusted
by Benjamini–Hochberg over the treatments. The sample-ratio mismatch (SRM) check is scipy's
chi-square goodness of fit of the variant counts against the planned split.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import ibis
import numpy as np
import pandas as pd
from scipy import stats
from scipy.stats.contingency import relative_risk

from cxloop.errors import Invalid, Problem
from cxloop.insights.tables import as_frame
from cxloop.metrics.compare import (
    MEAN_METHOD,
    NPS_METHOD,
    PROPORTION_METHOD,
    Comparison,
    benjamini_hochberg,
    mean_difference,
    nps_difference,
    proportion_difference,
)

TESTS = {"nps": NPS_METHOD, "share": PROPORTION_METHOD, "mean": MEAN_METHOD}
"""The ``cxloop.metrics.compare`` test each metric kind runs, in words."""
METRICS = tuple(TESTS)
SRM_THRESHOLD = 0.001
"""SRM p-value below which the split is flagged (the usual, conservative, industry cut-off)."""
SMALL_N = 30
COLUMNS = (
    "variant",
    "n",
    "estimate",
    "control_n",
    "control_estimate",
    "difference",
    "ci_low",
    "ci_high",
    "p_value",
    "p_adjusted",
    "significant",
    "ratio",
    "ratio_ci_low",
    "ratio_ci_high",
)


@dataclass(frozen=True)
class AbResult:
    """One row per treatment variant against ``control``, with the SRM check and caveats.

    ``estimate`` is the variant's NPS (points, −100…100), share (0…1) or mean; ``difference`` is
    variant − control in the same units, with its interval at ``confidence``; ``p_adjusted`` is
    Benjamini–Hochberg over the treatments; ``significant`` is ``p_adjusted < 1 − confidence``.
    ``ratio`` (variant share / control share, with its log-normal interval) only for shares,
    NaN otherwise. ``srm_p_value`` tests the variant counts against ``expected_split``.
    """

    table: pd.DataFrame
    metric: str
    column: str
    control: Any
    n: int
    confidence: float
    expected_split: dict[Any, float]
    srm_p_value: float
    sample_ratio_mismatch: bool
    method: str
    caveats: tuple[str, ...]


def _check(
    frame: pd.DataFrame, variant_col: str, metric: Any, confidence: float
) -> tuple[str, str]:
    """``(kind, column)`` of a valid metric, or ``Invalid`` naming every problem found."""
    problems: list[Problem] = []
    if variant_col not in frame.columns:
        problems.append(Problem("variant_col", variant_col, "is not a column of the frame"))
    if not 0 < confidence < 1:
        problems.append(Problem("confidence", confidence, "is not between 0 and 1"))
    if not (isinstance(metric, tuple | list) and len(metric) == 2):
        problems.append(Problem("metric", metric, "is not a pair (kind, column)"))
        raise Invalid(problems)
    kind, column = metric
    if kind not in METRICS:
        problems.append(Problem("metric", kind, f"is not one of: {', '.join(METRICS)}"))
    if column not in frame.columns:
        problems.append(Problem("metric", column, "is not a column of the frame"))
    if problems:
        raise Invalid(problems)
    values = frame[column].dropna()
    if not (pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)):
        raise Invalid(Problem(column, str(values.dtype), "is not numeric"))
    numbers = values.to_numpy(dtype=np.float64)
    if kind == "nps":
        bad, rule = ~np.isin(numbers, np.arange(11)), "is not a whole number 0–10"
    elif kind == "share":
        bad, rule = ~np.isin(numbers, [0.0, 1.0]), "is not 0 or 1"
    else:
        bad, rule = ~np.isfinite(numbers), "is not finite"
    if bad.any():
        first = int(np.argmax(bad))
        row = values.index[first]
        raise Invalid(Problem(column, values.iloc[first], f"{rule} (row {row!r})"))
    return str(kind), str(column)


def _pick_control(variants: list[Any], control: Any) -> Any:
    if control is not None:
        if control not in variants:
            raise Invalid(Problem("control", control, f"is not a variant (seen: {variants})"))
        return control
    for candidate in variants:
        if str(candidate).lower() == "control":
            return candidate
    return variants[0]


def _split(variants: list[Any], expected_split: Mapping[Any, float] | None) -> dict[Any, float]:
    """The planned share of each variant (equal when not given), normalised to sum to 1."""
    if expected_split is None:
        return {variant: 1 / len(variants) for variant in variants}
    problems = [
        Problem("expected_split", key, "is not a variant in the data")
        for key in expected_split
        if key not in variants
    ]
    problems += [
        Problem("expected_split", variant, "has no planned share")
        for variant in variants
        if variant not in expected_split
    ]
    problems += [
        Problem("expected_split", f"{key}={weight}", "is not a positive weight")
        for key, weight in expected_split.items()
        if not weight > 0
    ]
    if problems:
        raise Invalid(problems)
    total = float(sum(expected_split.values()))
    return {variant: float(expected_split[variant]) / total for variant in variants}


def _compare(kind: str, control: pd.Series, treated: pd.Series, confidence: float) -> Comparison:
    """Treated − control, by the ``cxloop.metrics.compare`` test that fits the metric."""
    if kind == "nps":
        a, b = (
            (int((s >= 9).sum()), int(s.between(7, 8).sum()), int((s <= 6).sum()))
            for s in (control, treated)
        )
        return nps_difference(a, b, confidence=confidence)
    if kind == "share":
        return proportion_difference(
            float(control.sum()), len(control), float(treated.sum()), len(treated),
            confidence=confidence,
        )  # fmt: skip
    return mean_difference(
        float(control.sum()), float((control**2).sum()), len(control),
        float(treated.sum()), float((treated**2).sum()), len(treated),
        confidence=confidence,
    )  # fmt: skip


def _estimate(kind: str, values: pd.Series) -> float:
    if values.empty:
        return float("nan")
    if kind == "nps":
        return float(((values >= 9).sum() - (values <= 6).sum()) * 100 / len(values))
    return float(values.mean())


def _ratio(control: pd.Series, treated: pd.Series, confidence: float) -> tuple[float, ...]:
    """Risk ratio treated/control and its interval (scipy's log-normal, Katz); NaN if undefined."""
    k_c, k_t = int(control.sum()), int(treated.sum())
    if k_c == 0 or k_t == 0:
        return (float("nan"),) * 3
    result = relative_risk(k_t, len(treated), k_c, len(control))
    interval = result.confidence_interval(confidence_level=confidence)
    return float(result.relative_risk), float(interval.low), float(interval.high)


def ab_test(
    df: pd.DataFrame | ibis.Table,
    *,
    variant_col: str,
    metric: tuple[str, str],
    control: Any = None,
    confidence: float = 0.95,
    expected_split: Mapping[Any, float] | None = None,
) -> AbResult:
    """Each variant against control on ``metric``: difference, interval, p (BH-adjusted), SRM.

    ``metric`` is ``("nps", column)`` (0–10 answers), ``("share", column)`` (0/1) or
    ``("mean", column)``. ``control`` defaults to a variant named "control" (any case), else
    the first variant in sorted order. Rows without a variant or a metric value are left out
    of the tests (counted in ``caveats``); the SRM check counts every row with a variant, against
    ``expected_split`` (variant → planned weight; equal by default), flagged when p < 0.001.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"arm": ["A"] * 200 + ["B"] * 200,
    ...                       "converted": [1] * 40 + [0] * 160 + [1] * 70 + [0] * 130})
    >>> result = ab_test(frame, variant_col="arm", metric=("share", "converted"))
    >>> row = result.table.iloc[0]
    >>> row["variant"], round(float(row["difference"]), 2), bool(row["significant"])
    ('B', 0.15, True)
    >>> result.control, result.sample_ratio_mismatch
    ('A', False)
    """
    frame = as_frame(df, "df")
    kind, column = _check(frame, variant_col, metric, confidence)
    caveats: list[str] = []
    assigned = frame[frame[variant_col].notna()]
    if len(assigned) < len(frame):
        caveats.append(f"{len(frame) - len(assigned)} rows without a variant left out")
    variants = sorted(assigned[variant_col].unique().tolist(), key=lambda v: (str(type(v)), v))
    if len(variants) < 2:
        raise Invalid(Problem("variant_col", variants, "has fewer than two variants"))
    control = _pick_control(variants, control)
    split = _split(variants, expected_split)

    counts = assigned[variant_col].value_counts().reindex(variants).to_numpy(dtype=np.float64)
    expected = np.array([split[v] for v in variants]) * counts.sum()
    srm_p = float(stats.chisquare(counts, expected).pvalue)
    mismatch = srm_p < SRM_THRESHOLD
    if mismatch:
        planned = ", ".join(f"{v}: {split[v]:.0%}" for v in variants)
        seen = ", ".join(f"{v}: {int(c)}" for v, c in zip(variants, counts, strict=True))
        caveats.append(
            f"sample ratio mismatch: counts ({seen}) do not fit the planned split ({planned}), "
            f"chi-square p = {srm_p:.2g} < {SRM_THRESHOLD}; assignment or logging is suspect, "
            "do not trust the differences until it is explained"
        )

    scored = assigned[assigned[column].notna()]
    if len(scored) < len(assigned):
        caveats.append(f"{len(assigned) - len(scored)} rows without a {column!r} value left out")
    groups = {v: scored.loc[scored[variant_col] == v, column].astype("float64") for v in variants}
    rows = []
    for variant in (v for v in variants if v != control):
        comparison = _compare(kind, groups[control], groups[variant], confidence)
        ratio = (
            _ratio(groups[control], groups[variant], confidence)
            if kind == "share"
            else (float("nan"),) * 3
        )
        rows.append(
            {
                "variant": variant,
                "n": comparison.n_b,
                "estimate": _estimate(kind, groups[variant]),
                "control_n": comparison.n_a,
                "control_estimate": _estimate(kind, groups[control]),
                "difference": comparison.difference,
                "ci_low": comparison.ci_low,
                "ci_high": comparison.ci_high,
                "p_value": comparison.p_value,
                "ratio": ratio[0],
                "ratio_ci_low": ratio[1],
                "ratio_ci_high": ratio[2],
            }
        )
    table = pd.DataFrame(rows)
    table["p_adjusted"] = benjamini_hochberg(table["p_value"].to_numpy())
    table["significant"] = table["p_adjusted"].to_numpy() < 1 - confidence  # NaN → False
    caveats += _small_n_caveats(kind, groups, control)
    if len(variants) > 2:
        caveats.append(
            f"{len(variants) - 1} treatments against {control!r}: p_adjusted is "
            "Benjamini–Hochberg over them (false discovery rate), p_value is unadjusted"
        )
    caveats.append(f"control is {control!r}")
    return AbResult(
        table=table[list(COLUMNS)],
        metric=kind,
        column=column,
        control=control,
        n=len(scored),
        confidence=confidence,
        expected_split=split,
        srm_p_value=srm_p,
        sample_ratio_mismatch=mismatch,
        method=f"{TESTS[kind]}, each variant − control; Benjamini–Hochberg over variants; "
        "SRM by chi-square goodness of fit on the variant counts",
        caveats=tuple(caveats),
    )


def _small_n_caveats(kind: str, groups: dict[Any, pd.Series], control: Any) -> list[str]:
    """Where the normal approximation behind the tests is shaky."""
    small = [v for v, values in groups.items() if len(values) < SMALL_N]
    caveats = []
    if small:
        caveats.append(
            f"small n (< {SMALL_N} answers) in {', '.join(map(repr, small))}: "
            "the normal approximation is rough, read intervals as indicative"
        )
    if kind == "share":
        sparse = [
            v
            for v, values in groups.items()
            if len(values) and min(values.sum(), len(values) - values.sum()) < 5
        ]
        if sparse:
            caveats.append(
                f"fewer than 5 successes or failures in {', '.join(map(repr, sparse))}: "
                "the z-test is unreliable there (an exact test would be safer)"
            )
    if groups[control].empty:
        caveats.append(f"control {control!r} has no answers: nothing to compare against")
    return caveats
