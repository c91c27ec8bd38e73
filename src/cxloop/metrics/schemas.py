"""Shapes of metric results as the API and ``--format json`` give them."""

from __future__ import annotations

import datetime as dt
import math
from enum import StrEnum
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from cxloop.metrics.scores import STANDARD


class MetricName(StrEnum):
    nps = "nps"
    csat = "csat"
    ces = "ces"
    responses = "responses"


class Period(StrEnum):
    day = "day"
    week = "week"
    month = "month"
    quarter = "quarter"


class Dimension(StrEnum):
    """Columns of ``feedback`` a metric may be sliced by (the allowlist of ``by``)."""

    channel = "channel"
    touchpoint = "touchpoint"
    journey_stage = "journey_stage"
    source = "source"
    product = "product"
    language = "language"
    account_id = "account_id"


class MetricRow(BaseModel):
    """One slice: its values, ``n``, the score and its interval (null where undefined)."""

    model_config = ConfigDict(frozen=True)

    slice: dict[str, str | None] = Field(description="Value of each `by` dimension.")
    period: dt.date | None = Field(None, description="First day of the period (UTC).")
    n: int
    score: float | None
    ci_low: float | None
    ci_high: float | None
    small_n: bool = Field(description="n is below min_n: show greyed, with its n.")
    extra: dict[str, float | int | None] = Field(
        description="Metric-specific columns (promoters/passives/detractors, mean, …)."
    )


class MetricResult(BaseModel):
    """A metric by slice, with the arguments that produced it."""

    model_config = ConfigDict(frozen=True)

    metric: MetricName
    by: list[Dimension]
    period: Period | None
    confidence: float
    min_n: int
    scale: str = Field(description="nps: -100…100; csat and share columns: 0…1; ces: 1…7.")
    rows: list[MetricRow]


SCALES = {
    MetricName.nps: "-100…100",
    MetricName.csat: "share 0…1",
    MetricName.ces: "mean 1…7",
    MetricName.responses: "count",
}


def _number(value: Any) -> float | int | None:
    """JSON has no NaN or infinity: an undefined number is null."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    return value.item() if hasattr(value, "item") else value


def to_result(
    frame: pd.DataFrame,
    *,
    metric: MetricName,
    by: list[Dimension],
    period: Period | None,
    confidence: float,
    min_n: int,
) -> MetricResult:
    """The DataFrame a metric function returned, as a ``MetricResult``."""
    extras = [c for c in frame.columns if c not in STANDARD and c not in by and c != "period"]
    rows = []
    for record in frame.to_dict("records"):
        stamp = record.get("period")
        rows.append(
            MetricRow(
                slice={d.value: record[d.value] for d in by},
                period=stamp.date() if period and not pd.isna(stamp) else None,
                n=int(record["n"]),
                score=_number(float(record["score"])),
                ci_low=_number(float(record["ci_low"])),
                ci_high=_number(float(record["ci_high"])),
                small_n=bool(record["small_n"]),
                extra={name: _number(record[name]) for name in extras},
            )
        )
    return MetricResult(
        metric=metric,
        by=by,
        period=period,
        confidence=confidence,
        min_n=min_n,
        scale=SCALES[metric],
        rows=rows,
    )
