"""Target lists: save a query, preview it, refresh its members, export them, push them.

Sessions come from the caller (CLI command or web request) and are only flushed here. The data
side (profiles, mentions, churn scores) is read through Ibis from the same store.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import ValidationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from cxloop.act import exports, targets
from cxloop.act.conditions import TopicCatalog, check_query
from cxloop.act.exports import EXPORT_COLUMNS, LIST_COLUMNS
from cxloop.act.models import TargetList, TargetListMember
from cxloop.act.schemas import (
    ChurnBasis,
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
from cxloop.feedback import enrichment
from cxloop.insights import service as insights_service
from cxloop.insights.profiles import SPEND_DAYS
from cxloop.insights.schemas import plain
from cxloop.text.taxonomy import shipped_taxonomy

LONGEST_MENTION_DAYS = 3650


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
    *,
    session: Session,
    list_in: TargetListCreate,
    created_by: str | None = None,
    settings: Settings | None = None,
) -> TargetListRead:
    """Save a new list (its name must be free); members come with the first refresh.

    With ``settings`` its segments, regions and topics are checked against the store first
    (topics saved as their paths): a value nobody has is refused with the closest ones."""
    if session.scalars(select(TargetList.id).where(TargetList.name == list_in.name)).first():
        raise Conflict(f"a target list named {list_in.name!r} already exists")
    query = list_in.query
    if settings is not None:
        with insights_service.open_backend(settings) as backend:
            profiles, _ = insights_service.customer_profiles(backend)
            query, _ = check_query(query, profiles, _catalog(session, backend))
    row = TargetList(
        name=list_in.name,
        description=list_in.description,
        definition=query.model_dump(mode="json", exclude_none=True),
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


def _catalog(session: Session | None, backend: Any) -> TopicCatalog:
    """Topic names of the active taxonomy (the shipped one without a session) and the
    topics stored in feedback."""
    taxonomy = (
        enrichment.active_taxonomy(session=session) if session is not None else shipped_taxonomy()
    )
    return TopicCatalog(taxonomy, insights_service.stored_topics(backend))


def _basis(run: insights_service.ChurnModelRead) -> ChurnBasis:
    return ChurnBasis(
        model_version=run.model_version,
        scored_at=run.created_at,
        cv_roc_auc=run.cv_roc_auc,
        cv_auc_low=run.cv_auc_low,
        cv_auc_high=run.cv_auc_high,
        accepted_weak=run.accepted_weak,
        summary=run.describe(),
    )


def _unrecorded(version: str) -> ChurnBasis:
    return ChurnBasis(
        model_version=version,
        scored_at=None,
        cv_roc_auc=None,
        cv_auc_low=None,
        cv_auc_high=None,
        accepted_weak=False,
        summary=f"churn risk from model {version}, scored before model quality was recorded: "
        "re-run `cxloop insights churn` to know how well it predicts",
    )


def churn_bases(
    runs: list[insights_service.ChurnModelRead], versions: set[str]
) -> list[ChurnBasis]:
    """One basis per model version behind the shown risks, recorded or not."""
    found = {run.model_version: _basis(run) for run in runs}
    return [found.get(v) or _unrecorded(v) for v in sorted(versions)]


@dataclass(frozen=True)
class _Chosen:
    when: dt.datetime
    selection: targets.Selection
    caveats: list[str]
    churn_models: list[ChurnBasis]


def _select(
    settings: Settings, query: TargetQuery, as_of: dt.datetime | None, session: Session | None
) -> _Chosen:
    """Profiles and mentions from the store, the query checked against them, then the pure
    selection, with the churn models behind the risks it shows."""
    with insights_service.open_backend(settings) as backend:
        profiles, when = insights_service.customer_profiles(backend, as_of=as_of)
        query, caveats = check_query(query, profiles, _catalog(session, backend))
        longest = max((m.within_days for m in query.mentioned or []), default=0)
        mentions = (
            insights_service.topic_mentions(
                backend,
                since=when - dt.timedelta(days=min(longest, LONGEST_MENTION_DAYS)),
                as_of=when,
            )
            if longest
            else pd.DataFrame(columns=targets.MENTION_COLUMNS)
        )
        versions = {str(v) for v in profiles["churn_model"].dropna()}
        runs = insights_service.churn_models_behind(backend, versions)
    selection = targets.select(profiles, mentions, query, when)
    bases = churn_bases(runs, versions)
    auc = {b.model_version: b.cv_roc_auc for b in bases}
    chosen = selection.members
    members = chosen.assign(
        churn_model_auc=pd.Series(
            [auc.get(str(v)) for v in chosen["churn_model"]], index=chosen.index, dtype="float64"
        )
    )
    selection = targets.Selection(members, selection.steps, selection.caveats)
    on_risk = query.min_churn_risk is not None or query.max_churn_risk is not None
    for basis in bases:
        weak = basis.accepted_weak or basis.cv_roc_auc is None
        lead = "this list filters on " if on_risk else ""
        care = " — treat its ranking with care" if weak else ""
        caveats.append(f"{lead}{basis.summary}{care}")
    return _Chosen(when, selection, caveats, bases)


def _records(frame: pd.DataFrame, limit: int | None = None) -> list[dict[str, Any]]:
    shown = frame if limit is None else frame.head(limit)
    cols = [c for c in EXPORT_COLUMNS if c in shown.columns]
    return [
        {c: plain(v) for c, v in zip(cols, row, strict=True)}
        for row in shown[cols].itertuples(index=False)
    ]


def preview(
    *,
    settings: Settings,
    query: TargetQuery,
    as_of: dt.datetime | None = None,
    sample: int = 10,
    session: Session | None = None,
) -> TargetPreview:
    """How many customers the query selects now, step by step, and the first few of them.

    Segments, regions and topics are checked against the store first (``Invalid`` with close
    matches); topics resolve against the active taxonomy (the shipped one without a session).
    """
    chosen = _select(settings, query, as_of, session)
    when = chosen.when
    caveats = [*chosen.selection.caveats, *chosen.caveats]
    caveats.append(
        f"value = order spend in the {SPEND_DAYS} days before {when:%Y-%m-%d}; as of the latest "
        "activity in the store unless a date is given"
    )
    return TargetPreview(
        as_of=when,
        customers=chosen.selection.steps[0][1],
        matched=len(chosen.selection.members),
        steps=[PreviewStep(condition=c, remaining=n) for c, n in chosen.selection.steps],
        sample=_records(chosen.selection.members, sample),
        churn_models=chosen.churn_models,
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
    chosen = _select(settings, query, as_of, session)
    when = chosen.when
    before = set(
        session.scalars(
            select(TargetListMember.customer_id).where(TargetListMember.list_id == row.id)
        )
    )
    session.execute(delete(TargetListMember).where(TargetListMember.list_id == row.id))
    records = _records(chosen.selection.members)
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
            bases = [b.model_dump(mode="json") for b in chosen.churn_models]
            exports.push(row.webhook_url, row.name, when, records, bases)
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
        churn_models=chosen.churn_models,
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
    """The members stored by the list's latest refresh, highest churn risk first, with the
    feedback ids and topics that qualified them (lists) and their churn model."""
    row = _get(session, name)
    stored = session.scalars(
        select(TargetListMember).where(TargetListMember.list_id == row.id)
    ).all()
    frame = pd.DataFrame(
        [{"customer_id": m.customer_id, **(m.evidence or {})} for m in stored],
        columns=list(EXPORT_COLUMNS),
    )
    for column in LIST_COLUMNS:
        frame[column] = [v if isinstance(v, list) else [] for v in frame[column]]
    return frame.sort_values(["churn_risk", "value"], ascending=False, na_position="last")


def about(*, session: Session, name: str) -> list[tuple[str, str]]:
    """What an export says about itself: the list, its query, its refresh and the churn
    models behind its risks (model, cross-validated ROC-AUC and interval, override)."""
    read = get(session=session, name=name)
    frame = members(session=session, name=name)
    versions = {str(v) for v in frame["churn_model"].dropna()}
    bases = churn_bases(insights_service.churn_model_runs(session, versions), versions)
    refreshed = f"{read.refreshed_at:%Y-%m-%d %H:%M} UTC" if read.refreshed_at else "never"
    rows = [
        ("list", read.name),
        ("description", read.description or ""),
        ("query", json.dumps(read.query.model_dump(mode="json", exclude_none=True))),
        ("refreshed", refreshed),
        ("members", f"{len(frame)}"),
    ]
    rows += [("churn model", basis.summary) for basis in bases]
    return rows


def export(*, session: Session, name: str, path: Path) -> int:
    """Write the list's members to ``.csv`` or ``.xlsx`` (by suffix); returns the row count.

    Excel gets a second sheet, ``about``, with the list, its query and the churn models its
    risks rest on; a CSV carries ``churn_model`` and ``churn_model_auc`` on every row."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise Invalid("must end in .csv or .xlsx", "path", str(path))
    frame = members(session=session, name=name)
    if suffix == ".csv":
        path.write_text(to_csv(frame), encoding="utf-8")
    else:
        exports.write_xlsx(frame, path, sheet=name, about=about(session=session, name=name))
    return len(frame)


def to_csv(frame: pd.DataFrame) -> str:
    """Members as CSV text, list columns joined with ``;``."""
    return exports.to_csv(frame)


def redact_url(url: str) -> str:
    """Scheme and host only: webhook paths and queries often carry a secret token."""
    return exports.redact_url(url)
