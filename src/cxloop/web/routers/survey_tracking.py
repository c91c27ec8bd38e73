"""Response tracking over the API: a survey's funnel, its response rates by slice, and B2B
completeness by account and role. Viewers read; the numbers are the CLI's and the pages'."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from cxloop.surveys import b2b_status, tracking
from cxloop.surveys.b2b_status import CompletenessRow
from cxloop.surveys.tracking import Funnel, RateRow
from cxloop.web.deps import Reader, SessionDep

router = APIRouter(prefix="/api/v1/surveys", tags=["survey tracking"])

Confidence = Annotated[float, Query(gt=0.5, lt=1, description="Of the Wilson interval.")]
MinN = Annotated[int, Query(ge=0, description="Rates over fewer delivered are small_n.")]


@router.get("/rates", response_model=list[RateRow])
def read_rates_across_surveys(
    session: SessionDep,
    _user: Reader,
    by: Annotated[
        list[str] | None,
        Query(
            max_length=3,
            description="segment, role, account, channel, survey or distribution (repeatable).",
        ),
    ] = None,
    survey: str | None = None,
    confidence: Confidence = 0.95,
    min_n: MinN = 30,
) -> list[RateRow]:
    """Response rates over every survey (``cxloop surveys rates``), or one with ``?survey=``."""
    return tracking.response_rates(
        session=session, by=by or (), survey_id=survey, confidence=confidence, min_n=min_n
    )


@router.get("/{survey_id}/funnel", response_model=Funnel)
def read_funnel(
    survey_id: str, session: SessionDep, _user: Reader, confidence: Confidence = 0.95,
    min_n: MinN = 30,
) -> Funnel:  # fmt: skip
    """Invited, skipped (by reason), sent, delivered, bounced, opened, started, completed,
    expired, partial — per distribution and in total, with the response rate's interval."""
    return tracking.funnel(session=session, survey_id=survey_id, confidence=confidence, min_n=min_n)


@router.get("/{survey_id}/response-rates", response_model=list[RateRow])
def read_response_rates(
    survey_id: str,
    session: SessionDep,
    _user: Reader,
    by: Annotated[
        list[str] | None,
        Query(max_length=3, description="segment, role, account, channel or distribution."),
    ] = None,
    confidence: Confidence = 0.95,
    min_n: MinN = 30,
) -> list[RateRow]:
    """Completed / delivered per slice, with a Wilson interval (``?by=role&by=channel``)."""
    return tracking.response_rates(
        session=session, by=by or (), survey_id=survey_id, confidence=confidence, min_n=min_n
    )


@router.get("/{survey_id}/completeness", response_model=list[CompletenessRow])
def read_completeness(
    survey_id: str, session: SessionDep, _user: Reader, distribution: int | None = None
) -> list[CompletenessRow]:
    """Per account and milestone, each role's invitations and answers; ``complete`` once
    every required role has answered."""
    return b2b_status.completeness(
        session=session, survey_id=survey_id, distribution_id=distribution
    )
