"""Metrics on the store: check the request, open an Ibis connection, run the pure function."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from cxloop import engines
from cxloop.config import Settings
from cxloop.errors import Invalid, Problem
from cxloop.metrics.schemas import Dimension, MetricName, MetricResult, Period, to_result
from cxloop.metrics.scores import METRICS
from cxloop.privacy.masking import PII_FIELDS

DIMENSIONS = tuple(d.value for d in Dimension)


def _parse(
    name: str, by: Sequence[str], period: str | None
) -> tuple[MetricName, list[Dimension], Period | None]:
    """The request as enums, or ``Invalid`` naming every unknown metric, dimension or period."""
    problems = []
    if name not in MetricName.__members__:
        problems.append(Problem("name", name, f"is not one of: {', '.join(MetricName)}"))
    problems += [
        Problem("by", d, f"is not one of: {', '.join(DIMENSIONS)}")
        for d in by
        if d not in DIMENSIONS
    ]
    if period is not None and period not in Period.__members__:
        problems.append(Problem("period", period, f"is not one of: {', '.join(Period)}"))
    if problems:
        raise Invalid(problems)
    return MetricName(name), [Dimension(d) for d in by], Period(period) if period else None


def compute(
    *,
    settings: Settings,
    name: str,
    by: Sequence[str] = (),
    period: str | None = None,
    min_n: int = 30,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Metric ``name`` over the store's feedback, by allowlisted dimensions and period."""
    metric, dimensions, span = _parse(name, by, period)
    return _compute(settings, metric, dimensions, span, min_n=min_n, confidence=confidence)


def _compute(
    settings: Settings,
    metric: MetricName,
    dimensions: list[Dimension],
    span: Period | None,
    *,
    min_n: int,
    confidence: float,
) -> pd.DataFrame:
    backend = engines.store_backend(settings)
    try:
        return METRICS[metric.value](
            engines.feedback_table(backend),
            by=[d.value for d in dimensions],
            period=span.value if span else None,
            confidence=confidence,
            min_n=min_n,
        )
    finally:
        backend.disconnect()


def report(
    *,
    settings: Settings,
    name: str,
    by: Sequence[str] = (),
    period: str | None = None,
    min_n: int = 30,
    confidence: float = 0.95,
) -> MetricResult:
    """``compute`` as a ``MetricResult`` (what the API and ``--format json`` return)."""
    metric, dimensions, span = _parse(name, by, period)
    frame = _compute(settings, metric, dimensions, span, min_n=min_n, confidence=confidence)
    return to_result(
        frame, metric=metric, by=dimensions, period=span, confidence=confidence, min_n=min_n
    )


def export_parquet(
    *, settings: Settings, out_dir: str | Path, include_pii: bool = False
) -> list[Path]:
    """The store's feedback and text features as Parquet files; without ``include_pii`` the
    personal columns of feedback (``PII_FIELDS["feedback"]``: author, author_email, …) are
    left out."""
    omit = {} if include_pii else {"feedback": PII_FIELDS["feedback"]}
    return engines.export_parquet(settings, out_dir, omit=omit)
