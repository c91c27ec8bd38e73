"""Targets per metric and slice, their YAML form, and whether a measured value meets them (pure).

A target says a metric should be ``at_least`` or ``at_most`` a value in a slice (``{}`` is
overall), optionally per period. ``status`` judges one measured value with its interval:

* ``no_data`` — nothing measured (n = 0 or no score);
* ``small_n`` — n below ``min_n``: shown, never judged;
* ``on_target`` — the point estimate meets the target;
* ``not_significant_off`` — the estimate misses the target but its interval still reaches it, so
  the miss may be noise;
* ``off_target`` — the whole interval lies on the wrong side of the target (for a count, which
  is a census without an interval, any miss).

YAML is read with ``yaml.safe_load`` and checked with pydantic; every problem is reported at
once, named by its path (``targets[1].target``), its value and the rule it breaks.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from cxloop.errors import Invalid, Problem
from cxloop.metrics.schemas import Dimension, MetricName, Period

RANGES: dict[MetricName, tuple[float, float]] = {
    MetricName.nps: (-100.0, 100.0),
    MetricName.csat: (0.0, 1.0),
    MetricName.ces: (1.0, 7.0),
    MetricName.responses: (0.0, math.inf),
    MetricName.sentiment: (-1.0, 1.0),
}
"""The scale each metric's score lives on; a target outside it can never be judged."""
DIMENSIONS = frozenset(d.value for d in Dimension)


class TargetDirection(StrEnum):
    at_least = "at_least"
    at_most = "at_most"


class TargetStatus(StrEnum):
    on_target = "on_target"
    off_target = "off_target"
    not_significant_off = "not_significant_off"
    no_data = "no_data"
    small_n = "small_n"


def canonical_slice(slice_: Mapping[str, str]) -> str:
    """The slice as JSON with sorted keys and no spaces: one text per slice, for unique keys."""
    return json.dumps(dict(sorted(slice_.items())), ensure_ascii=False, separators=(",", ":"))


class TargetSpec(BaseModel):
    """One target as written in YAML or sent to the API."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    metric: MetricName
    slice: dict[str, str] = Field(
        default_factory=dict, description="Dimension → value; empty for the overall metric."
    )
    period: Period | None = Field(
        None, description="Judge the last complete period of this size; null: all data."
    )
    target: float
    direction: TargetDirection = TargetDirection.at_least
    label: str | None = Field(None, max_length=256)

    @field_validator("slice")
    @classmethod
    def _known_dimensions(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - DIMENSIONS)
        if unknown:
            raise ValueError(
                f"dimension {', '.join(unknown)} is not one of: {', '.join(sorted(DIMENSIONS))}"
            )
        if len(canonical_slice(value)) > 512:
            raise ValueError("is longer than 512 characters as JSON")
        return value

    @model_validator(mode="after")
    def _target_on_scale(self) -> TargetSpec:
        if self.metric not in RANGES:
            raise ValueError(
                f"targets on {self.metric.value} are not supported: set them on "
                f"{', '.join(m.value for m in RANGES)}"
            )
        low, high = RANGES[self.metric]
        if not (math.isfinite(self.target) and low <= self.target <= high):
            raise ValueError(f"target {self.target} is outside {self.metric.value}'s {low}…{high}")
        return self

    @property
    def slice_key(self) -> str:
        return canonical_slice(self.slice)


class TargetsFile(BaseModel):
    """The YAML document (and the API body): ``targets: [...]``."""

    model_config = ConfigDict(extra="forbid")

    targets: list[TargetSpec]


def _path(location: tuple[int | str, ...]) -> str:
    """pydantic's ``("targets", 1, "slice")`` as ``targets[1].slice``."""
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def parse_targets(data: Any) -> list[TargetSpec]:
    """Targets from parsed YAML/JSON, or ``Invalid`` naming every problem and duplicate."""
    try:
        specs = TargetsFile.model_validate(data).targets
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            location = tuple(p for p in error["loc"] if p not in ("function-after",))
            reason = error["msg"].removeprefix("Value error, ")
            problems.append(Problem(_path(location) or "targets", error.get("input"), reason))
        raise Invalid(problems) from None
    seen: dict[tuple[str, str], int] = {}
    duplicates = []
    for i, spec in enumerate(specs):
        key = (spec.metric.value, spec.slice_key)
        if key in seen:
            duplicates.append(
                Problem(f"targets[{i}]", spec.slice, f"repeats targets[{seen[key]}] ({key[0]})")
            )
        seen.setdefault(key, i)
    if duplicates:
        raise Invalid(duplicates)
    return specs


