"""CX metrics by slice and period, each with n and a confidence interval."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import ConfigDict, Field

from cxloop.errors import Invalid, Problem
from cxloop.metrics import comparisons
from cxloop.metrics import service as metrics_service
from cxloop.metrics.comparisons import CompareResult
from cxloop.metrics.filters import Scope
from cxloop.metrics.schemas import (
    Dimension,
    IndexResult,
    MetricName,
    MetricResult,
    Period,
    TopicLevel,
)
from cxloop.privacy.roles import Role
from cxloop.web.deps import Reader, ScopeQuery, SettingsDep

router = APIRouter(prefix="/api/v1/metrics", tags=["metrics"])
MAX_BY = 4


def _check_by(by: list[Dimension]) -> None:
    """Too many or repeated ``by`` values, named like the validation errors of the query
    (``query.by`` / ``query.by.<i>``) and with the values given."""
    problems = [
        Problem(f"query.by.{i}", d.value, "is named twice") for i, d in enumerate(by) if d in by[:i]
    ]
    if len(by) > MAX_BY:
        problems.insert(
            0, Problem("query.by", [d.value for d in by], f"has {len(by)} values; at most {MAX_BY}")
        )
    if problems:
        raise Invalid(problems)


class MetricQuery(ScopeQuery):
    """Slices, period, the small-n threshold and the scope (since/until/last/where);
    dimensions come from an allowlist."""

    model_config = ConfigDict(extra="forbid")

    by: list[Dimension] = Field(
        default_factory=list, description=f"At most {MAX_BY} dimensions, each once."
    )
    period: Period | None = Field(None, description="UTC calendar periods.")
    min_n: int = Field(30, ge=0, le=1_000_000)
    confidence: float = Field(0.95, ge=0.5, le=0.999)


class TopicQuery(MetricQuery):
    """A metric query, plus the topic level of ``topic_incidence`` (default ``topic_l1``)."""

    level: TopicLevel | None = Field(None, description="topic_incidence only.")


@router.get("/index/{name}", response_model=IndexResult)
def read_index(
    name: str, query: Annotated[MetricQuery, Query()], settings: SettingsDep, user: Reader
) -> IndexResult:
    """Experience index ``name`` of the shipped indices file (0…100), by slice and period;
    viewers get no person-level slice of one answer."""
    _check_by(query.by)
    return metrics_service.index_report(
        settings=settings,
        name=name,
        by=[d.value for d in query.by],
        period=query.period.value if query.period else None,
        min_n=query.min_n,
        confidence=query.confidence,
        hide_singletons=user.role == Role.viewer,
        scope=query.scope(),
    )


class CompareQuery(MetricQuery):
    """What to compare: ``period`` (the last complete one against the one before), or the
    ``base_since``/``base_until`` window against the scope's; neither: each group of the last
    ``by`` against the rest (or ``baseline``)."""

    metric: Literal["nps", "csat", "ces"]
    baseline: str | None = Field(None, max_length=200)
    base_since: str | None = Field(None, max_length=40)
    base_until: str | None = Field(None, max_length=40)
    alpha: float = Field(0.05, ge=0.001, le=0.5)

    def base_scope(self) -> Scope | None:
        if self.base_since is None and self.base_until is None:
            return None
        return ScopeQuery(since=self.base_since, until=self.base_until).scope()


@router.get("/compare", response_model=CompareResult)
def read_compare(
    query: Annotated[CompareQuery, Query()], settings: SettingsDep, _user: Reader
) -> CompareResult:
    """Is a change (or a group's difference) real? Tested per slice, with BH q-values."""
    _check_by(query.by)
    return comparisons.compare(
        settings=settings,
        metric=query.metric,
        by=[d.value for d in query.by],
        period=query.period.value if query.period else None,
        baseline=query.baseline,
        scope=query.scope(),
        base_scope=query.base_scope(),
        min_n=query.min_n,
        confidence=query.confidence,
        alpha=query.alpha,
    )


@router.get("/{name}", response_model=MetricResult)
def read_metric(
    name: MetricName, query: Annotated[TopicQuery, Query()], settings: SettingsDep, user: Reader
) -> MetricResult:
    """Metric ``name`` over all stored feedback, by ``by`` (repeatable) and ``period``;
    viewers get no person-level slice of one answer."""
    _check_by(query.by)
    return metrics_service.report(
        settings=settings,
        name=name.value,
        by=[d.value for d in query.by],
        period=query.period.value if query.period else None,
        min_n=query.min_n,
        confidence=query.confidence,
        level=query.level.value if query.level else None,
        hide_singletons=user.role == Role.viewer,
        scope=query.scope(),
    )
