"""Insights over the store: each endpoint runs one analysis and returns its table with n,
method and caveats (``InsightReport``), the same object the CLI prints."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from cxloop.insights import analyses, voice_reports
from cxloop.insights import service as insights_service
from cxloop.insights.schemas import InsightReport, report
from cxloop.insights.service import ChurnRun
from cxloop.web.deps import ListManager, Reader, ScopeDep, SessionDep, SettingsDep

router = APIRouter(prefix="/api/v1/insights", tags=["insights"])


@router.get("/drivers", response_model=InsightReport)
def read_drivers(
    settings: SettingsDep,
    _user: Reader,
    scope: ScopeDep,
    outcome: Literal["nps", "csat", "ces", "rating"] = "nps",
    min_mentions: Annotated[int, Query(ge=1, le=1_000_000)] = 30,
    n_boot: Annotated[int, Query(ge=0, le=2000)] = 200,
) -> InsightReport:
    """Key drivers: negatively mentioned topics ranked by their share of the score's R²,
    over the answers in since/until/last/where."""
    return analyses.drivers(
        settings=settings, outcome=outcome, min_mentions=min_mentions, n_boot=n_boot, scope=scope
    )


@router.get("/outcomes", response_model=InsightReport)
def read_outcomes(
    settings: SettingsDep,
    _user: Reader,
    scope: ScopeDep,
    outcome: Literal["churn", "repurchase", "orders", "spend"] = "churn",
    confounders: Annotated[list[str] | None, Query(max_length=20)] = None,
    method: Literal["regression", "ipw"] = "regression",
    window_days: Annotated[int, Query(ge=7, le=730)] = 90,
    min_customers: Annotated[int, Query(ge=5, le=1_000_000)] = 30,
    n_boot: Annotated[int, Query(ge=20, le=2000)] = 200,
    as_of: dt.datetime | None = None,
) -> InsightReport:
    """Voice × behaviour: what saying something (complaint, praise, intent, flag, NPS group)
    does to an outcome after the feedback, adjusted; the scope narrows the feedback read."""
    return voice_reports.outcomes(
        settings=settings,
        outcome=outcome,
        confounders=confounders,
        method=method,
        window_days=window_days,
        min_customers=min_customers,
        n_boot=n_boot,
        as_of=as_of,
        scope=scope,
    )


@router.get("/churner-topics", response_model=InsightReport)
def read_churner_topics(
    settings: SettingsDep,
    _user: Reader,
    scope: ScopeDep,
    min_customers: Annotated[int, Query(ge=5, le=1_000_000)] = 30,
    as_of: dt.datetime | None = None,
) -> InsightReport:
    """What members who cancelled said before, compared with those who stayed."""
    return voice_reports.churner_topics(
        settings=settings, min_customers=min_customers, as_of=as_of, scope=scope
    )


@router.get("/account-churn", response_model=InsightReport)
def read_account_churn(
    settings: SettingsDep,
    _user: Reader,
    role: Annotated[str, Query(min_length=1, max_length=32)] = "decision_maker",
) -> InsightReport:
    """B2B: one role's NPS at accounts that then churned, against accounts that renewed."""
    return voice_reports.account_churn_voice(settings=settings, role=role)


@router.get("/clv", response_model=InsightReport)
def read_clv(
    settings: SettingsDep,
    _user: Reader,
    calibration_end: dt.datetime | None = None,
    horizon: Annotated[int, Query(ge=1, le=520)] = 52,
    discount_rate: Annotated[float, Query(ge=0, le=1)] = 0.01,
    top: Annotated[int, Query(ge=1, le=10_000)] = 20,
) -> InsightReport:
    """BG/NBD + Gamma–Gamma lifetime value; the most valuable customers first."""
    return analyses.clv(
        settings=settings,
        calibration_end=calibration_end,
        horizon=horizon,
        discount_rate=discount_rate,
        top=top,
    )


@router.get("/segments", response_model=InsightReport)
def read_segments(
    settings: SettingsDep,
    _user: Reader,
    scope: ScopeDep,
    method: Literal["rfm", "clusters", "lifecycle"] = "rfm",
    as_of: dt.datetime | None = None,
) -> InsightReport:
    """RFM segments, clusters described in words, or lifecycle stages; where segment/region,
    until as the as-of date, since (RFM) on the orders counted."""
    return analyses.segments(settings=settings, method=method, as_of=as_of, scope=scope)


