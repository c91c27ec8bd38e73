"""The overview (``/`` and ``GET /api/v1/dashboard/overview``): NPS, CSAT, CES and each
experience index as tiles, their trends with intervals, response volume and rate, targets and
open alerts — one computation for the page, the API and the PDF report.

Which periods the tiles show, by rule: the *current* period is the last complete period (of
``period``) before the scope's ``until`` (else the clock) that holds scored answers (NPS, CSAT
or CES) in the scope — the rule of ``cxloop metrics compare --period`` — and the tiles compare
it with the period before it. Where the data end earlier (an export analysed later), the data's
last period counts as complete. Both sides keep the scope's where conditions and window: a
``since`` that cuts off the previous period leaves the tile without a change, said in words.

Speed: one Ibis connection (the analytics snapshot when one is whole, as ``freshness`` says);
one by-period query per metric gives both the trend and the change (``compare.compare_periods``
on the same frame — what ``comparisons.compare`` runs, without its second query);
Benjamini–Hochberg runs once over every change on the page, since a manager reads them
together.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from sqlalchemy.orm import Session

from cxloop import engines
from cxloop.config import Settings
from cxloop.dashboards.alerts import alert_counts, newest_alerts
from cxloop.dashboards.freshness import freshness
from cxloop.dashboards.overview_parts import response_rate, target_rows
from cxloop.dashboards.overview_schemas import (
    OverviewResult,
    Tile,
    Trend,
    TrendPoint,
    VolumePoint,
)
from cxloop.errors import Invalid, Problem
from cxloop.metrics import indices
from cxloop.metrics.compare import METHODS, benjamini_hochberg, compare_periods
from cxloop.metrics.comparisons import current_period
from cxloop.metrics.filters import Scope, period_label, utc_naive
from cxloop.metrics.monitoring import AlertStatus
from cxloop.metrics.schemas import SCALES, MetricName, Period
from cxloop.metrics.scores import METRICS as SCORES
from cxloop.metrics.service import check_scope, scoped_feedback
from cxloop.metrics.targets import PERIOD_FREQ

METRICS = ("nps", "csat", "ces")
LABELS = {"nps": "NPS", "csat": "CSAT", "ces": "CES"}
PERIODS = ("week", "month", "quarter")
INDEX_METHOD = "z-test on the index difference, delta-method standard errors of both periods"
MAX_ALERTS = 20


def _number(value: object) -> float | None:
    if value is None:
        return None
    number = float(value)  # type: ignore[arg-type]
    return number if math.isfinite(number) else None


def _points(frame: pd.DataFrame, period: str) -> list[TrendPoint]:
    return [
        TrendPoint(
            period=pd.Timestamp(row["period"]).date(),
            label=period_label(row["period"], period),
            n=int(row["n"]),
            score=_number(row["score"]),
            ci_low=_number(row["ci_low"]),
            ci_high=_number(row["ci_high"]),
            small_n=bool(row["small_n"]),
        )
        for row in frame.sort_values("period").to_dict("records")
    ]


def _periods(
    scored: list[pd.DataFrame], period: str, scope: Scope, now: dt.datetime
) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """The current and previous period starts (see the module docstring); None without data.
    Only periods holding a scored answer count: feedback without any score (a case's follow-up
    note, a review) after the last survey answer would otherwise make a period of empty tiles
    the current one."""
    answered = [f.loc[f["n"] > 0, "period"] for f in scored if not f.empty]
    answered = [p for p in answered if not p.empty]
    if not answered:
        return None, None
    end = scope.until or utc_naive(now)
    last = pd.Timestamp(max(pd.to_datetime(p).max() for p in answered))
    freq = PERIOD_FREQ[Period(period)]
    current = current_period(period, end, last.to_pydatetime())
    return current, (current.to_period(freq) - 1).start_time


def _row(frame: pd.DataFrame, start: pd.Timestamp | None) -> dict[str, Any] | None:
    if start is None or frame.empty:
        return None
    hit = frame[pd.to_datetime(frame["period"]) == start]
    return None if hit.empty else {str(k): v for k, v in hit.iloc[0].to_dict().items()}


class _Tiles:
    """Collects tiles and their change tests, then adjusts every p-value at once."""

    def __init__(self, labels: tuple[str | None, str | None], min_n: int, scope_words: str):
        self.current_label, self.base_label = labels
        self.min_n = min_n
        self.scope_words = scope_words
        self.pending: list[tuple[dict[str, Any], dict[str, Any] | None]] = []

    def add(
        self,
        base: dict[str, Any],
        current: dict[str, Any] | None,
        change: dict[str, Any] | None,
        no_change: str | None,
    ) -> None:
        tile = dict(base)
        if current is None:
            what = tile["label"]
            tile.update(n=0, score=None, ci_low=None, ci_high=None, small_n=True)
            tile["note"] = (
                f"No {what} answers in {self.current_label} ({self.scope_words})."
                if self.current_label
                else f"No {what} answers in {self.scope_words}."
            )
        else:
            tile.update(
                n=int(current["n"]),
                score=_number(current["score"]),
                ci_low=_number(current["ci_low"]),
                ci_high=_number(current["ci_high"]),
                small_n=bool(current["small_n"]),
                note=no_change,
            )
        self.pending.append((tile, change))

    def tiles(self, alpha: float) -> list[Tile]:
        p_values = [
            np.nan if c is None or c["p_value"] is None else float(c["p_value"])
            for _, c in self.pending
        ]
        q_values = benjamini_hochberg(p_values) if self.pending else np.array([])
        out = []
        for (tile, change), q in zip(self.pending, q_values, strict=True):
            if change is not None:
                q_value = _number(q)
                change = change | {
                    "q_value": q_value,
                    "significant": q_value is not None and q_value < alpha,
                }
            out.append(Tile.model_validate(tile | {"change": change}))
        return out


def _metric_change(
    frame: pd.DataFrame,
    metric: str,
    base: pd.Timestamp,
    current: pd.Timestamp,
    confidence: float,
    labels: tuple[str, str],
) -> dict[str, Any]:
    """``compare_periods`` of the two periods (one row, the whole scope)."""
    row = compare_periods(
        frame, metric=metric, base=base, current=current, confidence=confidence
    ).iloc[0]
    return {
        "base": labels[0],
        "current": labels[1],
        "n_base": int(row["n_base"]),
        "score_base": _number(row["score_base"]),
        "difference": _number(row["difference"]),
        "ci_low": _number(row["ci_low"]),
        "ci_high": _number(row["ci_high"]),
        "p_value": _number(row["p_value"]),
        "method": METHODS[metric],
    }


def _index_change(
    base: dict[str, Any], current: dict[str, Any], confidence: float, labels: tuple[str, str]
) -> dict[str, Any]:
    """Index difference between two periods (independent answers), its standard error from
    each period's delta-method interval; written here because the index has no count-based
    test in ``metrics.compare``."""
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    sides = []
    for row in (base, current):
        score, low, high = (_number(row[k]) for k in ("score", "ci_low", "ci_high"))
        se = None if score is None or low is None or high is None else (high - low) / (2 * z)
        sides.append((score, se))
    (s0, se0), (s1, se1) = sides
    diff = low = high = p = None
    if s0 is not None and s1 is not None:
        diff = s1 - s0
        if se0 is not None and se1 is not None and (se0 > 0 or se1 > 0):
            se = math.hypot(se0, se1)
            low, high = diff - z * se, diff + z * se
            p = float(2 * stats.norm.sf(abs(diff) / se))
    return {
        "base": labels[0],
        "current": labels[1],
        "n_base": int(base["n"]),
        "score_base": s0,
        "difference": diff,
        "ci_low": low,
        "ci_high": high,
        "p_value": p,
        "method": INDEX_METHOD,
    }


def _check(period: str, confidence: float, alpha: float) -> None:
    problems = []
    if period not in PERIODS:
        problems.append(Problem("period", period, f"is not one of: {', '.join(PERIODS)}"))
    if not 0 < alpha < 1:
        problems.append(Problem("alpha", alpha, "is not between 0 and 1"))
    if not 0 < confidence < 1:
        problems.append(Problem("confidence", confidence, "is not between 0 and 1"))
    if problems:
        raise Invalid(problems)


def overview(
    *,
    session: Session,
    settings: Settings,
    scope: Scope | None = None,
    period: str = "month",
    indices_file: str | Path | None = None,
    min_n: int = 30,
    confidence: float = 0.95,
    alpha: float = 0.05,
    now: dt.datetime | None = None,
    hide_singletons: bool = False,
) -> OverviewResult:
    """The overview of the feedback in ``scope`` (all of it without one), by ``period``.
    ``Invalid`` names a bad period, or a where value matching no stored value. With
    ``hide_singletons`` (viewers, as the metrics API) a score of one answer is withheld when
    the scope names an account or a role: it would be one person's answer."""
    _check(period, confidence, alpha)
    scope = scope or Scope()
    now = now or dt.datetime.now(dt.UTC)
    definitions = indices.load_indices(indices_file) if indices_file else indices.default_indices()
    backend = engines.analytics_backend(settings)  # the snapshot when one is whole
    try:
        check_scope(backend, scope)
        # the one table nps/csat/ces/responses and the indices read (what run_metric builds
        # per call), built once: each build inspects the table's schema again
        table = scoped_feedback(backend, scope)
        options = {"period": period, "min_n": min_n, "confidence": confidence}
        frames = {name: SCORES[name](table, by=[], **options) for name in (*METRICS, "responses")}
        index_frames = {
            name: indices.experience_index(table, definition, **options)  # type: ignore[arg-type]
            for name, definition in definitions.items()
        }
    finally:
        backend.disconnect()
    volume = frames.pop("responses")
    current, base = _periods(list(frames.values()), period, scope, now)
    labels = (
        period_label(current, period) if current is not None else None,
        period_label(base, period) if base is not None else None,
    )
    collector = _Tiles(labels, min_n, scope.describe())
    trends = []
    for name, frame in frames.items():
        trends.append(
            Trend(metric=name, label=LABELS[name], scale=SCALES[MetricName(name)],
                  points=_points(frame, period))
        )  # fmt: skip
        _add_tile(collector, frame, name, "metric", LABELS[name], SCALES[MetricName(name)],
                  (current, base), labels, confidence)  # fmt: skip
    for name, frame in index_frames.items():
        label = definitions[name].label or name
        trends.append(Trend(metric=name, label=label, scale="0…100", points=_points(frame, period)))
        _add_tile(collector, frame, name, "index", label, "0…100", (current, base), labels,
                  confidence)  # fmt: skip
    alerts = newest_alerts(session, AlertStatus.open.value, MAX_ALERTS)
    tiles = collector.tiles(alpha)
    if hide_singletons and {"account", "role"} & set(scope.conditions()):
        tiles, trends = _without_singletons(tiles, trends)
    return OverviewResult(
        scope=scope,
        period=Period(period),
        current=labels[0],
        previous=labels[1],
        confidence=confidence,
        alpha=alpha,
        min_n=min_n,
        empty=volume.empty,
        tiles=tiles,
        trends=trends,
        volume=[
            VolumePoint(period=p.period, label=p.label, n=p.n) for p in _points(volume, period)
        ],
        response_rate=response_rate(session=session, confidence=confidence, min_n=min_n),
        targets=target_rows(session=session, settings=settings, min_n=min_n,
                            confidence=confidence),
        alerts=alerts,
        open_alerts=alert_counts(session)[AlertStatus.open.value],
        notes=_notes(labels, alpha, confidence),
        freshness=freshness(settings),
    )  # fmt: skip


