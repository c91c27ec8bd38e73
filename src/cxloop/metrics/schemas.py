"""Shapes of metric results as the API and ``--format json`` give them."""

from __future__ import annotations

import datetime as dt
import math
from enum import StrEnum
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from cxloop.metrics.filters import Scope, period_label
from cxloop.metrics.indices import IndexDefinition
from cxloop.metrics.scores import STANDARD


class MetricName(StrEnum):
    nps = "nps"
    csat = "csat"
    ces = "ces"
    responses = "responses"
    sentiment = "sentiment"
    topic_incidence = "topic_incidence"


class TopicLevel(StrEnum):
    """Where ``topic_incidence`` counts: the taxonomy path or its first level."""

    topic = "topic"
    topic_l1 = "topic_l1"


class Period(StrEnum):
    day = "day"
    week = "week"
    month = "month"
    quarter = "quarter"


class Dimension(StrEnum):
    """What a metric may be sliced by (the allowlist of ``by``): columns of ``feedback``, and
    ``segment``/``region`` (of the customer, else the account) and ``role`` (of the contact)."""

    channel = "channel"
    touchpoint = "touchpoint"
    journey_stage = "journey_stage"
    source = "source"
    product = "product"
    language = "language"
    account_id = "account_id"
    segment = "segment"
    region = "region"
    role = "role"


class MetricRow(BaseModel):
    """One slice: its values, ``n``, the score and its interval (null where undefined)."""

    model_config = ConfigDict(frozen=True)

    slice: dict[str, str | None] = Field(
        description="Value of each `by` dimension (and the topic, for topic_incidence)."
    )
    period: dt.date | None = Field(None, description="First day of the period (UTC).")
    label: str | None = Field(
        None, description="The period's name: 2025-10-31, 2025-W44, 2025-10 or 2025-Q4."
    )
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
    level: TopicLevel | None = Field(None, description="topic_incidence only.")
    confidence: float
    min_n: int
    scale: str = Field(description="nps: -100…100; csat and share columns: 0…1; ces: 1…7.")
    method: str = Field(description="How the score and its interval are computed.")
    caveats: str = Field(description="What the numbers do not say.")
    suppressed: int = Field(0, description="Person-level slices of n = 1 left out (viewers).")
    scope: Scope = Field(default_factory=Scope, description="The window and where conditions.")
    rows: list[MetricRow]


class IndexResult(BaseModel):
    """An experience index by slice, with its definition and the arguments that produced it."""

    model_config = ConfigDict(frozen=True)

    name: str
    definition: IndexDefinition
    by: list[Dimension]
    period: Period | None
    confidence: float
    min_n: int
    scale: str = "0…100"
    method: str
    caveats: str
    suppressed: int = 0
    scope: Scope = Field(default_factory=Scope, description="The window and where conditions.")
    rows: list[MetricRow]


SCALES = {
    MetricName.nps: "-100…100",
    MetricName.csat: "share 0…1",
    MetricName.ces: "mean 1…7",
    MetricName.responses: "count",
    MetricName.sentiment: "mean -1…1",
    MetricName.topic_incidence: "share 0…1",
}

