"""Ordered conversion funnels over an event log, overall or per segment, with Wilson intervals.

Pure: a pandas DataFrame (or an Ibis table, executed here) in, a frozen ``FunnelResult`` out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from cxloop.errors import Invalid, Problem
from cxloop.insights.tables import as_frame
from cxloop.metrics import intervals

MISSING_SEGMENT = "(missing)"
FUNNEL_COLUMNS = (
    "step_order",
    "step",
    "n",
    "n_previous",
    "conversion_from_previous",
    "ci_low",
    "ci_high",
    "conversion_from_first",
    "first_ci_low",
    "first_ci_high",
    "drop_off",
    "median_seconds_from_previous",
)


@dataclass(frozen=True)
class FunnelResult:
    """Users reaching each step, conversions with Wilson intervals, drop-off and step times.

    ``table`` has ``segment`` first when ``by`` was given, then ``FUNNEL_COLUMNS``: ``n`` users
    reached the step, ``n_previous`` reached the step before; ``ci_low``/``ci_high`` bound
    ``conversion_from_previous`` (NaN on step 1) and ``first_ci_low``/``first_ci_high`` bound
    ``conversion_from_first``; ``drop_off`` = ``n_previous − n``.
    """

    table: pd.DataFrame
    steps: tuple[str, ...]
    window: pd.Timedelta | None
    by: str | None
    n: int
    method: str
    caveats: tuple[str, ...]

    def conversion(self, segment: str | None = None) -> float:
        """Share of the users who entered the funnel (in ``segment``) who reached its end."""
        rows = self.table if segment is None else self.table[self.table["segment"] == segment]
        if segment is None and self.by is not None:
            raise Invalid(Problem("segment", None, "must be named: the funnel is by segment"))
        last = rows[rows["step_order"] == len(self.steps)]
        if last.empty:
            raise Invalid(Problem("segment", segment, "is not a segment of this funnel"))
        return float(last["conversion_from_first"].iloc[0])


def parse_window(window: Any) -> pd.Timedelta | None:
    """A positive duration from ``"7D"``, ``"36h"``, a timedelta, or ``None`` (no limit)."""
    if window is None:
        return None
    problem = Problem("window", window, "is not a positive duration such as '7D'")
    try:
        duration = pd.Timedelta(window)
    except (TypeError, ValueError):
        raise Invalid(problem) from None
    if pd.isna(duration) or duration <= pd.Timedelta(0):
        raise Invalid(problem)
    return duration


def event_times(values: pd.Series, column: str) -> pd.Series:
    """Event times as naive UTC timestamps, or ``Invalid`` naming the first unreadable one."""
    textual = pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)
    parsed = pd.to_datetime(
        values, errors="coerce", utc=True, format="ISO8601" if textual else None
    )
    bad = parsed.isna()
    if bad.any():
        raise Invalid(Problem(column, values[bad].iloc[0], "is not a date or time"))
    return parsed.dt.tz_localize(None)


def _segments(
    frame: pd.DataFrame, by: str | pd.DataFrame | None, user_col: str
) -> tuple[pd.Series | None, str | None, list[str]]:
    """The segment of every event row, the segment column's name and caveats."""
    if by is None:
        return None, None, []
    if isinstance(by, str):
        labels = frame[by].astype("string").fillna(MISSING_SEGMENT)
        caveat = (
            f"a user's segment is the {by!r} of the event that entered the funnel, so a user "
            "whose segment changed can count once in each segment entered"
        )
        return labels, by, [caveat]
    others = [c for c in by.columns if c != user_col]
    if user_col not in by.columns or len(others) != 1:
        raise Invalid(
            Problem("by", list(by.columns), f"must have {user_col!r} and one segment column")
        )
    if by[user_col].duplicated().any():
        duplicate = by[user_col][by[user_col].duplicated()].iloc[0]
        raise Invalid(Problem("by", duplicate, "maps this user to more than one segment"))
    mapping = pd.Series(by[others[0]].astype("string").to_numpy(), index=by[user_col].to_numpy())
    labels = pd.Series(frame[user_col].map(mapping), index=frame.index, dtype="string")
    unmapped = int(frame.loc[labels.isna(), user_col].nunique())
    caveats = [f"{unmapped} users without a segment in 'by' count as {MISSING_SEGMENT!r}"]
    return labels.fillna(MISSING_SEGMENT), others[0], caveats if unmapped else []