def _add_tile(
    collector: _Tiles,
    frame: pd.DataFrame,
    name: str,
    kind: str,
    label: str,
    scale: str,
    starts: tuple[pd.Timestamp | None, pd.Timestamp | None],
    labels: tuple[str | None, str | None],
    confidence: float,
) -> None:
    current, base = starts
    now_row, base_row = _row(frame, current), _row(frame, base)
    change = None
    no_change = None
    if now_row is not None and base_row is None:
        no_change = (
            f"No {label} answers in {labels[1]}, the period before: no change to show."
            if labels[1]
            else None
        )
    elif now_row is not None and base_row is not None and base is not None and current:
        pair = (str(labels[1]), str(labels[0]))
        if kind == "metric":
            change = _metric_change(frame, name, base, current, confidence, pair)
        else:
            change = _index_change(base_row, now_row, confidence, pair)
    if kind == "index" and now_row is not None and _number(now_row["score"]) is None:
        parts = ", ".join(str(c).removeprefix("n_") for c in now_row if str(c).startswith("n_"))
        change, no_change = None, f"No {label} in {labels[0]}: it needs answers to each of {parts}."
    tile: dict[str, Any] = {
        "metric": name,
        "kind": kind,
        "label": label,
        "scale": scale,
        "period": labels[0],
    }
    collector.add(tile, now_row, change, no_change)


