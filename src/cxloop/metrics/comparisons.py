"""``cxloop metrics compare`` and ``GET /api/v1/metrics/compare``: a metric's change between two
periods (or two explicit windows) per slice, or each group against the rest, tested with the
functions of ``compare``/``compare_groups`` and Benjamini–Hochberg over the slices.

Which periods, by rule: ``--period month`` compares the last complete month before the clock
(or before ``--until``) that holds answers with the month before it. When the clock is past the
end of the data (an export analysed later), that is the data's last month, which counts as
complete because no more answers can arrive in it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import pandas as pd
from ibis.backends import BaseBackend
from pydantic import BaseModel, ConfigDict, Field

from cxloop import engines
from cxloop.config import Settings
from cxloop.errors import Invalid, Problem
from cxloop.metrics.compare import METHODS, compare_periods
from cxloop.metrics.compare_groups import compare_groups
from cxloop.metrics.filters import Scope, period_label, utc_naive
from cxloop.metrics.schemas import Dimension, Period
from cxloop.metrics.service import DIMENSIONS, check_scope, data_span, run_metric
from cxloop.metrics.targets import PERIOD_FREQ, last_complete_period

COMPARABLE = tuple(METHODS)
"""Metrics with a test between two groups of answers: nps, csat, ces."""


class CompareRow(BaseModel):
    """One slice (and group): both sides' n and score, the difference current − base with its
    interval, p-value, BH q-value and verdict."""

    model_config = ConfigDict(frozen=True)

    slice: dict[str, str | None] = Field(description="Value of each `by` slice dimension.")
    group: str | None = Field(None, description="groups: the group compared with the base.")
    n_base: int
    n_current: int
    score_base: float | None
    score_current: float | None
    difference: float | None = Field(description="current − base, in the metric's units.")
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    q_value: float | None = Field(description="Benjamini–Hochberg over the rows tested.")
    significant: bool = Field(description="q_value below alpha.")
    small_n: bool = Field(description="Either side has fewer than min_n answers.")


class CompareResult(BaseModel):
    """A comparison with what was compared, how, and its rows."""

    model_config = ConfigDict(frozen=True)

    metric: str
    kind: Literal["periods", "groups"]
    base: str = Field(description="The base: a period, a window, `rest` or a baseline group.")
    current: str = Field(description="What is compared with it: a period, a window, or `each`.")
    by: list[Dimension] = Field(description="Slices, each tested on its own.")
    group: Dimension | None = Field(None, description="groups: the dimension compared.")
    period: Period | None = None
    confidence: float
    alpha: float
    min_n: int
    method: str
    caveats: str
    scope: Scope = Field(default_factory=Scope)
    rows: list[CompareRow]


def _number(value: object) -> float | None:
    number = float(value)  # type: ignore[arg-type]
    return None if number != number or number in (float("inf"), float("-inf")) else number


def _rows(frame: pd.DataFrame, by: list[str], group: str | None, min_n: int) -> list[CompareRow]:
    rows = []
    for record in frame.to_dict("records"):
        value = record.get(group) if group else None
        rows.append(
            CompareRow(
                slice={d: None if pd.isna(record[d]) else str(record[d]) for d in by},
                group=None if value is None or pd.isna(value) else str(value),
                n_base=int(record["n_base"]),
                n_current=int(record["n_current"]),
                small_n=min(int(record["n_base"]), int(record["n_current"])) < min_n,
                significant=bool(record["significant"]),
                **{
                    k: _number(record[k])
                    for k in (
                        "score_base",
                        "score_current",
                        "difference",
                        "ci_low",
                        "ci_high",
                        "p_value",
                        "q_value",
                    )
                },
            )
        )
    return rows


def _check(
    metric: str,
    by: Sequence[str],
    period: str | None,
    scope: Scope,
    base_scope: Scope | None,
    group_mode: bool,
) -> None:
    problems = []
    if metric not in COMPARABLE:
        problems.append(Problem("metric", metric, f"is not one of: {', '.join(COMPARABLE)}"))
    problems += [
        Problem("by", d, f"is not one of: {', '.join(DIMENSIONS)}")
        for d in by
        if d not in DIMENSIONS
    ]
    if period is not None and period not in Period.__members__:
        problems.append(Problem("period", period, f"is not one of: {', '.join(Period)}"))
    if period is not None and base_scope is not None:
        problems.append(Problem("period", period, "picks both periods: give it or base-since"))
    if period is not None and scope.since is not None:
        problems.append(
            Problem("since", scope.since.isoformat(), "cannot go with period (use until)")
        )
    if group_mode and not by:
        problems.append(
            Problem("by", [], "is needed: give period or base-since/base-until to compare "
                    "periods, or by DIM to compare each group of DIM with the rest")
        )  # fmt: skip
    if problems:
        raise Invalid(problems)


@dataclass(frozen=True)
class _Ask:
    """What every kind of comparison shares."""

    metric: str
    by: list[str]
    scope: Scope
    min_n: int
    confidence: float
    alpha: float

    def run(self, backend: BaseBackend, scope: Scope, **options: object) -> pd.DataFrame:
        return run_metric(
            backend,
            self.metric,
            scope=scope,
            min_n=self.min_n,
            confidence=self.confidence,
            **{"by": self.by, **options},  # type: ignore[arg-type]
        )

    def result(
        self,
        kind: Literal["periods", "groups"],
        table: pd.DataFrame,
        *,
        base: str,
        current: str,
        scope: Scope,
        slices: list[str] | None = None,
        group: str | None = None,
        period: str | None = None,
    ) -> CompareResult:
        slices = self.by if slices is None else slices
        caveats = (
            "q-values adjust for every row tested here (Benjamini–Hochberg); a row with no "
            "answers on one side is shown but not tested."
        )
        if kind == "groups":
            caveats += " Groups differ in more than this dimension: a difference is not a cause."
        return CompareResult(
            metric=self.metric,
            kind=kind,
            base=base,
            current=current,
            by=[Dimension(d) for d in slices],
            group=Dimension(group) if group else None,
            period=Period(period) if period else None,
            confidence=self.confidence,
            alpha=self.alpha,
            min_n=self.min_n,
            method=METHODS[self.metric],
            caveats=caveats,
            scope=scope,
            rows=_rows(table, slices, group, self.min_n),
        )


def compare(
    *,
    settings: Settings,
    metric: str,
    by: Sequence[str] = (),
    period: str | None = None,
    baseline: str | None = None,
    scope: Scope | None = None,
    base_scope: Scope | None = None,
    min_n: int = 30,
    confidence: float = 0.95,
    alpha: float = 0.05,
    now: dt.datetime | None = None,
) -> CompareResult:
    """Period over period (``period``, or ``base_scope``'s window against ``scope``'s) per
    slice of ``by``; without either, groups: each value of the last ``by`` against the rest of
    its slice (or against the group ``baseline``). ``scope``'s where holds on both sides."""
    scope = scope or Scope()
    group_mode = period is None and base_scope is None
    _check(metric, by, period, scope, base_scope, group_mode)
    ask = _Ask(metric, list(by), scope, min_n, confidence, alpha)
    backend = engines.analytics_backend(settings)
    try:
        check_scope(backend, scope)
        if group_mode:
            return _groups(backend, ask, baseline)
        if period is not None:
            end = scope.until or utc_naive(now or dt.datetime.now(dt.UTC))
            return _periods(backend, ask, period, end)
        assert base_scope is not None
        return _windows(backend, ask, base_scope)
    finally:
        backend.disconnect()


