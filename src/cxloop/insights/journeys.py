"""Journeys over time: lifecycle stages from day thresholds, the most frequent paths between two
events, and retention by acquisition cohort (long table and triangle).

Pure: pandas DataFrames in (an Ibis table is executed here; for cohorts the distinct
user × period pairs are computed on the engine first), DataFrames out with ``attrs`` saying
``n``, ``method`` and ``caveats``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ibis
import numpy as np
import pandas as pd

from cxloop.errors import Invalid, Problem
from cxloop.insights.funnels import event_times, parse_window
from cxloop.insights.segments import as_of_stamp, missing_columns, timestamps
from cxloop.insights.tables import as_frame
from cxloop.metrics import intervals

PATH_SEPARATOR = " → "
PERIODS = {"day": "D", "week": "W-SUN", "month": "M", "quarter": "Q-DEC"}
"""``period`` names and the pandas period each stands for (weeks run Monday to Sunday)."""
_ENGINE_TRUNCATION = {"day": "D", "week": "D", "month": "M", "quarter": "Q"}
"""What the engine truncates to before pandas finishes the period (weeks by day first:
engines disagree on the first day of a week)."""


# --- lifecycle ----------------------------------------------------------------------------------

STAGES = ("new", "active", "at risk", "lapsed", "churned")


@dataclass(frozen=True)
class LifecycleRules:
    """Day thresholds for lifecycle stages; each bound is inclusive (``days <= threshold``).

    Rules, first match wins (days are whole days before ``as_of``):

    1. churned — the churn flag is true, or the subscription ended on or before ``as_of``;
    2. churned — last activity more than ``lapsed_days`` ago;
    3. new — first activity at most ``new_days`` ago;
    4. active — last activity at most ``active_days`` ago;
    5. at risk — last activity at most ``at_risk_days`` ago;
    6. lapsed — otherwise (last activity at most ``lapsed_days`` ago).
    """

    new_days: int = 30
    active_days: int = 60
    at_risk_days: int = 120
    lapsed_days: int = 365

    def __post_init__(self) -> None:
        problems = [
            Problem(name, value, "is not a whole number of days ≥ 0")
            for name, value in self._thresholds()
            if not isinstance(value, int) or isinstance(value, bool) or value < 0
        ]
        if not problems and not (
            self.active_days < self.at_risk_days < self.lapsed_days
            and self.new_days <= self.lapsed_days
        ):
            problems.append(
                Problem(
                    "rules",
                    dict(self._thresholds()),
                    "need active_days < at_risk_days < lapsed_days and new_days ≤ lapsed_days",
                )
            )
        if problems:
            raise Invalid(problems)

    def _thresholds(self) -> list[tuple[str, Any]]:
        return [
            ("new_days", self.new_days),
            ("active_days", self.active_days),
            ("at_risk_days", self.at_risk_days),
            ("lapsed_days", self.lapsed_days),
        ]


def lifecycle(
    customers_activity: Any,
    *,
    as_of: Any,
    rules: LifecycleRules = LifecycleRules(),
    customer_col: str = "customer_id",
    first_col: str = "first_active_at",
    last_col: str = "last_active_at",
    churned_col: str | None = "churned",
    ended_col: str | None = "ended_at",
) -> pd.DataFrame:
    """Each customer's lifecycle stage on ``as_of`` by the rules of ``LifecycleRules``.

    ``churned_col`` (booleans) and ``ended_col`` (subscription end, empty while running) are
    used when the table has them. Returns the customer column, ``days_since_first``,
    ``days_since_last``, ``stage`` (ordered categorical of ``STAGES``) and ``reason``; the
    frame's ``attrs`` hold ``n``, ``method`` and ``caveats``.

    >>> table = pd.DataFrame({"customer_id": ["a", "b"], "first_active_at": ["2024-01-01"] * 2,
    ...     "last_active_at": ["2024-06-20", "2024-04-01"]})
    >>> lifecycle(table, as_of="2024-06-30")["stage"].tolist()
    ['active', 'at risk']
    """
    frame = as_frame(customers_activity, "customers_activity")
    problems = missing_columns(frame.columns, (customer_col, first_col, last_col))
    stamp = as_of_stamp(as_of, problems)
    if problems:
        raise Invalid(problems)
    first = timestamps(frame[first_col], first_col, problems)
    last = timestamps(frame[last_col], last_col, problems)
    if problems:
        raise Invalid(problems)
    assert stamp is not None
    if (last < first).any():
        problems.append(
            Problem(last_col, str(last[last < first].iloc[0]), f"is before {first_col}")
        )
    if (last > stamp).any():
        problems.append(Problem(last_col, str(last[last > stamp].iloc[0]), "is after as_of"))
    churn_flag = pd.Series(False, index=frame.index)
    if churned_col is not None and churned_col in frame.columns:
        flags = frame[churned_col]
        if not pd.api.types.is_bool_dtype(flags) and not set(flags.dropna().unique()) <= {0, 1}:
            problems.append(Problem(churned_col, flags.iloc[0], "is not true/false"))
        else:
            churn_flag = flags.fillna(False).astype(bool)
    ended = pd.Series(False, index=frame.index)
    if ended_col is not None and ended_col in frame.columns:
        ended_at = pd.to_datetime(frame[ended_col], errors="coerce")
        unreadable = ended_at.isna() & frame[ended_col].notna() & (frame[ended_col] != "")
        if unreadable.any():
            problems.append(
                Problem(ended_col, frame[ended_col][unreadable].iloc[0], "is not a date or time")
            )
        ended = ended_at.notna() & (ended_at <= stamp)
    if problems:
        raise Invalid(problems)

    since_first = (stamp - first).dt.days.astype("int64")
    since_last = (stamp - last).dt.days.astype("int64")
    ordered = [
        ("churned", churn_flag, "churn flag"),
        ("churned", ended, "subscription ended"),
        ("churned", since_last > rules.lapsed_days, f"no activity for > {rules.lapsed_days} days"),
        ("new", since_first <= rules.new_days, f"first active ≤ {rules.new_days} days ago"),
        ("active", since_last <= rules.active_days, f"active ≤ {rules.active_days} days ago"),
        ("at risk", since_last <= rules.at_risk_days, f"active ≤ {rules.at_risk_days} days ago"),
    ]
    conditions = [condition.to_numpy() for _, condition, _ in ordered]
    stage = np.select(conditions, [s for s, _, _ in ordered], default="lapsed")
    reason = np.select(
        conditions, [r for _, _, r in ordered], default=f"active ≤ {rules.lapsed_days} days ago"
    )
    result = pd.DataFrame(
        {
            customer_col: frame[customer_col].to_numpy(),
            "days_since_first": since_first.to_numpy(),
            "days_since_last": since_last.to_numpy(),
            "stage": pd.Categorical(stage, categories=STAGES, ordered=True),
            "reason": reason,
        }
    )
    result.attrs.update(
        n=len(result),
        method=(
            f"rules in order, first match wins, as of {stamp:%Y-%m-%d}: churned (flag, ended "
            f"subscription, or > {rules.lapsed_days} days inactive), new (≤ {rules.new_days} "
            f"days since first), active (≤ {rules.active_days}), at risk "
            f"(≤ {rules.at_risk_days}), lapsed (≤ {rules.lapsed_days}); whole days, inclusive"
        ),
        caveats=(
            "stages depend on the thresholds; set them to the buying cycle of the business",
            "a new customer stays new for new_days whatever their activity since",
        ),
    )
    return result


# --- paths --------------------------------------------------------------------------------------


def _walk(
    groups: np.ndarray,
    events: np.ndarray,
    times: np.ndarray,
    *,
    start: str,
    end: str,
    max_steps: int,
    limit: np.timedelta64 | None,
    collapse_repeats: bool,
) -> tuple[list[tuple[str, ...]], int]:
    """Completed paths and the number of starts, from rows sorted by group then time.

    A plain loop rather than a group-by: a path is a small state machine (open at ``start``,
    reopen at a repeated ``start``, close at ``end``, give up past ``max_steps`` or the time
    limit or at the end of the group) that no vectorised group-by expresses.
    """
    paths: list[tuple[str, ...]] = []
    starts = 0
    current: list[str] | None = None
    opened_at = times[0] if len(times) else None
    for i, event in enumerate(events):
        if i and groups[i] != groups[i - 1]:
            current = None
        if current is not None and limit is not None and times[i] - opened_at > limit:
            current = None
        if event == start:
            current, opened_at = [start], times[i]
            starts += 1
            continue
        if current is None or (collapse_repeats and event == current[-1]):
            continue
        current.append(event)
        if event == end:
            paths.append(tuple(current))
            current = None
        elif len(current) >= max_steps:
            current = None
    return paths, starts


def top_paths(
    events: Any,
    *,
    start: str,
    end: str,
    max_steps: int = 6,
    top: int = 10,
    user_col: str = "customer_id",
    event_col: str = "event_type",
    time_col: str = "occurred_at",
    session_col: str | None = None,
    window: Any = "1D",
    collapse_repeats: bool = True,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """The most frequent event sequences from ``start`` to the next ``end``.

    Events are followed per session (``session_col``) or else per user, in time order (ties
    keep the input order). A path opens at ``start``; a repeated ``start`` reopens it (so a
    path holds ``start`` once, at its head); it closes at the first ``end`` if that comes
    within ``max_steps`` events (both ends counted) and within ``window`` of the start
    (``None``: no limit). ``collapse_repeats`` drops an event equal to the one before it.

    Returns ``path``, ``steps``, ``n``, ``share`` (of completed paths) with Wilson
    ``ci_low``/``ci_high``, most frequent first; ``attrs`` hold ``n`` (completed paths),
    ``n_starts``, ``method`` and ``caveats``.

    >>> log = pd.DataFrame({"customer_id": ["a"] * 5 + ["b"] * 3,
    ...     "event_type": ["home", "cart", "home", "cart", "buy", "home", "view", "buy"],
    ...     "occurred_at": pd.date_range("2024-01-01", periods=8, freq="min")})
    >>> top_paths(log, start="home", end="buy")[["path", "n", "share"]].values.tolist()
    [['home → cart → buy', 1, 0.5], ['home → view → buy', 1, 0.5]]
    """
    frame = as_frame(events, "events")
    group_col = session_col if session_col is not None else user_col
    problems = missing_columns(frame.columns, (group_col, event_col, time_col))
    if start == end:
        problems.append(Problem("end", end, "is the same event as start"))
    if not isinstance(max_steps, int) or max_steps < 2:
        problems.append(Problem("max_steps", max_steps, "is not a whole number ≥ 2"))
    if not isinstance(top, int) or top < 1:
        problems.append(Problem("top", top, "is not a whole number ≥ 1"))
    if not 0 < confidence < 1:
        problems.append(Problem("confidence", confidence, "is not between 0 and 1"))
    if problems:
        raise Invalid(problems)
    duration = parse_window(window)
    ordered = pd.DataFrame(
        {
            "group": frame[group_col].to_numpy(),
            "event": frame[event_col].astype(str).to_numpy(),
            "time": event_times(frame[time_col], time_col).to_numpy(),
        }
    ).sort_values(["group", "time"], kind="stable")
    paths, n_starts = _walk(
        pd.factorize(ordered["group"])[0],
        ordered["event"].to_numpy(dtype=object),
        ordered["time"].to_numpy(dtype="datetime64[ns]"),
        start=start,
        end=end,
        max_steps=max_steps,
        limit=np.timedelta64(duration.value, "ns") if duration is not None else None,
        collapse_repeats=collapse_repeats,
    )
    counts = pd.Series([PATH_SEPARATOR.join(path) for path in paths], dtype=object).value_counts()
    table = pd.DataFrame({"path": counts.index.astype(str), "n": counts.to_numpy(dtype=np.int64)})
    table = table.sort_values(["n", "path"], ascending=[False, True], kind="stable").head(top)
    share, low, high = intervals.wilson_interval(
        table["n"].to_numpy(), np.full(len(table), len(paths)), confidence=confidence
    )
    table = table.assign(
        steps=table["path"].str.count(PATH_SEPARATOR) + 1, share=share, ci_low=low, ci_high=high
    )[["path", "steps", "n", "share", "ci_low", "ci_high"]].reset_index(drop=True)
    scope = f"per {group_col}" + (f", within {duration} of the start" if duration else "")
    table.attrs.update(
        n=len(paths),
        n_starts=n_starts,
        method=(
            f"paths from {start!r} to the next {end!r} {scope}, at most {max_steps} events"
            f"{', immediate repeats collapsed' if collapse_repeats else ''}; share of "
            f"{len(paths)} completed paths with Wilson {confidence:.0%} intervals"
        ),
        caveats=(
            f"{n_starts - len(paths)} of {n_starts} starts reached no {end!r} within the limits "
            "and are not counted",
            "shares are of paths, not users: one user can walk many paths",
        ),
    )
    return table


# --- cohorts ------------------------------------------------------------------------------------


def _active_periods(
    data: Any, user_col: str, time_col: str, acquisition: str | None, period: str
) -> pd.DataFrame:
    """Distinct (user, activity time truncated) rows — on the engine when given an Ibis table,
    so only one row per user and period leaves the database."""
    if isinstance(data, ibis.Table):
        problems = missing_columns(data.columns, (user_col, time_col))
        if acquisition is not None:
            problems += missing_columns(data.columns, (acquisition,))
        if problems:
            raise Invalid(problems)
        unit = _ENGINE_TRUNCATION[period]
        columns = {"user": data[user_col], "time": data[time_col].cast("timestamp").truncate(unit)}
        if acquisition is not None:
            columns["acquired"] = data[acquisition].cast("timestamp").truncate(unit)
        return data.select(**columns).distinct().to_pandas()
    frame = as_frame(data, "events_or_orders")
    problems = missing_columns(frame.columns, (user_col, time_col))
    if acquisition is not None:
        problems += missing_columns(frame.columns, (acquisition,))
    if problems:
        raise Invalid(problems)
    result = pd.DataFrame({"user": frame[user_col].to_numpy(), "time": frame[time_col].to_numpy()})
    if acquisition is not None:
        result["acquired"] = frame[acquisition].to_numpy()
    return result


def _ordinals(times: pd.Series, period: str) -> np.ndarray:
    """Period numbers (consecutive integers) of timestamps."""
    return np.asarray(pd.PeriodIndex(times, freq=PERIODS[period]).asi8, dtype=np.int64)


def cohort_retention(
    events_or_orders: Any,
    *,
    user_col: str = "customer_id",
    time_col: str = "occurred_at",
    period: str = "month",
    acquisition: str | pd.DataFrame | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Share of each acquisition cohort active in each period since acquisition.

    A user's cohort is the period of their first activity, or of ``acquisition``: a column of
    the events holding each user's acquisition time (the earliest value per user counts), or a
    frame of ``user_col`` and one time column. Activity before acquisition is left out. Every
    cohort gets a row for each period from 0 to the last period in the data, 0 users included.

    Returns ``cohort`` (first day of the period), ``period_index``, ``cohort_size``, ``n``
    (active users), ``retention`` with Wilson ``ci_low``/``ci_high``; ``attrs`` hold ``n``
    (users), ``method`` and ``caveats``. ``retention_triangle`` pivots it.

    >>> log = pd.DataFrame({"customer_id": ["a", "a", "b", "b", "c"],
    ...     "occurred_at": pd.to_datetime(["2024-01-05", "2024-02-01", "2024-01-20",
    ...         "2024-03-03", "2024-02-11"])})
    >>> table = cohort_retention(log)
    >>> table["n"].tolist()[:3], table["retention"].tolist()[:3]
    ([2, 1, 1], [1.0, 0.5, 0.5])
    """
    if period not in PERIODS:
        raise Invalid(Problem("period", period, f"is not one of: {', '.join(PERIODS)}"))
    if not 0 < confidence < 1:
        raise Invalid(Problem("confidence", confidence, "is not between 0 and 1"))
    engine_side = isinstance(events_or_orders, ibis.Table)
    by_column = acquisition if isinstance(acquisition, str) else None
    raw = _active_periods(events_or_orders, user_col, time_col, by_column, period)
    if raw.empty:
        raise Invalid(Problem("events_or_orders", 0, "has no rows"))
    active_ordinal = _ordinals(event_times(raw["time"], time_col), period)
    active = pd.DataFrame({"user": raw["user"].to_numpy(), "ordinal": active_ordinal})
    first = active.groupby("user")["ordinal"].min()
    caveats = []
    if isinstance(acquisition, pd.DataFrame):
        others = [c for c in acquisition.columns if c != user_col]
        if user_col not in acquisition.columns or len(others) != 1:
            raise Invalid(
                Problem(
                    "acquisition",
                    list(acquisition.columns),
                    f"must have {user_col!r} and one time column",
                )
            )
        given = (
            pd.Series(
                _ordinals(event_times(acquisition[others[0]], others[0]), period),
                index=acquisition[user_col].to_numpy(),
            )
            .groupby(level=0)
            .min()
        )
        missing = first.index.difference(given.index)
        if len(missing):
            caveats.append(f"{len(missing)} users without an acquisition time use first activity")
        cohort = given.reindex(first.index).fillna(first).astype("int64")
    elif by_column is not None:
        acquired = _ordinals(event_times(raw["acquired"], by_column), period)
        cohort = pd.Series(acquired, index=active.index).groupby(active["user"]).min()
    else:
        cohort = first
    active["cohort"] = active["user"].map(cohort).to_numpy(dtype=np.int64)
    active["period_index"] = active["ordinal"] - active["cohort"]
    before = int((active["period_index"] < 0).sum())
    if before:
        caveats.append(f"{before} user-periods before acquisition were left out")
    active = active[active["period_index"] >= 0].drop_duplicates(["user", "ordinal"])
    last = int(active_ordinal.max())
    table = _retention_rows(active, cohort, last, confidence)
    freq = PERIODS[period]
    table.insert(
        0,
        "cohort",
        pd.PeriodIndex.from_ordinals(  # type: ignore[attr-defined]  # pandas ≥ 2.2, not in stubs
            table.pop("cohort_ordinal").to_numpy(), freq=freq
        )
        .to_timestamp(how="start")
        .to_numpy(),
    )
    caveats += [
        "the latest periods of each cohort may be partial (the data ends mid-period)",
        "active means any event or order in the period; n is users, not events",
    ]
    basis = "first activity" if acquisition is None else "the given acquisition time"
    table.attrs.update(
        n=int(cohort.size),
        method=(
            f"{period}ly cohorts by {basis}; "
            f"retention = active users / cohort size with Wilson {confidence:.0%} intervals; "
            f"distinct user-periods {'on the engine (Ibis)' if engine_side else 'in pandas'}"
        ),
        caveats=tuple(caveats),
    )
    return table