def _without_singletons(tiles: list[Tile], trends: list[Trend]) -> tuple[list[Tile], list[Trend]]:
    """Tiles and trend points of n = 1 without their score, interval and change; a change
    from a previous period of one answer is withheld too (its ``score_base`` is that answer)."""
    hidden = {"score": None, "ci_low": None, "ci_high": None}
    note = "One answer only: its score is not shown to viewers (it is one person's answer)."
    base_note = (
        "One answer in the period before: the change is not shown to viewers (it would show "
        "one person's answer)."
    )
    kept_tiles = []
    for t in tiles:
        if t.n == 1:
            t = t.model_copy(update={**hidden, "change": None, "note": note})
        elif t.change is not None and t.change.n_base == 1:
            t = t.model_copy(update={"change": None, "note": base_note})
        kept_tiles.append(t)
    kept_trends = [
        t.model_copy(
            update={"points": [p.model_copy(update=hidden) if p.n == 1 else p for p in t.points]}
        )
        for t in trends
    ]
    return kept_tiles, kept_trends


def _notes(labels: tuple[str | None, str | None], alpha: float, confidence: float) -> list[str]:
    notes = [
        "Tiles show the last complete period in the filters (or the data's last period when "
        "the data end earlier) and its change against the period before, both with the same "
        "filters.",
        f"A change is marked significant when its Benjamini–Hochberg q-value over every change "
        f"on this page is below {alpha:g}; intervals are {confidence:.0%}.",
        "Response volume counts feedback of every channel; the response rate counts survey "
        "invitations of every survey, not narrowed by the filters.",
    ]
    if labels[0] is None:
        notes.insert(0, "No feedback in the filters: nothing to show yet.")
    return notes