def _groups(backend: BaseBackend, ask: _Ask, baseline: str | None) -> CompareResult:
    *slices, group = ask.by
    frame = ask.run(backend, ask.scope)
    if frame.empty:
        raise Invalid(f"has no answers in {ask.scope.describe()}", "metric", ask.metric)
    table = compare_groups(
        frame, metric=ask.metric, column=group, baseline=baseline, by=slices,
        confidence=ask.confidence, alpha=ask.alpha,
    )  # fmt: skip
    base = "rest" if baseline is None else f"{group}={baseline}"
    return ask.result(
        "groups", table, base=base, current=group, scope=ask.scope, slices=slices, group=group
    )


def current_period(period: str, end: dt.datetime, data_end: dt.datetime) -> pd.Timestamp:
    """The period compared as current: the last one complete at ``end`` (the clock or until),
    or, when the data ends before it starts, the one holding the data's last answer.

    >>> current_period("month", dt.datetime(2026, 12, 6), dt.datetime(2026, 10, 31, 15))
    Timestamp('2026-10-01 00:00:00')
    >>> current_period("month", dt.datetime(2026, 12, 6), dt.datetime(2026, 12, 5))
    Timestamp('2026-11-01 00:00:00')
    """
    complete = last_complete_period(Period(period), pd.Timestamp(end))
    if pd.Timestamp(data_end) < complete:
        return pd.Timestamp(data_end).to_period(PERIOD_FREQ[Period(period)]).start_time
    return complete


def _periods(backend: BaseBackend, ask: _Ask, period: str, end: dt.datetime) -> CompareResult:
    span = data_span(backend, Scope(until=end, where=ask.scope.where), answered=ask.metric)
    if span is None:
        raise Invalid(f"has no answers in {ask.scope.describe()}", "until", str(end))
    freq = PERIOD_FREQ[Period(period)]
    current = pd.Timestamp(current_period(period, end, span[1].to_pydatetime()))
    base = (current.to_period(freq) - 1).start_time
    after = (current.to_period(freq) + 1).start_time
    window = Scope(since=base.to_pydatetime(), until=after.to_pydatetime(), where=ask.scope.where)
    frame = ask.run(backend, window, period=period)
    labels = {"base": period_label(base, period), "current": period_label(current, period)}
    present = {pd.Timestamp(p) for p in frame["period"]} if not frame.empty else set()
    missing = [
        Problem(side, labels[side], f"has no {ask.metric} answers ({ask.scope.describe()})")
        for side, start in (("base", base), ("current", current))
        if start not in present
    ]
    if missing:
        raise Invalid(missing)
    table = compare_periods(
        frame, metric=ask.metric, base=base, current=current, by=ask.by,
        confidence=ask.confidence, alpha=ask.alpha,
    )  # fmt: skip
    return ask.result(
        "periods", table, base=labels["base"], current=labels["current"], scope=window,
        period=period,
    )  # fmt: skip


def _windows(backend: BaseBackend, ask: _Ask, base_scope: Scope) -> CompareResult:
    base = Scope(since=base_scope.since, until=base_scope.until, where=ask.scope.where)
    sides = []
    for label, window in (("base", base), ("current", ask.scope)):
        frame = ask.run(backend, window)
        if frame.empty:
            raise Invalid(f"has no {ask.metric} answers", label, window.describe())
        sides.append(frame.assign(period=label))
    table = compare_periods(
        pd.concat(sides, ignore_index=True), metric=ask.metric, base="base", current="current",
        by=ask.by, confidence=ask.confidence, alpha=ask.alpha,
    )  # fmt: skip
    return ask.result(
        "periods", table, base=base.window(), current=ask.scope.window(), scope=ask.scope
    )
