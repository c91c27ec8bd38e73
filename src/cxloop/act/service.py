"""Target lists: save a query, preview it, refresh its members, export them, push them.

Sessions come from the caller (CLI command or web request) and are only flushed here. The data
side (profiles, mentions, churn scores) is read through Ibis from the same store.
"""

from __future__ import annotations

import csv
import datetime as dt
import http.client
import io
import json
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import ValidationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from cxloop.act import targets
from cxloop.act.models import TargetList, TargetListMember
from cxloop.act.schemas import (
    PreviewStep,
    RefreshResult,
    TargetListCreate,
    TargetListRead,
    TargetPreview,
    TargetQuery,
)
from cxloop.config import Settings
from cxloop.db.base import utcnow
from cxloop.errors import Conflict, CxloopError, Invalid, NotFound, Problem
from cxloop.insights import service as insights_service
from cxloop.insights.profiles import SPEND_DAYS
from cxloop.insights.schemas import plain

EXPORT_COLUMNS = ("customer_id", "segment", "region", "value", "churn_risk", "last_nps")
"""What an export or a push carries: ids and non-personal facts, never names or contacts."""
LONGEST_MENTION_DAYS = 3650
WEBHOOK_TIMEOUT_S = 10.0


def _read(row: TargetList) -> TargetListRead:
    return TargetListRead(
        id=row.id,
        name=row.name,
        description=row.description,
        query=TargetQuery.model_validate(row.definition),
        refresh_hours=row.refresh_hours,
        webhook_url=row.webhook_url,
        created_by=row.created_by,
        created_at=row.created_at,
        refreshed_at=row.refreshed_at,
        member_count=row.member_count,
    )


def _get(session: Session, name: str) -> TargetList:
    row = session.scalars(select(TargetList).where(TargetList.name == name)).one_or_none()
    if row is None:
        raise NotFound(f"no target list named {name!r}")
    return row


def parse_definition(data: object) -> TargetListCreate:
    """A list definition (loaded YAML or JSON) checked, or ``Invalid`` naming every problem."""
    if not isinstance(data, dict):
        raise Invalid("must be a mapping with name and query", "definition", type(data).__name__)
    try:
        return TargetListCreate.model_validate(data)
    except ValidationError as exc:
        raise Invalid(
            [
                Problem(
                    ".".join(str(x) for x in err["loc"]) or "definition",
                    err.get("input"),
                    err["msg"].removeprefix("Value error, "),
                )
                for err in exc.errors()
            ]
        ) from None


def create(
    *, session: Session, list_in: TargetListCreate, created_by: str | None = None
) -> TargetListRead:
    """Save a new list (its name must be free); members come with the first refresh."""
    if session.scalars(select(TargetList.id).where(TargetList.name == list_in.name)).first():
        raise Conflict(f"a target list named {list_in.name!r} already exists")
    row = TargetList(
        name=list_in.name,
        description=list_in.description,
        definition=list_in.query.model_dump(mode="json", exclude_none=True),
        refresh_hours=list_in.refresh_hours,
        webhook_url=str(list_in.webhook_url) if list_in.webhook_url else None,
        created_by=created_by,
    )
    session.add(row)
    session.flush()
    return _read(row)


def list_all(*, session: Session) -> list[TargetListRead]:
    return [_read(r) for r in session.scalars(select(TargetList).order_by(TargetList.name))]


def get(*, session: Session, name: str) -> TargetListRead:
    return _read(_get(session, name))


def remove(*, session: Session, name: str) -> None:
    row = _get(session, name)
    session.execute(delete(TargetListMember).where(TargetListMember.list_id == row.id))
    session.delete(row)
    session.flush()


def _select(
    settings: Settings, query: TargetQuery, as_of: dt.datetime | None
) -> tuple[dt.datetime, targets.Selection]:
    """Profiles and mentions from the store, then the pure selection."""
    with insights_service.open_backend(settings) as backend:
        profiles, when = insights_service.customer_profiles(backend, as_of=as_of)
        longest = max((m.within_days for m in query.mentioned or []), default=0)
        mentions = (
            insights_service.topic_mentions(
                backend,
                since=when - dt.timedelta(days=min(longest, LONGEST_MENTION_DAYS)),
                as_of=when,
            )
            if longest
            else pd.DataFrame(columns=["customer_id", "topic", "sentiment", "created_at"])
        )
    return when, targets.select(profiles, mentions, query, when)


def _records(frame: pd.DataFrame, limit: int | None = None) -> list[dict[str, Any]]:
    shown = frame if limit is None else frame.head(limit)
    cols = [c for c in EXPORT_COLUMNS if c in shown.columns]
    return [
        {c: plain(v) for c, v in zip(cols, row, strict=True)}
        for row in shown[cols].itertuples(index=False)
    ]


def preview(
    *, settings: Settings, query: TargetQuery, as_of: dt.datetime | None = None, sample: int = 10
) -> TargetPreview:
    """How many customers the query selects now, step by step, and the first few of them."""
    when, chosen = _select(settings, query, as_of)
    caveats = list(chosen.caveats)
    caveats.append(
        f"value = order spend in the {SPEND_DAYS} days before {when:%Y-%m-%d}; as of the latest "
        "activity in the store unless a date is given"
    )
    return TargetPreview(
        as_of=when,
        customers=chosen.steps[0][1],
        matched=len(chosen.members),
        steps=[PreviewStep(condition=c, remaining=n) for c, n in chosen.steps],
        sample=_records(chosen.members, sample),
        caveats=caveats,
    )


