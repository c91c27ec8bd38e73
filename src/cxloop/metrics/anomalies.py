"""Is this week unusual? Spikes, drops and emerging topics in metric time series, as alert rows.

Each point of a series is judged against **its own recent history only**: the median and the MAD
(median absolute deviation) of the previous ``window`` points, the current one excluded. The
score is a robust z, ``(value − median) / scale`` with ``scale = 1.4826·MAD``, so one earlier
spike neither raises the baseline nor widens the band enough to hide the next one, and a
seasonal or trending series is compared with its recent level, not its yearly mean.

Why this and not a Poisson or negative-binomial tail probability: the same rule fits counts,
shares and scores (NPS, CSAT), it needs no dispersion estimate from eight noisy points, and a
robust z is a number an analyst can read. Counts get two safeguards against false alarms on
noise, the usual failure of a plain MAD rule on small samples:

* counts are scored on the Anscombe scale ``2·sqrt(x + 3/8)``, where Poisson noise has unit
  variance whatever the level, so 12 → 37 and 120 → 145 are not judged alike;
* the scale never falls below that Poisson noise (1 on the Anscombe scale): eight quiet weeks
  with an accidentally tiny MAD do not turn an ordinary week into an alert.

Shares (``emerging_topics``) get the same floor from the binomial standard error of the current
week's share. With the defaults (``window=8``, ``threshold=4``) the measured false-alarm rate
on 200 simulated years of Poisson(20) weekly counts is about 1 series in 100 with any alert
(see the tests), while a week at 3× its usual count is found.

Alert rows have stable columns, ``ALERT_COLUMNS`` with the slice columns after ``kind``:
``kind`` (``"anomaly"`` or ``"emerging_topic"``), the slice columns, ``period``, ``value``,
``expected`` (the baseline median, on the value's own scale), ``score`` (the robust z, signed),
``direction`` (``"spike"`` or ``"drop"``) and ``reason`` (one sentence). The series is taken as
given: periods with nothing in them must be present with a count of 0, or they are not seen.

Written here rather than taken from a library: the candidates (statsmodels' STL, Prophet,
ruptures) need long histories or seasonality fits and give no per-point alert with a reason;
the rule is a few lines of numpy.
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Sequence
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from cxloop.errors import Invalid, Problem

Floats = npt.NDArray[np.float64]

ALERT_COLUMNS = ("kind", "period", "value", "expected", "score", "direction", "reason")
"""Columns of every alert frame; the slice columns come right after ``kind``."""
MAD_TO_SD = 1.4826
"""MAD × this estimates the standard deviation of normal noise."""
DEFAULT_THRESHOLD = 4.0
"""|robust z| at or above which a point is an alert."""

Direction = Literal["both", "spike", "drop"]


# --- core: one series in, baseline and score out ---------------------------------------------


def _history(values: Floats, window: int, min_history: int) -> tuple[Floats, Floats]:
    """Median and MAD of the previous ``window`` finite values of each point (NaN if fewer
    than ``min_history``)."""
    padded = np.concatenate([np.full(window, np.nan), values])
    past = np.lib.stride_tricks.sliding_window_view(padded[:-1], window)
    enough = np.isfinite(past).sum(axis=1) >= min_history
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN windows, masked below
        median = np.nanmedian(past, axis=1)
        mad = np.nanmedian(np.abs(past - median[:, None]), axis=1)
    return np.where(enough, median, np.nan), np.where(enough, mad, np.nan)


def _anscombe(counts: Floats) -> Floats:
    """Variance-stabilising transform: Poisson counts get unit variance at every level."""
    return 2.0 * np.sqrt(np.maximum(counts, 0) + 3.0 / 8.0)


def _robust_z(values: Floats, median: Floats, mad: Floats, floor: Floats | float) -> Floats:
    """(value − median) / max(1.4826·MAD, floor); NaN where the scale is zero or unknown."""
    scale = np.maximum(MAD_TO_SD * mad, floor)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (values - median) / scale
    return np.where(np.isfinite(scale) & (scale > 0), z, np.nan)


# --- words -----------------------------------------------------------------------------------


def _step_days(periods: pd.Series) -> float | None:
    """Median spacing of the distinct periods in days, or None when they are not dates."""
    try:
        stamps = pd.to_datetime(pd.Series(periods.unique()))
    except (TypeError, ValueError):
        return None
    gaps = stamps.sort_values().diff().dropna().dt.days
    return float(gaps.median()) if len(gaps) else None


def _when(period: Any, step: float | None) -> str:
    """ "in the week of 2026-06-01", "in 2026-06", "on 2026-06-01"… from the periods' spacing."""
    if step is None:
        return f"in {period}"
    stamp = pd.Timestamp(period.start_time if isinstance(period, pd.Period) else period)
    day = stamp.date().isoformat()
    if step <= 1:
        return f"on {day}"
    if 6 <= step <= 8:
        return f"in the week of {day}"
    if 28 <= step <= 31:
        return f"in {stamp:%Y-%m}"
    if 89 <= step <= 92:
        return f"in the quarter starting {day}"
    return f"in the period starting {day}"


