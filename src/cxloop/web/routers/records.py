"""Reads of what is stored, paged and filtered; PII masked for roles that don't need it."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from cxloop.ingest import service as ingest_service
from cxloop.privacy.roles import Permission, allows
from cxloop.web.deps import Reader, SessionDep, SettingsDep
from cxloop.web.routers.imports import Kind

router = APIRouter(prefix="/api/v1", tags=["records"])
FilterValue = Annotated[str | None, Field(min_length=1, max_length=200)]


class RecordQuery(BaseModel):
    """Paging, a time window on the kind's time column, and exact-value filters."""

    model_config = ConfigDict(extra="forbid")

    limit: int = Field(50, ge=1, le=1000)
    offset: int = Field(0, ge=0, le=2**62)
    since: dt.datetime | None = Field(None, description="Inclusive; no offset = CXLOOP_TIMEZONE.")
    until: dt.datetime | None = Field(None, description="Exclusive; no offset = CXLOOP_TIMEZONE.")
    linked: bool | None = Field(None, description="Feedback linked to a customer or contact.")
    customer_id: FilterValue = None
    account_id: FilterValue = None
    contact_id: FilterValue = None
    project_id: FilterValue = None
    channel: FilterValue = None
    source: FilterValue = None
    segment: FilterValue = None
    region: FilterValue = None
    role: FilterValue = None
    event_type: FilterValue = None
    plan: FilterValue = None
    status: FilterValue = None
    touchpoint: FilterValue = None
    journey_stage: FilterValue = None
    link_method: FilterValue = None

    def filters(self) -> dict[str, str]:
        return {
            name: value
            for name in ingest_service.FILTERS
            if (value := getattr(self, name)) is not None
        }


class Page(BaseModel):
    items: list[dict[str, Any]]
    total: int
    limit: int
    offset: int


@router.get("/{kind}", response_model=Page)
def list_records(
    kind: Kind,
    query: Annotated[RecordQuery, Query()],
    session: SessionDep,
    settings: SettingsDep,
    user: Reader,
) -> Page:
    """A page of stored rows (ordered by key), filtered by exact values and a time window."""
    items, total = ingest_service.browse(
        session=session,
        kind=kind.value,
        filters=query.filters(),
        since=query.since,
        until=query.until,
        linked=query.linked,
        limit=query.limit,
        offset=query.offset,
        timezone=settings.timezone,
        reveal_pii=allows(user.role, Permission.read_pii),
    )
    return Page(items=items, total=total, limit=query.limit, offset=query.offset)


@router.get("/{kind}/{key}", response_model=dict[str, Any])
def get_record(kind: Kind, key: str, session: SessionDep, user: Reader) -> dict[str, Any]:
    """One stored row by its key (``feedback`` keys are ``source:id`` or ``#hash``)."""
    reveal = allows(user.role, Permission.read_pii)
    return ingest_service.get_record(session=session, kind=kind.value, key=key, reveal_pii=reveal)