def _retention_rows(
    active: pd.DataFrame, cohort: pd.Series, last: int, confidence: float
) -> pd.DataFrame:
    """One row per cohort and period 0…(last − cohort), with counts, shares and intervals."""
    sizes = cohort.value_counts().sort_index()
    counts = active.groupby(["cohort", "period_index"])["user"].nunique()
    rows = [(int(c), k) for c in sizes.index for k in range(int(last - c) + 1)]
    index = pd.MultiIndex.from_tuples(rows, names=["cohort", "period_index"])
    n = counts.reindex(index, fill_value=0).to_numpy(dtype=np.int64)
    size = sizes.reindex(index.get_level_values("cohort")).to_numpy(dtype=np.int64)
    retention, low, high = intervals.wilson_interval(n, size, confidence=confidence)
    return pd.DataFrame(
        {
            "cohort_ordinal": index.get_level_values("cohort").to_numpy(dtype=np.int64),
            "period_index": index.get_level_values("period_index").to_numpy(dtype=np.int64),
            "cohort_size": size,
            "n": n,
            "retention": retention,
            "ci_low": low,
            "ci_high": high,
        }
    )


def retention_triangle(table: pd.DataFrame, *, value: str = "retention") -> pd.DataFrame:
    """The long ``cohort_retention`` table as a triangle: cohorts down, periods since across.

    >>> log = pd.DataFrame({"customer_id": ["a", "a", "b"],
    ...     "occurred_at": pd.to_datetime(["2024-01-05", "2024-02-01", "2024-02-03"])})
    >>> retention_triangle(cohort_retention(log)).to_numpy().tolist()
    [[1.0, 1.0], [1.0, nan]]
    """
    needed = ("cohort", "period_index", value)
    problems = [
        Problem(column, None, "is not a column of the retention table")
        for column in needed
        if column not in table.columns
    ]
    if problems:
        raise Invalid(problems)
    triangle = table.pivot(index="cohort", columns="period_index", values=value)
    triangle.columns.name = "period_index"
    return triangle