def _percent(share: float) -> str:
    return f"{share * 100:.0f} %"


def _number(x: float) -> str:
    return f"{x:.0f}" if float(x).is_integer() else f"{x:.3g}"


def _subject(label: str | None, keys: dict[str, Any], value_column: str) -> str:
    if label is not None:
        return label.format(**keys)
    named = ", ".join(f"{k}={v}" for k, v in keys.items())
    return f"{value_column} ({named})" if named else value_column


# --- checks ----------------------------------------------------------------------------------


def _check(
    frame: pd.DataFrame,
    needed: Sequence[str],
    *,
    window: int,
    threshold: float,
    min_history: int,
    name: str = "series",
) -> list[Problem]:
    problems = [
        Problem(name, column, "is not a column of the frame")
        for column in needed
        if column not in frame.columns
    ]
    if window < 1:
        problems.append(Problem("window", window, "is below 1"))
    if not 1 <= min_history <= max(window, 1):
        problems.append(Problem("min_history", min_history, "is not between 1 and window"))
    if not threshold > 0:
        problems.append(Problem("threshold", threshold, "is not positive"))
    return problems


def _empty(by: Sequence[str]) -> pd.DataFrame:
    columns = [ALERT_COLUMNS[0], *by, *ALERT_COLUMNS[1:]]
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns}).astype(
        {"value": "float64", "expected": "float64", "score": "float64"}
    )


def _keys(by: Sequence[str], key: Hashable) -> dict[str, Any]:
    values = key if isinstance(key, tuple) else (key,)
    return dict(zip(by, values, strict=True)) if by else {}


# --- public ----------------------------------------------------------------------------------