METHODS = {
    MetricName.nps: "% promoters (9-10) minus % detractors (0-6); Rocks (2016) adjusted-Wald "
    "interval.",
    MetricName.csat: "share answering 4-5 of 1-5; Wilson interval.",
    MetricName.ces: "mean answer on 1-7; Student-t interval clipped to 1-7.",
    MetricName.responses: "count of responses; a census, no interval.",
    MetricName.sentiment: "mean sentiment_score (-1…1) of enriched feedback with text, summed "
    "in units of 1/10,000; Student-t interval clipped to -1…1.",
    MetricName.topic_incidence: "share of enriched feedback with text mentioning the topic; "
    "Wilson interval. net_sentiment = (positive - negative mentions) / mentions, adjusted-Wald "
    "interval.",
}
CAVEATS = {
    MetricName.nps: "n counts responses with an NPS answer only.",
    MetricName.csat: "n counts responses with a CSAT answer only.",
    MetricName.ces: "n counts responses with a CES answer only; no interval below n = 2.",
    MetricName.responses: "counts what was imported, not the audience asked.",
    MetricName.sentiment: "denominator is enriched feedback with text in the slice (not yet "
    "enriched or text-free feedback is left out); scores come from the text model and carry "
    "its errors.",
    MetricName.topic_incidence: "denominator is enriched feedback with text in the slice; "
    "topics come from the taxonomy and the text model; at topic_l1 two sub-topics of one "
    "feedback count as two mentions for net sentiment.",
}
PROFILE_CAVEAT = (
    " segment/region: the customer's value, else the account's; role: the contact's; "
    "feedback linked to neither is in the null slice."
)
INDEX_METHOD = (
    "weighted sum of component scores normalised to 0…1 (weights divided by their sum), "
    "×100; delta-method interval with the covariances between components estimated from "
    "responses answering both."
)
INDEX_CAVEATS = (
    "components use Wald variances: too narrow at small n or near a scale end; a slice "
    "missing a component has no index (not re-weighted)."
)


def _number(value: Any) -> float | int | None:
    """JSON has no NaN or infinity: an undefined number is null."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    return value.item() if hasattr(value, "item") else value


def _rows(frame: pd.DataFrame, keys: list[str], period: Period | None) -> list[MetricRow]:
    extras = [c for c in frame.columns if c not in STANDARD and c not in keys and c != "period"]
    rows = []
    for record in frame.to_dict("records"):
        stamp = record.get("period")
        rows.append(
            MetricRow(
                slice={key: record[key] for key in keys},
                period=stamp.date() if period and not pd.isna(stamp) else None,
                label=period_label(stamp, period.value) if period else None,
                n=int(record["n"]),
                score=_number(float(record["score"])),
                ci_low=_number(float(record["ci_low"])),
                ci_high=_number(float(record["ci_high"])),
                small_n=bool(record["small_n"]),
                extra={name: _number(record[name]) for name in extras},
            )
        )
    return rows


def _caveats(text: str, by: list[Dimension]) -> str:
    profile = {Dimension.segment, Dimension.region, Dimension.role}
    return text + (PROFILE_CAVEAT if profile & set(by) else "")


def to_result(
    frame: pd.DataFrame,
    *,
    metric: MetricName,
    by: list[Dimension],
    period: Period | None,
    confidence: float,
    min_n: int,
    level: TopicLevel | None = None,
    suppressed: int = 0,
    scope: Scope | None = None,
) -> MetricResult:
    """The DataFrame a metric function returned, as a ``MetricResult``."""
    keys = [d.value for d in by] + ([level.value] if level else [])
    return MetricResult(
        metric=metric,
        by=by,
        period=period,
        level=level,
        confidence=confidence,
        min_n=min_n,
        scale=SCALES[metric],
        method=METHODS[metric],
        caveats=_caveats(CAVEATS[metric], by),
        suppressed=suppressed,
        scope=scope or Scope(),
        rows=_rows(frame, keys, period),
    )


def index_result(
    frame: pd.DataFrame,
    *,
    name: str,
    definition: IndexDefinition,
    by: list[Dimension],
    period: Period | None,
    confidence: float,
    min_n: int,
    suppressed: int = 0,
    scope: Scope | None = None,
) -> IndexResult:
    """The DataFrame ``experience_index`` returned, as an ``IndexResult``."""
    return IndexResult(
        name=name,
        definition=definition,
        by=by,
        period=period,
        confidence=confidence,
        min_n=min_n,
        method=INDEX_METHOD,
        caveats=_caveats(INDEX_CAVEATS, by),
        suppressed=suppressed,
        scope=scope or Scope(),
        rows=_rows(frame, [d.value for d in by], period),
    )
