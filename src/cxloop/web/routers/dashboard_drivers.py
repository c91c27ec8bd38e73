"""The drivers and outcomes view as JSON: the numbers ``/drivers`` shows, the customers behind a
cell, and saving them as a target list (admins and analysts)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, ConfigDict, Field

from cxloop.dashboards import drivers as drivers_view
from cxloop.dashboards.schemas_drivers import (
    DrillKey,
    DrillResult,
    DrillSave,
    DrillSaved,
    DriversOutcomesResult,
    Outcome,
    Part,
    Score,
)
from cxloop.privacy.roles import Permission, allows
from cxloop.web.deps import ListManager, Reader, ScopeDep, SessionDep, SettingsDep

router = APIRouter(prefix="/api/v1/dashboard", tags=["dashboard"])


class DriversQuery(BaseModel):
    """What the view analyses besides its scope (the page keeps these in its URL too)."""

    model_config = ConfigDict(extra="ignore")

    score: Score = "nps"
    outcome: Outcome = "churn"
    part: Part = "all"
    min_mentions: int = Field(drivers_view.MIN_MENTIONS, ge=1, le=1_000_000)
    min_customers: int = Field(drivers_view.MIN_CUSTOMERS, ge=5, le=1_000_000)
    n_boot: int = Field(drivers_view.N_BOOT, ge=20, le=2000)


class DrillQuery(BaseModel):
    """Which cell: a topic said with a sentiment, or the detractors."""

    model_config = ConfigDict(extra="ignore")

    topic: str | None = Field(None, min_length=1, max_length=200)
    sentiment: Literal["negative", "positive"] | None = None
    nps_group: Literal["detractor"] | None = None
    limit: int = Field(drivers_view.DRILL_LIMIT, ge=1, le=5000)

    def key(self) -> DrillKey:
        return DrillKey(topic=self.topic, sentiment=self.sentiment, nps_group=self.nps_group)


@router.get("/drivers", response_model=DriversOutcomesResult)
def read_drivers_view(
    session: SessionDep,
    settings: SettingsDep,
    _user: Reader,
    scope: ScopeDep,
    q: Annotated[DriversQuery, Query()],
) -> DriversOutcomesResult:
    """The importance × performance quadrant of ``score`` and the say × do table of
    ``outcome`` over the feedback in since/until/last/where (stored fits of the same data and
    parameters are read, not refitted: each section's ``computed`` says when it ran)."""
    return drivers_view.drivers_outcomes(
        settings=settings, scope=scope, session=session, **q.model_dump()
    )


@router.get("/drivers/customers", response_model=DrillResult)
def read_drill(
    session: SessionDep,
    settings: SettingsDep,
    user: Reader,
    scope: ScopeDep,
    q: Annotated[DrillQuery, Query()],
) -> DrillResult:
    """The customers behind a cell: those its target query selects (names masked without
    read_pii)."""
    reveal = allows(user.role, Permission.read_pii)
    return drivers_view.drill(
        settings=settings,
        session=session,
        scope=scope,
        key=q.key(),
        reveal_pii=reveal,
        limit=q.limit,
    )


@router.post("/drivers/target-list", response_model=DrillSaved, status_code=status.HTTP_201_CREATED)
def save_drill(
    body: DrillSave,
    session: SessionDep,
    settings: SettingsDep,
    user: ListManager,
    scope: ScopeDep,
    q: Annotated[DrillQuery, Query()],
) -> DrillSaved:
    """Save the customers behind a cell as a target list (same conditions), refreshed once."""
    return drivers_view.save_drill(
        session=session, settings=settings, scope=scope, key=q.key(), save=body,
        created_by=user.username,
    )  # fmt: skip
