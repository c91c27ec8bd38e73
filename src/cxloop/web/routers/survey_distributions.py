"""Distributions over the API: send a survey (or count a dry run), read its distributions and
how their invitations stand, and run the survey jobs once. Admins and analysts send; viewers
read; only admins run the tick."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request, status
from pydantic import BaseModel

from cxloop.jobs import tick
from cxloop.surveys import distribution_reads, sending
from cxloop.surveys.distribution_schemas import DistributionCreate, DistributionRead, SendResult
from cxloop.web.deps import Admin, ListManager, Reader, SessionDep, SettingsDep

router = APIRouter(prefix="/api/v1", tags=["survey distributions"])


class JobRun(BaseModel):
    counts: dict[str, int]
    error: str | None
    seconds: float


class TickRequest(BaseModel):
    now: dt.datetime | None = None
    jobs: list[str] | None = None


@router.post(
    "/surveys/tick", response_model=dict[str, JobRun], responses={403: {"description": "Not admin"}}
)
def run_tick(request: Request, _user: Admin, body: TickRequest | None = None) -> dict[str, Any]:
    """Run the survey jobs once (or those named); each job's counts or its error."""
    body = body or TickRequest()
    outcomes = tick.run(
        request.app.state.settings,
        body.now,
        body.jobs,
        sessions=request.app.state.session_factory,
    )
    return {
        n: JobRun(counts=o.counts, error=o.error, seconds=o.seconds) for n, o in outcomes.items()
    }


@router.post(
    "/surveys/{survey_id}/distributions",
    response_model=SendResult,
    status_code=status.HTTP_201_CREATED,
)
def send_survey(
    survey_id: str,
    request_in: DistributionCreate,
    session: SessionDep,
    settings: SettingsDep,
    user: ListManager,
) -> SendResult:
    """Send to an audience (list, where, account + roles, named recipients, anonymous); with
    ``dry_run`` count who would get it and who is skipped and why, storing nothing."""
    return sending.send(
        session=session,
        settings=settings,
        survey_id=survey_id,
        request=request_in,
        created_by=user.username,
    )


@router.get("/surveys/{survey_id}/distributions", response_model=list[DistributionRead])
def list_distributions(
    survey_id: str, session: SessionDep, settings: SettingsDep, _user: Reader
) -> list[DistributionRead]:
    """The survey's distributions, newest first, with invitations by status and skip reason."""
    return distribution_reads.list_for(session=session, settings=settings, survey_id=survey_id)


@router.get("/distributions/{distribution_id}", response_model=DistributionRead)
def read_distribution(
    distribution_id: int, session: SessionDep, settings: SettingsDep, _user: Reader
) -> DistributionRead:
    return distribution_reads.get(
        session=session, settings=settings, distribution_id=distribution_id
    )
