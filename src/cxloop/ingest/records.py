"""Reading what imports stored: pages of rows by kind with filters, one record, store counts.

The same filters and masking serve ``GET /api/v1/records``, ``cxloop records`` and the overview.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Date, func, select
from sqlalchemy.orm import Session

from cxloop.customers import service as customers_service
from cxloop.customers.roles import canonical_role
from cxloop.errors import Invalid, NotFound
from cxloop.feedback import channels, pii_masking
from cxloop.ingest.fields import get_kind
from cxloop.ingest.models import QuarantinedRow
from cxloop.ingest.upsert import TABLES
from cxloop.privacy.masking import mask_record

TIME_COLUMNS = {
    "customers": "signed_up_at",
    "accounts": "opened_at",
    "projects": "start_date",
    "milestones": "due_date",
    "orders": "ordered_at",
    "events": "occurred_at",
    "subscriptions": "started_at",
    "feedback": "created_at",
}
FILTERS = (
    "customer_id",
    "account_id",
    "contact_id",
    "project_id",
    "channel",
    "source",
    "segment",
    "region",
    "role",
    "event_type",
    "plan",
    "status",
    "touchpoint",
    "journey_stage",
    "link_method",
)


def browse(
    *,
    session: Session,
    kind: str,
    filters: dict[str, str],
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    linked: bool | None = None,
    limit: int = 50,
    offset: int = 0,
    timezone: str = "UTC",
    reveal_pii: bool = False,
) -> tuple[list[dict[str, Any]], int]:
    """A page of stored rows of ``kind`` in key order, with the total that match the filters;
    personal fields masked unless ``reveal_pii``.

    ``since``/``until`` without an offset are read in ``timezone``, like imported timestamps.
    """
    spec = get_kind(kind)
    if spec.kind == "identities":
        table = customers_service.IDENTITIES
        order = table.c.id
    else:
        table = TABLES[spec.table]
        order = table.c[spec.key]
    conditions = []
    for name, value in filters.items():
        if "\x00" in value:
            raise Invalid("contains a NUL character", name, value.replace("\x00", "\ufffd"))
        if name not in table.c:
            usable = [f for f in FILTERS if f in table.c]
            raise Invalid(f"is not a filter of {kind}; use one of {', '.join(usable)}", name, value)
        if name in spec.by_name and spec.by_name[name].type == "channel":
            value = channels.canonical_channel(value)  # 微信 or WeChat mean wechat
        if name in spec.by_name and spec.by_name[name].type == "role":
            value = canonical_role(value)  # 决策者 means decision_maker, as imports store it
        choices = spec.by_name[name].choices if name in spec.by_name else None
        if choices:  # the same spellings an import accepts: 问卷 or SURVEY mean survey
            canonical = choices.get(value.strip().lower())
            if canonical is None:
                allowed = ", ".join(sorted(set(choices.values())))
                raise Invalid(f"is not one of: {allowed}", name, value)
            value = canonical
        conditions.append(table.c[name] == value)
    time_column = TIME_COLUMNS.get(spec.kind)
    for bound, moment in (("since", since), ("until", until)):
        if moment is None:
            continue
        if time_column is None:
            raise Invalid(f"{kind} have no time column to filter on", bound, str(moment))
        column = table.c[time_column]
        if isinstance(column.type, Date):  # a day column: the day as the caller sees it
            local = moment.astimezone(ZoneInfo(timezone)) if moment.tzinfo else moment
            limit_value: dt.date = local.date()
        else:
            limit_value = _store_time(bound, moment, timezone)
        conditions.append(column >= limit_value if bound == "since" else column < limit_value)
    if linked is not None:
        if "link_method" not in table.c:
            raise Invalid(f"only feedback can be filtered on links, not {kind}", "linked", linked)
        conditions.append(
            table.c.customer_id.is_not(None) | table.c.contact_id.is_not(None)
            if linked
            else table.c.customer_id.is_(None) & table.c.contact_id.is_(None)
        )
    total = session.scalar(select(func.count()).select_from(table).where(*conditions)) or 0
    rows = session.execute(
        select(table).where(*conditions).order_by(order).limit(limit).offset(offset)
    ).mappings()
    return [_shown(spec.kind, row, reveal_pii) for row in rows], int(total)


def _shown(kind: str, row: Any, reveal_pii: bool) -> dict[str, Any]:
    record = {  # stored as naive UTC; shown with the offset so it reads back unambiguously
        k: v.replace(tzinfo=dt.UTC) if isinstance(v, dt.datetime) and v.tzinfo is None else v
        for k, v in row.items()
        if k != "row_hash"
    }
    if reveal_pii:
        return record
    masked = mask_record(kind, record)
    if kind == "feedback":  # personal data inside texts too, masked as feedback search does
        for name in ("text", "title"):
            masked[name] = pii_masking.mask_free_text(record.get(name))
        masked["attributes"] = pii_masking.mask_attributes(record.get("attributes"))
    return masked


def _store_time(name: str, value: dt.datetime, timezone: str) -> dt.datetime:
    """A bound as the naive UTC the store keeps; out of range after conversion is an error."""
    try:
        if value.tzinfo is None:
            value = value.replace(tzinfo=ZoneInfo(timezone))
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    except OverflowError:
        raise Invalid("is out of range once converted to UTC", name, value.isoformat()) from None


def get_record(
    *, session: Session, kind: str, key: str, reveal_pii: bool = False
) -> dict[str, Any]:
    spec = get_kind(kind)
    if spec.kind == "identities":
        raise NotFound("identities are listed, not fetched one by one")
    if "\x00" in key:
        raise Invalid("contains a NUL character", "key", key.replace("\x00", "\ufffd"))
    table = TABLES[spec.table]
    row = session.execute(select(table).where(table.c[spec.key] == key)).mappings().first()
    if row is None:
        raise NotFound(f"no {kind} row with {spec.key} {key!r}")
    return _shown(spec.kind, row, reveal_pii)


def store_counts(*, session: Session) -> dict[str, Any]:
    """What is loaded: rows per kind, feedback per channel, links and quarantine — the numbers
    the overview page and ``GET /api/v1/overview`` show."""
    counts = {
        kind: session.scalar(select(func.count()).select_from(table)) or 0
        for kind, table in TABLES.items()
    }
    counts["identities"] = (
        session.scalar(select(func.count()).select_from(customers_service.IDENTITIES)) or 0
    )
    feedback = TABLES["feedback"]
    by_channel = {
        channel: int(n)
        for channel, n in session.execute(
            select(feedback.c.channel, func.count())
            .group_by(feedback.c.channel)
            .order_by(func.count().desc(), feedback.c.channel)
        )
    }
    linked = (
        session.scalar(
            select(func.count())
            .select_from(feedback)
            .where(feedback.c.customer_id.is_not(None) | feedback.c.contact_id.is_not(None))
        )
        or 0
    )
    quarantined = session.scalar(select(func.count()).select_from(QuarantinedRow)) or 0
    conflicts = session.scalar(select(func.count()).select_from(customers_service.CONFLICTS)) or 0
    return {
        "rows": counts,
        "feedback_by_channel": by_channel,
        "feedback_linked": linked,
        "quarantined": quarantined,
        "identity_conflicts": conflicts,
    }