def load_targets_yaml(text: str) -> list[TargetSpec]:
    """Targets from a YAML document; a YAML syntax error is one problem naming its line."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "yaml"
        raise Invalid([Problem(where, None, f"is not valid YAML: {exc}")]) from None
    return parse_targets(data if data is not None else {})


def dump_targets_yaml(specs: list[TargetSpec]) -> str:
    """Targets as YAML that ``load_targets_yaml`` reads back to the same specs."""
    return yaml.safe_dump(
        TargetsFile(targets=specs).model_dump(mode="json", exclude_none=True),
        allow_unicode=True,
        sort_keys=False,
    )


class TargetStatusRow(BaseModel):
    """One target judged on one measured value."""

    model_config = ConfigDict(frozen=True)

    target_id: int | None = None
    metric: MetricName
    slice: dict[str, str]
    period: Period | None
    period_start: dt.date | None = Field(
        None, description="First day of the judged period (null: all data)."
    )
    period_label: str | None = Field(None, description="The judged period: 2026-03, 2026-Q1…")
    note: str | None = Field(
        None, description="Which period is judged and why, e.g. the last complete in the data."
    )
    target: float
    direction: TargetDirection
    label: str | None
    n: int
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    status: TargetStatus
    reason: str


def _finite(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def judge(
    spec: TargetSpec,
    *,
    n: int,
    estimate: float | None,
    ci_low: float | None,
    ci_high: float | None,
    min_n: int,
) -> tuple[TargetStatus, str]:
    """The status of one measured value against ``spec`` and a sentence saying why."""
    estimate, ci_low, ci_high = _finite(estimate), _finite(ci_low), _finite(ci_high)
    name = spec.label or spec.metric.value
    goal = f"{'≥' if spec.direction is TargetDirection.at_least else '≤'} {spec.target:g}"
    if n == 0 or estimate is None:
        return TargetStatus.no_data, f"{name}: no responses to judge against {goal}"
    if n < min_n:
        return TargetStatus.small_n, f"{name}: {estimate:.3g} on only n={n} (< {min_n})"
    at_least = spec.direction is TargetDirection.at_least
    met = estimate >= spec.target if at_least else estimate <= spec.target
    shown = f"{name} {estimate:.3g} (n={n})"
    if met:
        return TargetStatus.on_target, f"{shown} meets {goal}"
    reach = ci_high if at_least else ci_low
    if reach is not None and (reach >= spec.target if at_least else reach <= spec.target):
        interval = f"{ci_low:.3g}…{ci_high:.3g}"
        return (
            TargetStatus.not_significant_off,
            f"{shown} misses {goal}, but its interval {interval} still reaches it",
        )
    return TargetStatus.off_target, f"{shown} misses {goal}" + (
        f"; interval {ci_low:.3g}…{ci_high:.3g}" if ci_low is not None else ""
    )


def current_row(
    frame: pd.DataFrame, spec: TargetSpec, *, start: pd.Timestamp | None
) -> dict[Any, Any] | None:
    """The row of a metric frame (``scores`` columns, sliced by the spec's dimensions) that the
    target is judged on: the spec's slice and, with a period, the one starting at ``start``
    (see ``judged_period``). None when that slice or period has no responses."""
    rows = frame
    for dimension, value in spec.slice.items():
        rows = rows[rows[dimension].astype("object") == value]
    if spec.period is not None and start is not None:
        rows = rows[rows["period"] == start]
    return None if rows.empty else rows.iloc[0].to_dict()


PERIOD_FREQ = {Period.day: "D", Period.week: "W-SUN", Period.month: "M", Period.quarter: "Q-DEC"}
PERIOD_WORDS = {
    Period.day: "day",
    Period.week: "week",
    Period.month: "month",
    Period.quarter: "quarter",
}


def last_complete_period(period: Period, as_of: pd.Timestamp) -> pd.Timestamp:
    """First instant (UTC, naive) of the last period that ended on or before ``as_of``."""
    current = pd.Timestamp(as_of).to_period(PERIOD_FREQ[period])
    return (current - 1).start_time.as_unit("us")


def period_label(period: Period, start: pd.Timestamp) -> str:
    """``2026-03``, ``2026-Q1``, ``week of 2026-03-09`` or ``2026-03-09``."""
    if period is Period.month:
        return f"{start:%Y-%m}"
    if period is Period.quarter:
        return f"{start.year}-Q{start.quarter}"
    if period is Period.week:
        return f"week of {start:%Y-%m-%d}"
    return f"{start:%Y-%m-%d}"


@dataclass(frozen=True)
class JudgedPeriod:
    start: pd.Timestamp
    label: str
    note: str


def judged_period(
    period: Period, moment: dt.datetime, data_end: dt.datetime | None, *, explicit: bool
) -> JudgedPeriod:
    """The period a target is judged on, and a sentence saying why.

    The last complete period before ``moment``; but when the as-of date was not given
    (``explicit`` false) and the data end in an earlier period, that period — the last one
    of the data, complete on the clock — so a store last fed in March is judged on March, not
    on an empty month after it. The note names the latest response, so a period the data
    cover only in part is visible.

    >>> import datetime as dt
    >>> judged_period(Period.month, dt.datetime(2026, 12, 6), dt.datetime(2026, 3, 20, 18),
    ...               explicit=False).note
    'status for 2026-03, the last complete month in the data (latest response 2026-03-20)'
    """
    words = PERIOD_WORDS[period]
    clock = last_complete_period(period, pd.Timestamp(moment))
    if not explicit and data_end is not None:
        data = pd.Timestamp(data_end).to_period(PERIOD_FREQ[period]).start_time.as_unit("us")
        if data < clock:
            label = period_label(period, data)
            note = (
                f"status for {label}, the last complete {words} in the data "
                f"(latest response {data_end:%Y-%m-%d})"
            )
            return JudgedPeriod(data, label, note)
    label = period_label(period, clock)
    return JudgedPeriod(
        clock, label, f"status for {label}, the last complete {words} before {moment:%Y-%m-%d}"
    )


def check_slices(specs: Sequence[TargetSpec], stored: Mapping[str, Sequence[str]]) -> None:
    """``Invalid`` naming every slice value that no stored feedback has, with the closest
    stored values (case-blind match first, then ``difflib``), so a typo is not a target that
    silently judges nothing."""
    problems = []
    for i, spec in enumerate(specs):
        for dimension, value in spec.slice.items():
            known = list(stored.get(dimension, []))
            if value in known:
                continue
            problems.append(
                Problem(f"targets[{i}].slice.{dimension}", value, _unknown(value, known, dimension))
            )
    if problems:
        raise Invalid(problems)


def _unknown(value: str, known: list[str], dimension: str) -> str:
    folded = {k.casefold(): k for k in known}
    close = [folded[value.casefold()]] if value.casefold() in folded else []
    close += [
        folded[f]
        for f in difflib.get_close_matches(value.casefold(), list(folded), n=3, cutoff=0.6)
        if folded[f] not in close
    ]
    if close:
        return f"is not a stored {dimension}; close matches: {', '.join(close[:3])}"
    if not known:
        return f"is not a stored {dimension}: no feedback has a {dimension} yet"
    more = f" … ({len(known)} in all)" if len(known) > 12 else ""
    return f"is not a stored {dimension}; stored: {', '.join(known[:12])}{more}"
