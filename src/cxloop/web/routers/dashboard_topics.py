"""``/api/v1/dashboard/topics``: the topic explorer the ``/topics`` page shows (one
computation), the discovery candidates, and naming a candidate into the taxonomy (a new
taxonomy version; analysts and admins only). Example verbatims are masked for roles without
read_pii, as everywhere."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from cxloop.dashboards import topic_naming
from cxloop.dashboards.schemas_topics import (
    CandidatesResult,
    TopicNameRequest,
    TopicNameResult,
    TopicsResult,
)
from cxloop.dashboards.topics import explore
from cxloop.privacy.roles import Permission, allows
from cxloop.web.deps import ListManager, Reader, ScopeDep, SessionDep, SettingsDep

router = APIRouter(prefix="/api/v1/dashboard", tags=["dashboard"])

PeriodQuery = Annotated[
    Literal["week", "month", "quarter"], Query(description="Trend and flags per period.")
]
LangQuery = Annotated[Literal["zh", "en"], Query(description="Language of the topic names.")]


@router.get("/topics", response_model=TopicsResult)
def read_topics(
    session: SessionDep,
    settings: SettingsDep,
    user: Reader,
    scope: ScopeDep,
    period: PeriodQuery = "month",
    lang: LangQuery = "zh",
) -> TopicsResult:
    """The active taxonomy as a tree: volume, net sentiment (interval, n), trend, emerging and
    spiking flags and three example verbatims per topic, in the window and where conditions."""
    return explore(
        session=session, settings=settings, scope=scope, period=period, lang=lang,
        reveal_pii=allows(user.role, Permission.read_pii),
    )  # fmt: skip


@router.get("/topics/candidates", response_model=CandidatesResult)
def read_candidates(session: SessionDep, user: Reader) -> CandidatesResult:
    """Clusters of stored feedback that no topic covers (examples masked)."""
    return topic_naming.candidates(session=session)


@router.post("/topics/candidates", response_model=TopicNameResult, status_code=201)
def name_candidate(
    request: TopicNameRequest, session: SessionDep, user: ListManager
) -> TopicNameResult:
    """Add a named topic (a candidate's keywords as its terms) under a parent: a new taxonomy
    version; feedback containing a new term is re-analysed before the answer."""
    return topic_naming.name_candidate(session=session, request=request)
