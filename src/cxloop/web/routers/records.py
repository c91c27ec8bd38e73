"""Reads of what is stored, paged and filtered; PII masked for roles that don't need it."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from cxloop.ingest import service as ingest_service
from cxloop.privacy.masking import mask_record
from cxloop.privacy.roles import Permission, allows
from cxloop.web.deps import Reader, SessionDep
from cxloop.web.routers.imports import Kind

router = APIRouter(prefix="/api/v1", tags=["records"])
# One ``Query`` object must not be shared as the default of several parameters: FastAPI then
# registers only the first of them and silently drops the rest (every filter but customer_id
# was ignored). ``Annotated`` gives each parameter its own copy.
Text = Annotated[str | None, Query(min_length=1, max_length=200)]


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
    customer_id: Text = None,
    account_id: Text = None,
    contact_id: Text = None,
    project_id: Text = None,
    channel: Text = None,
    source: Text = None,
    segment: Text = None,
    region: Text = None,
    role: Text = None,
    event_type: Text = None,
    plan: Text = None,
    status: Text = None,
    touchpoint: Text = None,
    journey_stage: Text = None,
    link_method: Text = None,
) -> Page:
    """A page of stored rows (ordered by key), filtered by exact values and a time window."""
    filters = {
        k: v
        for k, v in {
            "customer_id": customer_id,
            "account_id": account_id,
            "contact_id": contact_id,
            "project_id": project_id,
            "channel": channel,
            "source": source,
            "segment": segment,
            "region": region,
            "role": role,
            "event_type": event_type,
            "plan": plan,
            "status": status,
            "touchpoint": touchpoint,
            "journey_stage": journey_stage,
            "link_method": link_method,
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