def detect_spikes(
    series: pd.DataFrame,
    *,
    time_column: str = "period",
    value_column: str = "n",
    by: Sequence[str] = (),
    window: int = 8,
    threshold: float = DEFAULT_THRESHOLD,
    min_history: int = 4,
    counts: bool = True,
    direction: Direction = "both",
    label: str | None = None,
    noise_column: str | None = None,
) -> pd.DataFrame:
    """Points of each slice's time series that its own recent history does not explain.

    ``series`` has one row per slice (``by``) and period (``time_column``), complete: a period
    with no feedback must be a row with 0. Each point is scored against the median and MAD of
    the previous ``window`` points of its slice (at least ``min_history`` of them, else it is
    not scored); see the module docstring for why. ``counts=True`` scores on the Anscombe scale
    with the Poisson noise as the least scale; set ``counts=False`` for scores or shares (NPS,
    CSAT), which are scored as they are, and pass ``noise_column``: each point's sampling
    standard error, the least scale that point is judged on (without it a quiet history's small
    MAD turns an ordinary week of 40 answers into an alert). ``label`` names the series in the
    reason, a ``str.format`` template over the slice columns (``"{topic} complaints"``).

    Returns the alerts only, ``ALERT_COLUMNS`` with the ``by`` columns after ``kind``
    (``kind`` is ``"anomaly"``), sorted by slice and period; no alert gives an empty frame.

    Examples
    --------
    >>> weeks = pd.date_range("2026-04-06", periods=10, freq="W-MON")
    >>> counts = [10, 12, 9, 11, 10, 13, 10, 11, 38, 10]
    >>> alerts = detect_spikes(
    ...     pd.DataFrame({"period": weeks, "n": counts}), label="delivery complaints"
    ... )
    >>> alerts[["period", "value", "expected", "direction"]].to_dict("records")
    [{'period': Timestamp('2026-06-01 00:00:00'), 'value': 38.0, 'expected': 10.5, \
'direction': 'spike'}]
    >>> print(alerts["reason"].iloc[0])
    delivery complaints in the week of 2026-06-01: 38 against 10.5 expected (spike, robust z 5.8)
    """
    by = [by] if isinstance(by, str) else list(by)
    problems = _check(
        series,
        [*by, time_column, value_column, *([noise_column] if noise_column else [])],
        window=window,
        threshold=threshold,
        min_history=min_history,
    )
    if direction not in ("both", "spike", "drop"):
        problems.append(Problem("direction", direction, "is not one of: both, spike, drop"))
    if not problems and series.duplicated([*by, time_column]).any():
        problems.append(Problem("series", time_column, "has more than one row per slice"))
    if problems:
        raise Invalid(problems)
    if series.empty:
        return _empty(by)

    step = _step_days(series[time_column])
    frames = []
    groups = series.groupby(by, sort=True, dropna=False) if by else [((), series)]
    for key, group in groups:
        group = group.sort_values(time_column, kind="stable")
        raw = pd.to_numeric(group[value_column], errors="coerce").to_numpy(dtype=np.float64)
        scored = _anscombe(raw) if counts else raw
        median, mad = _history(scored, window, min_history)
        floor: Floats | float = 1.0 if counts else 0.0
        if noise_column is not None:
            noise = pd.to_numeric(group[noise_column], errors="coerce").to_numpy(np.float64)
            floor = np.where(np.isfinite(noise), np.maximum(noise, floor), floor)
        z = _robust_z(scored, median, mad, floor)
        expected, _ = _history(raw, window, min_history)
        hits = _hits(z, threshold, direction)
        subject = _subject(label, _keys(by, key), value_column)
        sentences = [
            f"{subject} {{when}}: {_number(raw[i])} against {_number(expected[i])} expected"
            for i in hits
        ]
        frames.append(
            _rows(
                "anomaly",
                _keys(by, key),
                group[time_column].to_numpy(),
                raw,
                expected,
                z,
                hits,
                sentences,
                step,
            )
        )
    found = [f for f in frames if not f.empty]
    return pd.concat(found, ignore_index=True) if found else _empty(by)


def _hits(z: Floats, threshold: float, direction: Direction) -> npt.NDArray[np.intp]:
    """Indices where |z| ≥ threshold, in the directions asked for."""
    hit = np.isfinite(z) & (np.abs(z) >= threshold)
    if direction == "spike":
        hit &= z > 0
    elif direction == "drop":
        hit &= z < 0
    return np.flatnonzero(hit)


def _rows(
    kind: str,
    keys: dict[str, Any],
    periods: npt.NDArray[Any],
    values: Floats,
    expected: Floats,
    z: Floats,
    hits: npt.NDArray[np.intp],
    sentences: list[str],
    step: float | None,
) -> pd.DataFrame:
    """Alert rows of one series; each sentence has a ``{when}`` the period's words fill."""
    rows = []
    for i, sentence in zip(hits, sentences, strict=True):
        way = "spike" if z[i] > 0 else "drop"
        rows.append(
            {
                "kind": kind,
                **keys,
                "period": periods[i],
                "value": float(values[i]),
                "expected": float(expected[i]),
                "score": float(z[i]),
                "direction": way,
                "reason": sentence.format(when=_when(periods[i], step))
                + f" ({way}, robust z {z[i]:.1f})",
            }
        )
    return pd.DataFrame(rows)