def _attempts(
    users: np.ndarray,
    events: np.ndarray,
    times: np.ndarray,
    steps: Sequence[str],
    window: pd.Timedelta | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For every first-step event (rows sorted by user, time): its row, the steps reached and
    the time each step was reached (NaT beyond the level).

    Each later step is matched to the user's earliest event of that step after the previous
    match (greedy earliest matching reaches the most steps for a given start), within
    ``window`` of the start. Vectorised over all starts with ``searchsorted``.
    """
    starts = np.flatnonzero(events == steps[0])
    current = starts.copy()
    reached = np.ones(len(starts), dtype=bool)
    level = np.ones(len(starts), dtype=np.int64)
    step_times = np.full((len(starts), len(steps)), np.datetime64("NaT"), dtype=times.dtype)
    step_times[:, 0] = times[starts]
    limit = np.timedelta64(window.value, "ns") if window is not None else None
    for k, step in enumerate(steps[1:], start=1):
        rows = np.flatnonzero(events == step)
        if len(rows) == 0:
            break
        after = np.searchsorted(rows, current, side="right")
        found = after < len(rows)
        candidate = rows[np.minimum(after, len(rows) - 1)]
        ok = reached & found & (users[candidate] == users[starts])
        if limit is not None:
            ok &= times[candidate] - times[starts] <= limit
        current = np.where(ok, candidate, current)
        step_times[ok, k] = times[candidate[ok]]
        level += ok
        reached = ok
    return starts, level, step_times


def funnel(
    events: Any,
    *,
    steps: Sequence[str],
    user_col: str = "customer_id",
    event_col: str = "event_type",
    time_col: str = "occurred_at",
    window: Any = "7D",
    by: str | pd.DataFrame | None = None,
    confidence: float = 0.95,
) -> FunnelResult:
    """An ordered funnel: how many users reach each step, in order, within ``window``.

    A user enters at any event of the first step; each later step must be a later event of the
    user (ties in time keep the input order) within ``window`` of that entry (``None``: no
    limit). Every entry is tried and the user counts at the furthest step any entry reaches
    (ClickHouse ``windowFunnel`` semantics); step times come from the earliest entry that got
    that far. ``by`` is a column of ``events`` (the segment on the entering event) or a frame
    mapping ``user_col`` to one segment column.

    >>> log = pd.DataFrame({"customer_id": ["a", "a", "a", "b", "b"],
    ...     "event_type": ["view", "cart", "buy", "view", "buy"],
    ...     "occurred_at": pd.to_datetime(["2024-01-01 10:00", "2024-01-01 10:05",
    ...         "2024-01-01 10:20", "2024-01-02 09:00", "2024-01-03 09:00"])})
    >>> result = funnel(log, steps=["view", "cart", "buy"])
    >>> result.table[["step", "n", "drop_off", "median_seconds_from_previous"]].values.tolist()
    [['view', 2, 0, nan], ['cart', 1, 1, 300.0], ['buy', 1, 0, 900.0]]
    """
    frame = as_frame(events, "events")
    problems = [
        Problem(column, None, "is not a column of the events")
        for column in (user_col, event_col, time_col)
        if column not in frame.columns
    ]
    steps = list(steps) if not isinstance(steps, str) else [steps]
    if len(steps) < 2:
        problems.append(Problem("steps", steps, "needs at least two steps"))
    problems += [
        Problem("steps", step, "is named twice")
        for i, step in enumerate(steps)
        if step in steps[:i]
    ]
    if isinstance(by, str) and by not in frame.columns:
        problems.append(Problem("by", by, "is not a column of the events"))
    if not 0 < confidence < 1:
        problems.append(Problem("confidence", confidence, "is not between 0 and 1"))
    if problems:
        raise Invalid(problems)
    duration = parse_window(window)
    present = set(frame[event_col].unique())
    absent = [step for step in steps if step not in present]
    if steps[0] in absent:
        raise Invalid(Problem("steps", steps[0], "never occurs in the events: no one enters"))

    keep = frame[frame[event_col].isin(steps)]
    times = event_times(keep[time_col], time_col)
    labels, by_name, caveats = _segments(keep, by, user_col)
    ordered = pd.DataFrame(
        {"user": keep[user_col].to_numpy(), "event": keep[event_col].to_numpy(), "time": times}
    )
    if labels is not None:
        ordered["segment"] = labels.to_numpy()
    ordered = ordered.sort_values(["user", "time"], kind="stable").reset_index(drop=True)
    user_codes = pd.factorize(ordered["user"])[0]
    starts, level, step_times = _attempts(
        user_codes,
        ordered["event"].to_numpy(dtype=object),
        ordered["time"].to_numpy(dtype="datetime64[ns]"),
        steps,
        duration,
    )
    attempts = pd.DataFrame({"user": user_codes[starts], "level": level, "start": starts})
    attempts["segment"] = ordered["segment"].to_numpy()[starts] if labels is not None else ""
    best = attempts.sort_values(
        ["user", "segment", "level", "start"], ascending=[True, True, False, True], kind="stable"
    ).drop_duplicates(["user", "segment"])
    table = pd.concat(
        [
            _step_table(
                group["level"].to_numpy(), step_times[group.index.to_numpy()], steps, confidence
            ).assign(segment=segment)
            for segment, group in _groups(best)
        ],
        ignore_index=True,
    )
    if by_name is not None:
        table = table[["segment", *FUNNEL_COLUMNS]]
    else:
        table = table[list(FUNNEL_COLUMNS)]
    if absent:
        caveats.append(f"steps never seen in the events: {', '.join(absent)}")
    caveats.append(
        "users who never did the first step are not in the funnel; a share is of users, "
        "not of sessions or visits"
    )
    window_words = f"within {duration} of entry" if duration is not None else "with no time limit"
    return FunnelResult(
        table=table.reset_index(drop=True),
        steps=tuple(steps),
        window=duration,
        by=by_name,
        n=int(best["user"].nunique()),
        method=(
            f"ordered funnel over {len(steps)} steps {window_words}; furthest step over every "
            f"entry per user{' and segment' if by_name else ''}; Wilson {confidence:.0%} "
            "intervals on the conversion shares"
        ),
        caveats=tuple(caveats),
    )


def _groups(best: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """Best attempts per segment, segments sorted by name."""
    return [(str(name), group) for name, group in best.groupby("segment", sort=True)]


def _step_table(
    level: np.ndarray, step_times: np.ndarray, steps: Sequence[str], confidence: float
) -> pd.DataFrame:
    """Counts, conversions, intervals, drop-off and median step times for one group."""
    counts = np.array([(level >= k + 1).sum() for k in range(len(steps))], dtype=np.int64)
    previous = np.r_[counts[0], counts[:-1]]
    from_previous, low, high = intervals.wilson_interval(counts, previous, confidence=confidence)
    from_first, first_low, first_high = intervals.wilson_interval(
        counts, np.full(len(steps), counts[0]), confidence=confidence
    )
    medians = [np.nan]
    for k in range(1, len(steps)):
        reached = level >= k + 1
        gaps = (step_times[reached, k] - step_times[reached, k - 1]) / np.timedelta64(1, "s")
        medians.append(float(np.median(gaps)) if reached.any() else np.nan)
    table = pd.DataFrame(
        {
            "step_order": np.arange(1, len(steps) + 1),
            "step": list(steps),
            "n": counts,
            "n_previous": previous,
            "conversion_from_previous": from_previous,
            "ci_low": low,
            "ci_high": high,
            "conversion_from_first": from_first,
            "first_ci_low": first_low,
            "first_ci_high": first_high,
            "drop_off": previous - counts,
            "median_seconds_from_previous": medians,
        }
    )
    table.loc[0, ["conversion_from_previous", "ci_low", "ci_high"]] = np.nan
    return table
