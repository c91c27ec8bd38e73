"""Response rate as a metric: completed / delivered per slice, with a Wilson interval.

Written in the style of ``cxloop.metrics.scores`` and over its helpers: the engine only counts
(``n`` delivered, ``completed``) per slice, and the share and its interval come from
``cxloop.metrics.intervals`` — the same functions behind CSAT's top-two-box share and NPS.
"""

from __future__ import annotations

from collections.abc import Sequence

import ibis
import numpy as np
import pandas as pd

from cxloop.errors import Invalid, Problem
from cxloop.metrics import intervals, scores

RATE_COLUMNS = ("n", "completed", "score", "ci_low", "ci_high", "small_n")


def response_rate(
    table: ibis.Table,
    *,
    by: Sequence[str] | str = (),
    confidence: float = 0.95,
    min_n: int = 30,
) -> pd.DataFrame:
    """Share of delivered invitations that were completed, per slice (0…1), with its Wilson
    interval. ``table`` has one row per invitation with 0/1 columns ``delivered`` and
    ``completed``; ``n`` is the delivered count (a completion never delivered — impossible by
    the flow — is not counted). The interval is NaN where nothing was delivered.

    Examples
    --------
    >>> import ibis
    >>> invitations = ibis.memtable(
    ...     {"role": ["user"] * 4 + ["buyer"] * 2,
    ...      "delivered": [1, 1, 1, 0, 1, 1], "completed": [1, 0, 0, 0, 1, 1]}
    ... )
    >>> response_rate(invitations, by="role", min_n=3)[["role", "n", "completed", "score"]]
        role  n  completed     score
    0  buyer  2          2  1.000000
    1   user  3          1  0.333333
    """
    by = [by] if isinstance(by, str) else list(by)
    problems = [
        Problem(name, None, "is not a column of the table")
        for name in ("delivered", "completed")
        if name not in table.columns
    ]
    problems += [
        Problem("by", name, "is not a column of the table")
        for name in by
        if name not in table.columns
    ]
    problems += scores.interval_problems(confidence, min_n)
    if problems:
        raise Invalid(problems)
    done = (table.delivered > 0) & (table.completed > 0)
    counts = scores.count_by(
        table,
        scores.slice_keys(table, by, None),
        {"n": table.delivered.sum(), "completed": done.ifelse(1, 0).sum()},
    )
    if counts.empty:
        return pd.DataFrame(columns=[*by, *RATE_COLUMNS])
    share, low, high = intervals.wilson_interval(
        counts["completed"], counts["n"], confidence=confidence
    )
    frame = counts[by].copy()
    frame["n"] = counts["n"].to_numpy(dtype="int64")
    frame["completed"] = counts["completed"].to_numpy(dtype="int64")
    frame["score"] = np.asarray(share, dtype="float64")
    frame["ci_low"] = np.asarray(low, dtype="float64")
    frame["ci_high"] = np.asarray(high, dtype="float64")
    frame["small_n"] = frame["n"] < min_n
    return frame
