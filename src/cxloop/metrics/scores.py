"""NPS, CSAT, CES and response counts by slice: pure functions, Ibis table in, DataFrame out.

Each function asks the engine only for integer counts and sums per slice (``n``, promoters,
sum, sum of squares…) and computes the score and its interval from them in numpy
(``cxloop.metrics.intervals``), so SQLite, PostgreSQL and DuckDB give identical tables.

Every result has the slice columns (``by`` in order, then ``period`` when asked), then ``n``,
``score``, ``ci_low``, ``ci_high`` and ``small_n`` (``n < min_n``), then a few metric-specific
columns, sorted by the slice columns. A response without the metric's score is not counted in
that metric's ``n``.

Periods are calendar periods **in UTC**, the zone the store keeps ``created_at`` in: a day is a
UTC day, a week starts on Monday 00:00 UTC, quarters start in January, April, July, October.
Truncating in UTC is the one rule every engine computes alike; a period column holds the
period's first instant as a naive (UTC) timestamp.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import ibis
import numpy as np
import pandas as pd

from cxloop.errors import Invalid, Problem
from cxloop.metrics import intervals

PERIODS = {"day": "D", "week": "W", "month": "M", "quarter": "Q"}
"""``period`` names and the Ibis truncation unit each stands for."""
TIME_COLUMN = "created_at"
STANDARD = ("n", "score", "ci_low", "ci_high", "small_n")

Aggregates = Callable[[ibis.Table], dict[str, Any]]


def _check(
    table: ibis.Table,
    by: Sequence[str] | str,
    period: str | None,
    confidence: float,
    min_n: int,
    score_column: str | None = None,
    *,
    score_type: str = "integer",
    required: Sequence[str] = (),
) -> list[str]:
    """The ``by`` column names as a list (a lone string is one name), or ``Invalid`` naming
    every bad argument, the score column (``integer`` or any ``numeric`` type) and the other
    ``required`` columns included; nothing runs on the engine."""
    by = [by] if isinstance(by, str) else list(by)
    problems = []
    if score_column is not None:
        if score_column not in table.columns:
            problems.append(Problem(score_column, None, "is not a column of the table"))
        elif score_type == "integer" and not (dtype := table.schema()[score_column]).is_integer():
            problems.append(Problem(score_column, str(dtype), "is not an integer column"))
        elif score_type == "numeric" and not (dtype := table.schema()[score_column]).is_numeric():
            problems.append(Problem(score_column, str(dtype), "is not a numeric column"))
    problems += [
        Problem(name, None, "is not a column of the table")
        for name in required
        if name not in table.columns
    ]
    problems += [
        Problem("by", name, "is not a column of the table")
        for name in by
        if name not in table.columns
    ]
    problems += [
        Problem("by", name, "is named twice") for i, name in enumerate(by) if name in by[:i]
    ]
    if "period" in by:
        problems.append(Problem("by", "period", "is a reserved name: use period="))
    if period is not None and period not in PERIODS:
        problems.append(Problem("period", period, f"is not one of: {', '.join(PERIODS)}"))
    problems += interval_problems(confidence, min_n)
    if problems:
        raise Invalid(problems)
    return by


def interval_problems(confidence: float, min_n: int) -> list[Problem]:
    """What is wrong with an interval's ``confidence`` and the ``min_n`` a slice needs: checked
    alike by every score here and by the survey rates."""
    problems = []
    if not 0 < confidence < 1:
        problems.append(Problem("confidence", confidence, "is not between 0 and 1"))
    if min_n < 0:
        problems.append(Problem("min_n", min_n, "is negative"))
    return problems


def _counts(
    table: ibis.Table,
    *,
    score_column: str | None,
    by: Sequence[str] | str,
    period: str | None,
    confidence: float,
    min_n: int,
    aggregates: Aggregates,
    score_type: str = "integer",
    required: Sequence[str] = (),
) -> tuple[pd.DataFrame, list[str]]:
    """Integer aggregates per slice, computed by the engine, keys normalised across engines;
    with the slice's key columns. Every argument is checked first (``_check``)."""
    by = _check(
        table,
        by,
        period,
        confidence,
        min_n,
        score_column=score_column,
        score_type=score_type,
        required=required,
    )
    if score_column is not None:
        table = table.filter(table[score_column].notnull())
    return count_by(table, slice_keys(table, by, period), aggregates(table)), [
        *by,
        *(["period"] if period else []),
    ]


