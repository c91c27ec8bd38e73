"""The journey map: journey stages × touchpoints, each cell with the chosen metric (n and
interval), its volume and its most frequent negative aspects. One function serves
``GET /api/v1/dashboard/journey`` and the ``/journey`` page.

Four queries whatever the grid's size, on one Ibis connection (the analytics snapshot when
``CXLOOP_ANALYTICS_SNAPSHOT_DIR`` holds a whole one, else the store; ``freshness`` says which):
the metric by stage × touchpoint and over the whole view (``metrics.service.run_metric``: the
numbers ``cxloop metrics`` gives), the volume and first answer of every cell, and the negative
topic mentions of every cell (the stored ``feedback_topic`` rows, whose ``sentiment`` is the
majority of the topic's clauses).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from typing import Any

import ibis
import pandas as pd
from ibis.backends import BaseBackend
from sqlalchemy.orm import Session

from cxloop import engines
from cxloop.config import Settings
from cxloop.dashboards.freshness import freshness
from cxloop.dashboards.journey_order import order_stages
from cxloop.dashboards.schemas_journey import (
    JOURNEY_METRICS,
    JourneyAspect,
    JourneyCell,
    JourneyMetric,
    JourneyOverall,
    JourneyResult,
)
from cxloop.errors import Invalid
from cxloop.feedback.enrichment import active_taxonomy
from cxloop.metrics import service as metrics_service
from cxloop.metrics.filters import Scope
from cxloop.metrics.schemas import CAVEATS, METHODS, SCALES, Dimension, MetricName, to_result

BY = ("journey_stage", "touchpoint")
TOP_ASPECTS = 3
Cell = tuple[str | None, str | None]


def check_metric(metric: str) -> JourneyMetric:
    """``metric`` if the journey map can show it; ``Invalid`` naming the choices otherwise."""
    for known in JOURNEY_METRICS:
        if metric == known:
            return known
    raise Invalid(f"is not one of: {', '.join(JOURNEY_METRICS)}", "metric", metric)


def journey_map(
    *,
    session: Session,
    settings: Settings,
    metric: str = "nps",
    scope: Scope | None = None,
    min_n: int = 30,
    confidence: float = 0.95,
) -> JourneyResult:
    """The journey map of the feedback in ``scope``: a cell for every stage × touchpoint that
    holds feedback (no stage or touchpoint given is its own row or column, ``None``)."""
    chosen = check_metric(metric)
    scope = scope or Scope()
    backend = engines.analytics_backend(settings)  # the snapshot when one is whole
    try:
        metrics_service.check_scope(backend, scope)
        options: dict[str, Any] = {"scope": scope, "min_n": min_n, "confidence": confidence}
        by_cell = metrics_service.run_metric(backend, chosen, by=BY, **options)
        whole = metrics_service.run_metric(backend, chosen, **options)
        feedback = metrics_service.scoped_feedback(backend, scope)  # built once for both
        volumes = _volumes(feedback)
        negatives = _negative_aspects(backend, feedback)
    finally:
        backend.disconnect()
    names = _topic_names(session)
    scores = to_result(
        by_cell,
        metric=MetricName(chosen),
        by=[Dimension(d) for d in BY],
        period=None,
        confidence=confidence,
        min_n=min_n,
        scope=scope,
    )
    metric_rows = {(r.slice["journey_stage"], r.slice["touchpoint"]): r for r in scores.rows}
    stages, stage_order = order_stages(_first_seen(volumes))
    touchpoints = _touchpoint_order(volumes)
    cells = []
    for stage in stages:
        for touchpoint in touchpoints:
            volume = volumes.get((stage, touchpoint))
            if volume is None:
                continue
            row = metric_rows.get((stage, touchpoint))
            aspects = [
                JourneyAspect(
                    topic=topic,
                    name_zh=_name(names, topic, 0),
                    name_en=_name(names, topic, 1),
                    negative=count,
                    share=count / volume[0],
                )
                for topic, count in negatives.get((stage, touchpoint), [])
            ]
            cells.append(
                JourneyCell(
                    journey_stage=stage,
                    touchpoint=touchpoint,
                    volume=volume[0],
                    n=row.n if row else 0,
                    score=row.score if row else None,
                    ci_low=row.ci_low if row else None,
                    ci_high=row.ci_high if row else None,
                    small_n=row.small_n if row else False,
                    aspects=aspects,
                )
            )
    return JourneyResult(
        metric=chosen,
        scale=SCALES[MetricName(chosen)],
        method=METHODS[MetricName(chosen)],
        caveats=CAVEATS[MetricName(chosen)]
        + " Aspects: feedback whose mentions of a topic are mostly negative, as the text "
        "engine read them.",
        confidence=confidence,
        min_n=min_n,
        scope=scope,
        volume=sum(v for v, _ in volumes.values()),
        overall=_overall(whole, min_n),
        stages=stages,
        touchpoints=touchpoints,
        stage_order=stage_order,
        has_stages=any(s is not None for s in stages),
        has_touchpoints=any(t is not None for t in touchpoints),
        cells=cells,
        freshness=freshness(settings),
    )


def _topic_names(session: Session) -> dict[str, tuple[str, str]]:
    """Path → (zh, en) name of every topic of the active taxonomy."""
    return {row.path: (row.zh, row.en) for row in active_taxonomy(session=session).describe()}


def _name(names: dict[str, tuple[str, str]], topic: str, lang: int) -> str:
    """A topic's name with its parents' (物流配送 › 速度): a leaf alone (速度) says too little;
    a level the taxonomy no longer names keeps its path segment. Not ``/``: names hold it
    (App/网站)."""
    parts = topic.split("/")
    return " › ".join(
        names.get("/".join(parts[: i + 1]), (part, part))[lang] for i, part in enumerate(parts)
    )


def _text(value: Any) -> str | None:
    """A group key as the result keeps it: NULL (and pandas' NaN/None) is None."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    return str(value)


def _volumes(feedback: ibis.Table) -> dict[Cell, tuple[int, dt.datetime | None]]:
    """Feedback count and first answer of every stage × touchpoint of ``feedback``."""
    grouped = feedback.group_by(list(BY)).aggregate(
        volume=feedback.count(), first=feedback.created_at.min()
    )
    frame = grouped.to_pandas()
    return {
        (_text(r["journey_stage"]), _text(r["touchpoint"])): (
            int(r["volume"]),
            None if pd.isna(r["first"]) else pd.Timestamp(r["first"]).to_pydatetime(),
        )
        for r in frame.to_dict("records")
    }


def _negative_aspects(
    backend: BaseBackend, feedback: ibis.Table
) -> dict[Cell, list[tuple[str, int]]]:
    """The ``TOP_ASPECTS`` topics most often mentioned negatively in each cell of
    ``feedback`` (most first, then by path): one grouped query for the whole grid; the cut
    per cell is made on its small result (cells × topics rows)."""
    topics = backend.table("feedback_topic")
    negative = topics.filter(topics.sentiment == "negative").select(
        _key=topics.feedback_id, topic=topics.topic
    )
    joined = feedback.select("feedback_id", *BY).join(
        negative, feedback.feedback_id == negative._key
    )
    counts = joined.group_by([*BY, "topic"]).aggregate(negative=joined.count()).to_pandas()
    found: dict[Cell, list[tuple[str, int]]] = defaultdict(list)
    for r in counts.to_dict("records"):
        cell = (_text(r["journey_stage"]), _text(r["touchpoint"]))
        found[cell].append((str(r["topic"]), int(r["negative"])))
    return {
        cell: sorted(pairs, key=lambda p: (-p[1], p[0]))[:TOP_ASPECTS]
        for cell, pairs in found.items()
    }


def _first_seen(
    volumes: dict[Cell, tuple[int, dt.datetime | None]],
) -> dict[str | None, dt.datetime | None]:
    first: dict[str | None, dt.datetime | None] = {}
    for (stage, _), (_, seen) in volumes.items():
        known = first.get(stage)
        first[stage] = seen if known is None or (seen is not None and seen < known) else known
    return first


def _touchpoint_order(volumes: dict[Cell, tuple[int, dt.datetime | None]]) -> list[str | None]:
    """Touchpoints by volume (most first, then by name); no touchpoint given last."""
    totals: dict[str | None, int] = defaultdict(int)
    for (_, touchpoint), (volume, _) in volumes.items():
        totals[touchpoint] += volume
    named = sorted((t for t in totals if t is not None), key=lambda t: (-totals[t], t))
    return [*named, *([None] if None in totals else [])]


def _overall(frame: pd.DataFrame, min_n: int) -> JourneyOverall:
    """The one row of the metric over the whole view; n = 0 when nothing answered it."""
    if frame.empty:
        return JourneyOverall(n=0, score=None, ci_low=None, ci_high=None, small_n=False)

    def number(name: str) -> float | None:
        value = float(frame[name].iloc[0])
        return value if math.isfinite(value) else None

    n = int(frame["n"].iloc[0])
    return JourneyOverall(
        n=n,
        score=number("score"),
        ci_low=number("ci_low"),
        ci_high=number("ci_high"),
        small_n=bool(frame["small_n"].iloc[0]),
    )