@router.get("/funnel", response_model=InsightReport)
def read_funnel(
    settings: SettingsDep,
    _user: Reader,
    steps: Annotated[list[str], Query(min_length=2, max_length=20)],
    scope: ScopeDep,
    window: Annotated[str, Query(max_length=16)] = "7D",
    by: Literal["segment", "region"] | None = None,
) -> InsightReport:
    """An ordered funnel of event types (``steps`` repeated, in order), over the events in
    since/until/last and customers in where segment/region."""
    return analyses.funnel(settings=settings, steps=steps, window=window, by=by, scope=scope)


@router.get("/paths", response_model=InsightReport)
def read_paths(
    settings: SettingsDep,
    _user: Reader,
    start: Annotated[str, Query(min_length=1, max_length=64)],
    end: Annotated[str, Query(min_length=1, max_length=64)],
    max_steps: Annotated[int, Query(ge=2, le=20)] = 6,
    top: Annotated[int, Query(ge=1, le=100)] = 10,
) -> InsightReport:
    """The most frequent event sequences from ``start`` to ``end`` within a session."""
    return analyses.paths(settings=settings, start=start, end=end, max_steps=max_steps, top=top)


@router.get("/cohorts", response_model=InsightReport)
def read_cohorts(
    settings: SettingsDep,
    _user: Reader,
    period: Literal["day", "week", "month", "quarter"] = "month",
    source: Literal["orders", "events"] = "orders",
) -> InsightReport:
    """Retention by acquisition cohort."""
    return analyses.cohorts(settings=settings, period=period, source=source)


@router.get("/rules", response_model=InsightReport)
def read_rules(
    settings: SettingsDep,
    _user: Reader,
    baskets: Literal["topics", "orders"] = "topics",
    min_support: Annotated[float, Query(gt=0, le=1)] = 0.01,
    min_confidence: Annotated[float, Query(ge=0, le=1)] = 0.2,
    top: Annotated[int, Query(ge=1, le=1000)] = 30,
) -> InsightReport:
    """Association rules over topics mentioned together or products bought together."""
    return analyses.rules(
        settings=settings,
        baskets=baskets,
        min_support=min_support,
        min_confidence=min_confidence,
        top=top,
    )


@router.get("/churn", response_model=InsightReport)
def read_churn_risks(
    settings: SettingsDep, _user: Reader, top: Annotated[int, Query(ge=1, le=10_000)] = 20
) -> InsightReport:
    """The stored churn risks, highest first, with the reasons behind each."""
    return insights_service.churn_risks(settings=settings, top=top)


@router.post("/churn", response_model=ChurnRun)
def score_churn(
    session: SessionDep,
    settings: SettingsDep,
    _user: ListManager,
    horizon_days: Annotated[int, Query(ge=7, le=730)] = 90,
    evaluate: bool = True,
    accept_weak_model: bool = False,
) -> ChurnRun:
    """Train on past members and store a churn risk for every active member; refused (422)
    when the cross-validated ROC-AUC interval reaches 0.6 or lower, unless
    ``accept_weak_model`` (recorded with the scores)."""
    return insights_service.score_churn(
        session=session,
        settings=settings,
        horizon_days=horizon_days,
        evaluate=evaluate,
        accept_weak_model=accept_weak_model,
    )


class AbTestIn(BaseModel):
    """Rows of an experiment (one per user or response) and what to compare."""

    model_config = ConfigDict(extra="forbid")

    rows: list[dict[str, str | float | bool | None]] = Field(
        min_length=2, max_length=1_000_000, description="flat records: text, numbers, booleans"
    )
    variant: str = Field(min_length=1, description="the column naming each row's variant")
    metric: Literal["nps", "share", "mean"]
    column: str = Field(min_length=1, description="the column holding the measured value")
    control: str | None = None


@router.post("/abtest", response_model=InsightReport)
def read_abtest(body: AbTestIn, _user: Reader) -> InsightReport:
    """Each variant against control, with the test that fits the metric and an SRM check."""
    return ab_report(body)


def ab_report(body: AbTestIn) -> InsightReport:
    """Run the pure A/B read-out on the posted rows (kept out of the handler to keep it short)."""
    import pandas as pd

    from cxloop.insights.abtest import ab_test

    result = ab_test(
        pd.DataFrame(body.rows),
        variant_col=body.variant,
        metric=(body.metric, body.column),
        control=body.control,
    )
    return report(
        "abtest",
        result.table,
        n=result.n,
        method=result.method,
        caveats=result.caveats,
        details={"control": result.control, "sample_ratio_p": result.srm_p_value},
    )