def slice_keys(table: ibis.Table, by: Sequence[str], period: str | None) -> dict[str, Any]:
    """The group-by expressions of a slice: the ``by`` columns, then the UTC ``period``."""
    keys: dict[str, Any] = {name: table[name] for name in by}
    if period:
        # to the day first: SQLite truncates sub-second instants of a week's last day into
        # the next week otherwise (Sunday 23:59:59.9995 → next Monday); a no-op elsewhere
        keys["period"] = table[TIME_COLUMN].truncate("D").truncate(PERIODS[period])
    return keys


def count_by(table: ibis.Table, keys: dict[str, Any], aggregates: dict[str, Any]) -> pd.DataFrame:
    """Integer ``aggregates`` per group of ``keys``, run by the engine, with keys normalised
    across engines (NULL as None, periods as naive UTC) and sorted by the keys."""
    measures = {name: value.cast("int64") for name, value in aggregates.items()}
    query = table.group_by(**keys).aggregate(**measures) if keys else table.aggregate(**measures)
    frame = query.execute()
    for name in measures:
        frame[name] = frame[name].fillna(0).astype("int64")
    for name in keys:
        if name == "period":
            frame[name] = _naive_utc(frame[name])
        else:
            frame[name] = frame[name].astype("object").where(frame[name].notna(), None)
    if not keys and len(frame) and frame["n"].iloc[0] == 0:
        frame = frame.iloc[0:0]  # an empty table has no slice, not one slice with n = 0
    if keys:
        frame = frame.sort_values(list(keys), na_position="last", kind="stable")
    return frame.reset_index(drop=True)


def _naive_utc(values: pd.Series) -> pd.Series:
    stamps = pd.to_datetime(values)
    if stamps.dt.tz is not None:
        stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
    return stamps.astype("datetime64[us]")


def _result(
    counts: pd.DataFrame,
    keys: list[str],
    estimate: tuple[np.ndarray, np.ndarray, np.ndarray],
    min_n: int,
    extras: dict[str, Any],
) -> pd.DataFrame:
    score, low, high = estimate
    frame = counts[keys].copy()
    frame["n"] = counts["n"].to_numpy(dtype="int64")
    frame["score"] = np.asarray(score, dtype="float64")
    frame["ci_low"] = np.asarray(low, dtype="float64")
    frame["ci_high"] = np.asarray(high, dtype="float64")
    frame["small_n"] = frame["n"] < min_n
    for name, values in extras.items():
        frame[name] = values
    return frame


def nps(
    table: ibis.Table,
    *,
    by: Sequence[str] | str = (),
    period: str | None = None,
    confidence: float = 0.95,
    min_n: int = 30,
) -> pd.DataFrame:
    """Net Promoter Score (−100…100) per slice, with Rocks' adjusted-Wald interval.

    Promoters answer 9–10, detractors 0–6. Extra columns: ``promoters``, ``passives`` and
    ``detractors`` (counts).

    Examples
    --------
    >>> import ibis
    >>> answers = ibis.memtable({"channel": ["app"] * 10, "nps": [10] * 5 + [8] * 3 + [3] * 2})
    >>> nps(answers, by=["channel"], min_n=5)[["channel", "n", "score", "small_n"]]
      channel   n  score  small_n
    0     app  10   30.0    False
    """
    counts, keys = _counts(
        table,
        score_column="nps",
        by=by,
        period=period,
        confidence=confidence,
        min_n=min_n,
        aggregates=lambda t: {
            "n": t.nps.count(),
            "promoters": (t.nps >= 9).ifelse(1, 0).sum(),
            "detractors": (t.nps <= 6).ifelse(1, 0).sum(),
        },
    )
    estimate = intervals.nps_interval(
        counts["promoters"], counts["detractors"], counts["n"], confidence=confidence
    )
    extras = {
        "promoters": counts["promoters"],
        "passives": counts["n"] - counts["promoters"] - counts["detractors"],
        "detractors": counts["detractors"],
    }
    return _result(counts, keys, estimate, min_n, extras)


