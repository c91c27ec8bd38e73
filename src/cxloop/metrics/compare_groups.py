"""Is a group different? Each group of a metric table against the rest of its slice (or one
named baseline group), with the test that fits the metric and Benjamini–Hochberg q-values.

Pure, from counts and sums like ``compare_periods``: the rest of a slice is its total minus the
group, which holds for every side a test needs (promoters, detractors, n; satisfied, n; sum,
sum of squares, n).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from cxloop.errors import Invalid, Problem
from cxloop.metrics.compare import METHODS, _side, _test, benjamini_hochberg

_SCORE = {
    "nps": lambda s: (s["pro"] - s["det"]) * 100 / s["n"],
    "csat": lambda s: s["k"] / s["n"],
    "ces": lambda s: s["s1"] / s["n"],
}


def _check(frame: pd.DataFrame, metric: str, column: str, by: list[str], alpha: float) -> None:
    problems: list[Problem] = []
    if metric not in METHODS:
        problems.append(Problem("metric", metric, f"is not one of: {', '.join(METHODS)}"))
    needed = [column, *by, "n", "score"]
    needed += {"nps": ["promoters", "detractors"], "ces": ["ci_low", "ci_high"]}.get(metric, [])
    problems += [
        Problem("frame", name, "is not a column of the frame")
        for name in dict.fromkeys(needed)
        if name not in frame.columns
    ]
    if column in by:
        problems.append(Problem("by", column, "is the group column"))
    if not 0 < alpha < 1:
        problems.append(Problem("alpha", alpha, "is not between 0 and 1"))
    if problems:
        raise Invalid(problems)


def compare_groups(
    frame: pd.DataFrame,
    *,
    metric: str,
    column: str,
    baseline: Any = None,
    by: Sequence[str] = (),
    confidence: float = 0.95,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Per slice of ``by``, each value of ``column`` against the rest of the slice (or, with
    ``baseline``, against that value's group), tested.

    ``frame`` is a ``scores.nps``/``csat``/``ces`` result by ``[*by, column]`` (no period).
    Columns: the slice columns, ``column``, ``n_base`` and ``score_base`` (the rest, or the
    baseline), ``n_current`` and ``score_current`` (the group), ``difference`` (group − base),
    ``ci_low``, ``ci_high``, ``p_value``, ``q_value`` (BH over every test of the call) and
    ``significant`` (q < ``alpha``). A missing group value (NULL) is a group of its own.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({
    ...     "channel": ["app", "web", "store"], "n": [300, 300, 300], "score": [0.0, 0.0, 30.0],
    ...     "promoters": [90, 90, 150], "detractors": [90, 90, 60]})
    >>> result = compare_groups(frame, metric="nps", column="channel")
    >>> result[["channel", "difference", "significant"]]
      channel  difference  significant
    0     app       -15.0         True
    1   store        30.0         True
    2     web       -15.0         True
    """
    by = [by] if isinstance(by, str) else list(by)
    _check(frame, metric, column, by, alpha)
    data = frame.sort_values([*by, column], na_position="last", kind="stable").reset_index(
        drop=True
    )
    if data.duplicated([*by, column]).any():
        raise Invalid(Problem("by", by, "leaves several rows per group: name every slice column"))
    group = _side(data, metric, confidence)
    group = {k: np.asarray(v, dtype=np.float64) for k, v in group.items()}
    slices = data[by].astype("object").fillna("\0").agg("\x1f".join, axis=1) if by else None
    if baseline is None:
        base = {}
        for key, values in group.items():
            totals = (
                pd.Series(values).groupby(slices.to_numpy()).transform("sum").to_numpy()
                if slices is not None
                else np.full(len(values), values.sum())
            )
            base[key] = totals - values
        keep = np.ones(len(data), dtype=bool)
    else:
        is_base = (data[column].astype("object") == baseline).to_numpy()
        if not is_base.any():
            known = ", ".join(str(v) for v in data[column].dropna().unique())
            raise Invalid(Problem("baseline", baseline, f"is not a group; groups: {known}"))
        index = pd.Series(np.arange(len(data)))
        keys = slices if slices is not None else pd.Series([""] * len(data))
        base_row = dict(zip(keys[is_base], index[is_base], strict=True))
        position = np.array([base_row.get(k, -1) for k in keys])
        base = {
            key: np.where(position >= 0, values[np.maximum(position, 0)], np.nan)
            for key, values in group.items()
        }
        keep = ~is_base
    with np.errstate(divide="ignore", invalid="ignore"):
        difference, _, low, high, p = _test(metric, base, group, confidence)
        score_base = _SCORE[metric](base)
    result = data[[*by, column]].copy()
    result["n_base"] = np.nan_to_num(base["n"]).astype("int64")
    result["n_current"] = data["n"].to_numpy(dtype="int64")
    result["score_base"] = score_base
    result["score_current"] = data["score"].to_numpy(dtype="float64")
    result["difference"] = difference
    result["ci_low"] = low
    result["ci_high"] = high
    result["p_value"] = p
    result = result[keep].reset_index(drop=True)
    result["q_value"] = benjamini_hochberg(result["p_value"].to_numpy())
    result["significant"] = result["q_value"].to_numpy() < alpha
    return result
