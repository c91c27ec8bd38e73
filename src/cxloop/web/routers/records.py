"""Reads of what is stored, paged and filtered; PII masked for roles that don't need it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from cxloop.ingest import service as ingest_service
from cxloop.privacy.masking import mask_record
from cxloop.privacy.roles import Permission, allows
from cxloop.web.deps import Reader, SessionDep
from cxloop.web.routers.imports import Kind

router = APIRouter(prefix="/api/v1", tags=["records"])
Text = Query(None, min_length=1, max_length=200)


class Page(BaseModel):
    items: list[dict[str, Any]]
    total: int
    limit: int
    offset: int


@router.get("/{kind}", response_model=Page)
def list_records(
    kind: Kind,
    session: SessionDep,
    user: Reader,
    limit: int = Query(50, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=2**62),
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    linked: bool | None = None,
    customer_id: str | None = Text,
    account_id: str | None = Text,
    contact_id: str | None = Text,
    channel: str | None = Text,
    source: str | None = Text,
    segment: str | None = Text,
    role: str | None = Text,
    event_type: str | None = Text,
    status: str | None = Text,
    touchpoint: str | None = Text,
    journey_stage: str | None = Text,
) -> Page:
    """A page of stored rows (ordered by key), filtered by exact values and a time window."""
    filters = {
        k: v
        for k, v in {
            "customer_id": customer_id,
            "account_id": account_id,
            "contact_id": contact_id,
            "channel": channel,
            "source": source,
            "segment": segment,
            "role": role,
            "event_type": event_type,
            "status": status,
            "touchpoint": touchpoint,
            "journey_stage": journey_stage,
        }.items()
        if v is not None
    }
    items, total = ingest_service.browse(
        session=session,
        kind=kind.value,
        filters=filters,
        since=since,
        until=until,
        linked=linked,
        limit=limit,
        offset=offset,
    )
    if not allows(user.role, Permission.read_pii):
        items = [mask_record(item) for item in items]
    return Page(items=items, total=total, limit=limit, offset=offset)


@router.get("/{kind}/{key}", response_model=dict[str, Any])
def get_record(kind: Kind, key: str, session: SessionDep, user: Reader) -> dict[str, Any]:
    record = ingest_service.get_record(session=session, kind=kind.value, key=key)
    return record if allows(user.role, Permission.read_pii) else mask_record(record)