def csat(
    table: ibis.Table,
    *,
    by: Sequence[str] | str = (),
    period: str | None = None,
    confidence: float = 0.95,
    min_n: int = 30,
) -> pd.DataFrame:
    """CSAT: the top-two-box share (4–5 of 1–5, as 0…1) per slice, with a Wilson interval.

    Extra columns: ``mean``, the mean answer on 1–5, and ``satisfied``, the count of 4–5.

    Examples
    --------
    >>> import ibis
    >>> answers = ibis.memtable({"csat": [5, 5, 4, 4, 4, 4, 5, 4, 2, 1]})
    >>> csat(answers, min_n=5)[["n", "score", "mean"]]
        n  score  mean
    0  10    0.8   3.8
    """
    counts, keys = _counts(
        table,
        score_column="csat",
        by=by,
        period=period,
        confidence=confidence,
        min_n=min_n,
        aggregates=lambda t: {
            "n": t.csat.count(),
            "satisfied": (t.csat >= 4).ifelse(1, 0).sum(),
            "total": t.csat.sum(),
        },
    )
    estimate = intervals.wilson_interval(counts["satisfied"], counts["n"], confidence=confidence)
    mean = counts["total"].to_numpy(dtype="float64") / counts["n"].to_numpy(dtype="float64")
    extras = {"mean": mean, "satisfied": counts["satisfied"].to_numpy(dtype="int64")}
    return _result(counts, keys, estimate, min_n, extras)


def ces(
    table: ibis.Table,
    *,
    by: Sequence[str] | str = (),
    period: str | None = None,
    confidence: float = 0.95,
    min_n: int = 30,
) -> pd.DataFrame:
    """Customer Effort Score: the mean answer on 1–7 per slice, with a Student-t interval
    clipped to 1–7 (NaN below n = 2).

    Extra columns: ``share_easy``, the share (0…1) answering 5–7; ``total`` and ``squares``,
    the sum of answers and of their squares (what a Welch test between slices needs).

    Examples
    --------
    >>> import ibis
    >>> answers = ibis.memtable({"ces": [7, 6, 5, 5, 4, 2, 1]})
    >>> ces(answers, min_n=5)[["n", "score", "share_easy"]].round(3)
       n  score  share_easy
    0  7  4.286       0.571
    """
    counts, keys = _counts(
        table,
        score_column="ces",
        by=by,
        period=period,
        confidence=confidence,
        min_n=min_n,
        aggregates=lambda t: {
            "n": t.ces.count(),
            "easy": (t.ces >= 5).ifelse(1, 0).sum(),
            "total": t.ces.sum(),
            "squares": (t.ces * t.ces).sum(),
        },
    )
    mean, low, high = intervals.t_interval(
        counts["total"], counts["squares"], counts["n"], confidence=confidence
    )
    estimate = (mean, np.clip(low, 1, 7), np.clip(high, 1, 7))  # the answers' own scale
    share = counts["easy"].to_numpy(dtype="float64") / counts["n"].to_numpy(dtype="float64")
    extras = {
        "share_easy": share,
        "total": counts["total"].to_numpy(dtype="int64"),
        "squares": counts["squares"].to_numpy(dtype="int64"),
    }
    return _result(counts, keys, estimate, min_n, extras)