def emerging_topics(
    topic_counts: pd.DataFrame,
    totals: pd.DataFrame,
    *,
    time_column: str = "period",
    topic_column: str = "topic",
    count_column: str = "n",
    total_column: str = "n",
    window: int = 8,
    threshold: float = DEFAULT_THRESHOLD,
    min_history: int = 4,
    min_count: int = 5,
) -> pd.DataFrame:
    """Topics whose **share** of all feedback rises beyond what their recent history explains.

    ``topic_counts`` has one row per topic and period (feedback mentioning the topic), ``totals``
    one row per period (all feedback); a topic missing in a period of ``totals`` counts 0 there.
    The share (count / total) is scored like ``detect_spikes`` scores a series, against the
    median and MAD of the previous ``window`` shares, with the binomial standard error of the
    current share as the least scale, so a busy week overall raises no topic and a small week
    raises no topic by chance. Only rises are reported, and only with at least ``min_count``
    mentions, so a topic going from 0 to 2 mentions is not "emerging".

    Returns ``ALERT_COLUMNS`` with the topic column after ``kind`` (``kind`` is
    ``"emerging_topic"``, ``value`` and ``expected`` are shares 0…1).

    Examples
    --------
    >>> weeks = pd.date_range("2026-04-06", periods=9, freq="W-MON")
    >>> totals = pd.DataFrame({"period": weeks, "n": [200, 210, 190, 205, 400, 200, 195, 210, 200]})
    >>> price = [20, 21, 19, 20, 40, 20, 19, 21, 20]  # doubles with the busy week: same share
    >>> returns = [6, 5, 7, 6, 12, 6, 5, 6, 30]  # five times its share in the last week
    >>> counts = pd.DataFrame(
    ...     {"period": [*weeks, *weeks], "topic": ["price"] * 9 + ["returns"] * 9,
    ...      "n": price + returns}
    ... )
    >>> alerts = emerging_topics(counts, totals)
    >>> alerts[["topic", "period", "direction"]].to_dict("records")
    [{'topic': 'returns', 'period': Timestamp('2026-06-01 00:00:00'), 'direction': 'spike'}]
    >>> print(alerts["reason"].iloc[0])
    returns in the week of 2026-06-01: 15 % of feedback (30 of 200) against 3 % expected \
(spike, robust z 9.4)
    """
    problems = _check(
        topic_counts,
        [time_column, topic_column, count_column],
        window=window,
        threshold=threshold,
        min_history=min_history,
        name="topic_counts",
    )
    problems += [
        Problem("totals", column, "is not a column of the frame")
        for column in (time_column, total_column)
        if column not in totals.columns
    ]
    if min_count < 0:
        problems.append(Problem("min_count", min_count, "is negative"))
    if not problems and totals.duplicated([time_column]).any():
        problems.append(Problem("totals", time_column, "has more than one row per period"))
    if not problems and topic_counts.duplicated([topic_column, time_column]).any():
        problems.append(Problem("topic_counts", time_column, "has more than one row per topic"))
    if problems:
        raise Invalid(problems)
    if topic_counts.empty or totals.empty:
        return _empty([topic_column])

    total = totals.set_index(time_column)[total_column].sort_index()
    total_n = pd.to_numeric(total, errors="coerce").to_numpy(dtype=np.float64)
    step = _step_days(totals[time_column])
    frames = []
    for topic, group in topic_counts.groupby(topic_column, sort=True):
        count = (
            pd.to_numeric(group.set_index(time_column)[count_column], errors="coerce")
            .reindex(total.index, fill_value=0)
            .to_numpy(dtype=np.float64)
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(total_n > 0, count / total_n, np.nan)
            median, mad = _history(share, window, min_history)
            smoothed = (median * total_n + 1) / (total_n + 2)  # finite SE for a topic at 0
            binomial = np.sqrt(smoothed * (1 - smoothed) / total_n)
        z = _robust_z(share, median, mad, binomial)
        z = np.where(count >= min_count, z, np.nan)
        hits = _hits(z, threshold, "spike")
        sentences = [
            f"{topic} {{when}}: {_percent(share[i])} of feedback ({count[i]:.0f} of "
            f"{total_n[i]:.0f}) against {_percent(median[i])} expected"
            for i in hits
        ]
        frames.append(
            _rows(
                "emerging_topic",
                {topic_column: topic},
                total.index.to_numpy(),
                share,
                median,
                z,
                hits,
                sentences,
                step,
            )
        )
    found = [f for f in frames if not f.empty]
    return pd.concat(found, ignore_index=True) if found else _empty([topic_column])