def refresh(
    *,
    session: Session,
    settings: Settings,
    name: str,
    as_of: dt.datetime | None = None,
    push: bool = True,
) -> RefreshResult:
    """Re-run a list's query, replace its members, and push them to its webhook if it has one.

    A failed push does not undo the refresh: the members are stored and the result says why the
    delivery failed (``push_error``); the next refresh pushes again.
    """
    row = _get(session, name)
    query = TargetQuery.model_validate(row.definition)
    when, chosen = _select(settings, query, as_of)
    before = set(
        session.scalars(
            select(TargetListMember.customer_id).where(TargetListMember.list_id == row.id)
        )
    )
    session.execute(delete(TargetListMember).where(TargetListMember.list_id == row.id))
    records = _records(chosen.members)
    now = utcnow()
    session.add_all(
        TargetListMember(
            list_id=row.id,
            customer_id=r["customer_id"],
            value=r.get("value"),
            churn_risk=r.get("churn_risk"),
            evidence={k: v for k, v in r.items() if k != "customer_id"},
            added_at=now,
        )
        for r in records
    )
    after = {r["customer_id"] for r in records}
    row.refreshed_at = now
    row.member_count = len(records)
    session.flush()
    pushed, push_error = False, None
    if push and row.webhook_url:
        try:
            _push(row.webhook_url, row.name, when, records)
            pushed = True
        except Invalid as exc:
            push_error = "; ".join(f"{p.field} {p.value}: {p.reason}" for p in exc.problems)
    return RefreshResult(
        name=row.name,
        as_of=when,
        members=len(after),
        added=len(after - before),
        removed=len(before - after),
        pushed=pushed,
        push_error=push_error,
    )


def refresh_due(
    *, session: Session, settings: Settings, now: dt.datetime | None = None
) -> list[RefreshResult]:
    """Refresh every list whose ``refresh_hours`` have passed since its last refresh.

    Meant for a scheduler (cron, a systemd timer) to call: ``cxloop targets refresh-due``. Each
    list is refreshed in its own savepoint: one that fails (bad data, a stored definition this
    version no longer accepts) is reported with its error and rolled back alone; the others keep
    their new members.
    """
    moment = now or utcnow()
    done = []
    due = session.scalars(select(TargetList).where(TargetList.refresh_hours.is_not(None))).all()
    for row in due:
        hours = row.refresh_hours or 0
        if row.refreshed_at is not None and moment - row.refreshed_at < dt.timedelta(hours=hours):
            continue
        name = row.name
        try:
            with session.begin_nested():
                done.append(refresh(session=session, settings=settings, name=name))
        except (CxloopError, ValidationError) as exc:  # a stored definition no longer valid
            done.append(
                RefreshResult(
                    name=name,
                    as_of=moment,
                    members=0,
                    added=0,
                    removed=0,
                    pushed=False,
                    error=str(exc),
                )
            )
    return done


def members(*, session: Session, name: str) -> pd.DataFrame:
    """The members stored by the list's latest refresh, highest churn risk first."""
    row = _get(session, name)
    stored = session.scalars(
        select(TargetListMember).where(TargetListMember.list_id == row.id)
    ).all()
    frame = pd.DataFrame(
        [{"customer_id": m.customer_id, **(m.evidence or {})} for m in stored],
        columns=list(EXPORT_COLUMNS),
    )
    return frame.sort_values(["churn_risk", "value"], ascending=False, na_position="last")


def export(*, session: Session, name: str, path: Path) -> int:
    """Write the list's members to ``.csv`` or ``.xlsx`` (by suffix); returns the row count."""
    frame = members(session=session, name=name)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    elif suffix == ".xlsx":
        frame.to_excel(path, index=False, sheet_name=name[:31].replace("/", "-"))
    else:
        raise Invalid("must end in .csv or .xlsx", "path", str(path))
    return len(frame)


def to_csv(frame: pd.DataFrame) -> str:
    out = io.StringIO()
    frame.to_csv(out, index=False, quoting=csv.QUOTE_MINIMAL)
    return out.getvalue()


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect would turn the POST into a GET without the members: treat it as a failure."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _push(url: str, name: str, as_of: dt.datetime, records: list[dict[str, Any]]) -> None:
    """POST the members as JSON; anything but a 2xx answer (a redirect included) is an error
    naming the URL. Only ids and non-personal facts are sent (``EXPORT_COLUMNS``)."""
    body = json.dumps(
        {"list": name, "as_of": as_of.isoformat(), "count": len(records), "members": records}
    ).encode()
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    opener = urllib.request.build_opener(_NoRedirects)
    try:
        with opener.open(request, timeout=WEBHOOK_TIMEOUT_S) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except (urllib.error.URLError, http.client.HTTPException, TimeoutError, OSError) as exc:
        raise Invalid(f"could not be reached: {exc!r}", "webhook_url", redact_url(url)) from None
    if not 200 <= status < 300:
        raise Invalid(f"answered HTTP {status}", "webhook_url", redact_url(url))


def redact_url(url: str) -> str:
    """Scheme and host only: webhook paths and queries often carry a secret token."""
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}/…" if parts.scheme else "…"