def response_count(
    table: ibis.Table,
    *,
    by: Sequence[str] | str = (),
    period: str | None = None,
    confidence: float = 0.95,
    min_n: int = 30,
) -> pd.DataFrame:
    """Responses per slice: ``score`` is the count itself (a census, so no interval: NaN).

    Extra column: ``share``, the slice's share (0…1) of all responses in its period (of the
    whole table without ``period``). ``confidence`` is accepted for a uniform signature.

    Examples
    --------
    >>> import ibis
    >>> answers = ibis.memtable({"channel": ["chat", "chat", "survey"]})
    >>> response_count(answers, by=["channel"], min_n=2)[["channel", "n", "small_n", "share"]]
      channel  n  small_n     share
    0    chat  2    False  0.666667
    1  survey  1     True  0.333333
    """
    counts, keys = _counts(
        table,
        score_column=None,
        by=by,
        period=period,
        confidence=confidence,
        min_n=min_n,
        aggregates=lambda t: {"n": t.count()},
    )
    n = counts["n"].to_numpy(dtype="float64")
    totals = (
        counts.groupby("period")["n"].transform("sum").to_numpy(dtype="float64")
        if period
        else np.full(len(n), n.sum())
    )
    nan = np.full(len(n), np.nan)
    return _result(counts, keys, (n, nan, nan), min_n, {"share": n / totals})


SENTIMENT_UNITS = 10_000
"""Sentiment scores are summed by the engine as integers in units of 1/10,000."""


def sentiment(
    table: ibis.Table,
    *,
    by: Sequence[str] | str = (),
    period: str | None = None,
    confidence: float = 0.95,
    min_n: int = 30,
) -> pd.DataFrame:
    """Mean text sentiment (−1…1) per slice, with a Student-t interval clipped to −1…1.

    Each row of ``table`` is one feedback whose text the engine read (``sentiment_score``
    −1…1 and the label ``sentiment``: positive, neutral or negative); ``n`` is those rows, so
    the denominator is *enriched feedback with text* in the slice, never all responses
    (``cxloop.metrics.service`` builds that table from ``feedback_text``). The engine sums each
    score rounded to 1/10,000 (``floor(x·10⁴ + ½)``) as an integer: a float sum depends on the
    order each engine adds in, an integer sum does not, and the stored scores have four
    decimals anyway. Extra columns: ``share_negative`` and ``share_positive`` (0…1) and the
    counts ``negative`` and ``positive``.

    Examples
    --------
    >>> import ibis
    >>> texts = ibis.memtable({"sentiment_score": [0.8, 0.5, -0.6, 0.1],
    ...                        "sentiment": ["positive", "positive", "negative", "neutral"]})
    >>> sentiment(texts, min_n=2)[["n", "score", "share_negative", "share_positive"]]
       n  score  share_negative  share_positive
    0  4    0.2            0.25             0.5
    """

    def units(t: ibis.Table) -> Any:
        return (t.sentiment_score * SENTIMENT_UNITS + 0.5).floor().cast("int64")

    counts, keys = _counts(
        table,
        score_column="sentiment_score",
        score_type="numeric",
        required=("sentiment",),
        by=by,
        period=period,
        confidence=confidence,
        min_n=min_n,
        aggregates=lambda t: {
            "n": t.sentiment_score.count(),
            "negative": (t.sentiment == "negative").ifelse(1, 0).sum(),
            "positive": (t.sentiment == "positive").ifelse(1, 0).sum(),
            "total": units(t).sum(),
            "squares": (units(t) * units(t)).sum(),
        },
    )
    mean, low, high = intervals.t_interval(
        counts["total"], counts["squares"], counts["n"], confidence=confidence
    )
    estimate = (
        mean / SENTIMENT_UNITS,
        np.clip(low / SENTIMENT_UNITS, -1, 1),
        np.clip(high / SENTIMENT_UNITS, -1, 1),
    )
    n = counts["n"].to_numpy(dtype="float64")
    extras = {
        "share_negative": counts["negative"].to_numpy(dtype="float64") / n,
        "share_positive": counts["positive"].to_numpy(dtype="float64") / n,
        "negative": counts["negative"].to_numpy(dtype="int64"),
        "positive": counts["positive"].to_numpy(dtype="int64"),
    }
    return _result(counts, keys, estimate, min_n, extras)


METRICS: dict[str, Callable[..., pd.DataFrame]] = {
    "nps": nps,
    "csat": csat,
    "ces": ces,
    "responses": response_count,
    "sentiment": sentiment,
}
"""Every metric by the name the CLI and the API use."""
