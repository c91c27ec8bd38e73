"""What a list's page does besides create/preview/refresh: push the stored members again, change
the schedule, read the members a page at a time with names masked by role.

Kept beside ``act.service`` (one function each, shared by the pages and the API) so that module
stays under the size limit; sessions come from the caller and are only flushed here.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.act import exports
from cxloop.act import service as act_service
from cxloop.act.exports import EXPORT_COLUMNS
from cxloop.act.models import TargetList
from cxloop.act.schemas import MemberPage, PushResult, TargetListRead, TargetListSchedule
from cxloop.customers.models import Customer
from cxloop.errors import Invalid, NotFound
from cxloop.insights import service as insights_service
from cxloop.insights.schemas import plain
from cxloop.privacy.masking import mask_value

PAGE_SIZE = 50
MAX_PAGE_SIZE = 500


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    cols = [c for c in EXPORT_COLUMNS if c in frame.columns]
    return [
        {c: plain(v) for c, v in zip(cols, row, strict=True)}
        for row in frame[cols].itertuples(index=False)
    ]


def push(*, session: Session, name: str) -> PushResult:
    """POST the members stored by the last refresh to the list's webhook (as a refresh does),
    without re-running the query; a failed delivery comes back in words (``push_error``)."""
    read = act_service.get(session=session, name=name)
    if not read.webhook_url:
        raise Invalid("the list has no webhook: set one in its schedule first", "webhook_url", "")
    if read.refreshed_at is None:
        raise Invalid("the list was never refreshed: refresh it first", "refreshed_at", "never")
    frame = act_service.members(session=session, name=name)
    versions = {str(v) for v in frame["churn_model"].dropna()}
    runs = insights_service.churn_model_runs(session, versions)
    bases = [b.model_dump(mode="json") for b in act_service.churn_bases(runs, versions)]
    records = _records(frame)
    try:
        exports.push(read.webhook_url, read.name, read.refreshed_at, records, bases)
    except Invalid as exc:
        error = "; ".join(f"{p.field} {p.value}: {p.reason}" for p in exc.problems)
        return PushResult(name=name, members=len(records), pushed=False, push_error=error)
    return PushResult(name=name, members=len(records), pushed=True)


def schedule(*, session: Session, name: str, schedule_in: TargetListSchedule) -> TargetListRead:
    """Set how often the list refreshes (``cxloop targets refresh-due`` acts on it) and where
    its members are pushed; None clears either."""
    row = session.scalars(select(TargetList).where(TargetList.name == name)).one_or_none()
    if row is None:
        raise NotFound(f"no target list named {name!r}")
    row.refresh_hours = schedule_in.refresh_hours
    row.webhook_url = str(schedule_in.webhook_url) if schedule_in.webhook_url else None
    session.flush()
    return act_service.get(session=session, name=name)


def member_page(
    *, session: Session, name: str, offset: int = 0, limit: int = PAGE_SIZE, reveal_pii: bool
) -> MemberPage:
    """Members ``offset`` … ``offset + limit`` of the last refresh, each with the customer's
    name (masked unless ``reveal_pii``; None when the customer has none stored)."""
    if offset < 0:
        raise Invalid("must be 0 or more", "offset", offset)
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise Invalid(f"must be between 1 and {MAX_PAGE_SIZE}", "limit", limit)
    frame = act_service.members(session=session, name=name)
    rows = _records(frame.iloc[offset : offset + limit])
    ids = [str(r["customer_id"]) for r in rows]
    names = dict(
        session.execute(
            select(Customer.customer_id, Customer.name).where(Customer.customer_id.in_(ids))
        ).all()
    )
    for row in rows:
        stored = names.get(str(row["customer_id"]))
        row["name"] = stored if reveal_pii or stored is None else mask_value("name", stored)
    return MemberPage(name=name, total=len(frame), offset=offset, limit=limit, rows=rows)
