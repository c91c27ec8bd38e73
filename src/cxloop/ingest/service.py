"""Imports: file or API batch → validated chunks → upsert, quarantine, identity links.

An import is a job, not a request: each chunk commits on its own, together with its quarantine
rows, the text features of the feedback it inserted or updated (``CXLOOP_ENRICH_ON_IMPORT``) and
the run's counters, so an import killed midway keeps whole chunks, each with its features, and a
re-run finds them unchanged — the end state is exactly that of one clean import.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Date, delete, func, select, update
from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.customers import service as customers_service
from cxloop.db.base import utcnow
from cxloop.errors import Invalid, NotFound, UnreadableFile
from cxloop.feedback import service as feedback_service
from cxloop.ingest import mapping, pipeline, readers
from cxloop.ingest.fields import KINDS, KindSpec, get_kind
from cxloop.ingest.models import ImportRun, QuarantinedRow
from cxloop.ingest.schemas import (
    FieldInfo,
    ImportSummary,
    ProblemRead,
    QuarantinedRowRead,
    RejectedRow,
)
from cxloop.ingest.upsert import TABLES, quarantine, store_chunk
from cxloop.privacy.masking import mask_record, mask_value

Progress = Callable[[int], None]
MAX_REJECTED_SHOWN = 100


def import_file(
    *,
    session: Session,
    settings: Settings,
    kind: str,
    path: Path,
    mapping_path: Path | None = None,
    encoding: str | None = None,
    defaults: dict[str, str] | None = None,
    progress: Progress | None = None,
) -> ImportSummary:
    """Import one file of ``kind``; raises ``UnreadableFile``/``Invalid`` only for the file as a
    whole (unreadable, no column for a required field) — bad rows are quarantined instead.
    ``defaults`` (e.g. ``{"channel": "review"}``) fill fields the file has no value for.
    Big files are read and validated by a second process while this one stores."""
    spec = get_kind(kind)
    user_mapping = mapping.load_mapping(mapping_path)
    if defaults:
        user_mapping = mapping.UserMapping(
            user_mapping.columns, {**user_mapping.defaults, **defaults}
        )
    info = readers.describe(path, encoding)
    ctx = mapping.ValidationContext(settings.default_region, settings.timezone, info.encoding)
    rows = settings.import_batch_size
    parallel = (
        settings.import_parallel and path.stat().st_size >= settings.import_parallel_min_bytes
    )
    prepared = (
        pipeline.prepare_in_subprocess(info, rows, spec, user_mapping, ctx)
        if parallel
        else pipeline.prepare(readers.read_chunks(info, rows), spec, user_mapping, ctx)
    )
    return _run(
        session=session,
        settings=settings,
        spec=spec,
        prepared=prepared,
        source_name=str(path),
        sha256=info.sha256,
        progress=progress,
        require_rows=True,
    )


def import_records(
    *,
    session: Session,
    settings: Settings,
    kind: str,
    records: list[dict[str, Any]],
    source_name: str = "api",
    defaults: dict[str, str] | None = None,
) -> ImportSummary:
    """An API batch takes the same path as a file: same rules, same quarantine, same upsert."""
    spec = get_kind(kind)
    ctx = mapping.ValidationContext(settings.default_region, settings.timezone, "utf-8")
    user_mapping = mapping.UserMapping(defaults=defaults or {})
    prepared = pipeline.prepare(readers.read_records(records), spec, user_mapping, ctx)
    return _run(
        session=session,
        settings=settings,
        spec=spec,
        prepared=prepared,
        source_name=source_name,
        sha256=readers.records_sha256(records),
        progress=None,
    )


def describe_kinds() -> dict[str, list[FieldInfo]]:
    """Every import kind's fields: type, bounds, accepted values, recognised header names."""
    return {
        kind: [
            FieldInfo(
                name=f.name,
                type=f.type,
                required=f.required,
                min=f.min,
                max=f.max,
                choices=sorted(set(f.choices.values())) if f.choices else None,
                aliases=list(f.aliases),
            )
            for f in spec.fields
        ]
        for kind, spec in KINDS.items()
    }


def count_records(path: Path) -> int | None:
    """Roughly how many records a text file holds (lines), for a progress bar; None if unknown."""
    try:
        info = readers.describe(path, fingerprint=False)
    except Exception:  # the real import reports the problem properly
        return None
    if info.format not in ("csv", "jsonl"):
        return None
    lines = 0
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            lines += block.count(b"\n")
    return max(lines - (1 if info.format == "csv" else 0), 0)


def _run(
    *,
    session: Session,
    settings: Settings,
    spec: KindSpec,
    prepared: Iterator[pipeline.PreparedChunk],
    source_name: str,
    sha256: str,
    progress: Progress | None,
    require_rows: bool = False,
) -> ImportSummary:
    started = time.perf_counter()
    session.execute(
        update(ImportRun)
        .where(
            ImportRun.kind == spec.kind,
            ImportRun.source_sha256 == sha256,
            ImportRun.status == "running",
        )
        .values(status="interrupted")
    )
    # the quarantine shows the latest import of this file: rows now fixed (by a mapping or
    # --set) leave it, rows still bad come back with their current reasons
    session.execute(
        delete(QuarantinedRow).where(
            QuarantinedRow.kind == spec.kind, QuarantinedRow.source_sha256 == sha256
        )
    )
    run = ImportRun(
        kind=spec.kind, source_name=source_name[:512], source_sha256=sha256, status="running"
    )
    session.add(run)
    session.commit()
    summary = ImportSummary(run_id=run.id, kind=spec.kind, source=source_name, status="running")
    enrich = spec.kind == "feedback" and settings.enrich_on_import
    try:
        for chunk in prepared:
            rejections = chunk.rejections
            written = store_chunk(
                session=session, spec=spec, records=chunk.records, summary=summary
            )
            if enrich and written:  # committed with the chunk: no stored row lacks features
                summary.enriched += feedback_service.enrich_stored(
                    session=session, feedback_ids=written, workers=settings.text_workers
                )
            quarantine(
                session=session,
                run=run,
                spec=spec,
                rejections=rejections,
                source_name=source_name,
                sha256=sha256,
            )
            summary.read += chunk.rows_read
            summary.quarantined += len(rejections)
            for rejection in rejections[: MAX_REJECTED_SHOWN - len(summary.rejected)]:
                summary.rejected.append(
                    RejectedRow(
                        row=rejection.row_number,
                        problems=[
                            ProblemRead(field=p.field, value=p.value, reason=p.reason)
                            for p in rejection.problems
                        ],
                    )
                )
            _save_counts(run, summary)
            session.commit()
            if progress:
                progress(chunk.rows_read)
        if require_rows and summary.read == 0:
            raise UnreadableFile(
                f"{Path(source_name).name}: no data rows to import (only a header, or nothing "
                "that reads as rows: check the file's format)"
            )
        if spec.kind in ("customers", "contacts", "identities"):
            summary.linked += feedback_service.link_unlinked(session=session)
        summary.status = "finished"
    except BaseException as exc:
        session.rollback()
        # the message names the failure, never row values (the engine hides parameters)
        run.status, run.message = "failed", f"{type(exc).__name__}: {exc}"[:2000]
        _save_counts(run, summary)
        run.finished_at = utcnow()
        session.commit()
        raise
    summary.seconds = round(time.perf_counter() - started, 3)
    run.status = summary.status
    run.finished_at = utcnow()
    _save_counts(run, summary)
    session.commit()
    return summary


def _save_counts(run: ImportRun, summary: ImportSummary) -> None:
    run.rows_read, run.inserted, run.updated = summary.read, summary.inserted, summary.updated
    run.unchanged, run.quarantined = summary.unchanged, summary.quarantined


def list_quarantine(
    *,
    session: Session,
    kind: str | None = None,
    run_id: int | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[QuarantinedRow]:
    """Rejected rows, newest run first, in row order."""
    statement = select(QuarantinedRow)
    if kind:
        statement = statement.where(QuarantinedRow.kind == get_kind(kind).kind)
    if run_id is not None:
        statement = statement.where(QuarantinedRow.import_run_id == run_id)
    statement = (
        statement.order_by(QuarantinedRow.import_run_id.desc(), QuarantinedRow.row_number)
        .limit(limit)
        .offset(offset)
    )
    return list(session.scalars(statement))


def quarantine_page(
    *,
    session: Session,
    kind: str | None = None,
    run_id: int | None = None,
    limit: int = 100,
    offset: int = 0,
    reveal_pii: bool = False,
) -> list[QuarantinedRowRead]:
    """Rejected rows as shown to a user; personal data masked unless ``reveal_pii``."""
    rows = [
        QuarantinedRowRead.model_validate(r)
        for r in list_quarantine(
            session=session, kind=kind, run_id=run_id, limit=limit, offset=offset
        )
    ]
    if reveal_pii:
        return rows
    for row in rows:  # only what is known not to be personal stays readable
        public = mapping.public_fields(row.kind)
        row.raw = {
            k: v if mapping.is_public_header(row.kind, k) else mask_value("value", v)
            for k, v in row.raw.items()
        }
        row.problems = [
            p if p.get("field") in public else {**p, "value": mask_value("value", p.get("value"))}
            for p in row.problems
        ]
        if row.field not in public:
            row.value = mask_value("value", row.value)
    return rows


def clear_quarantine(
    *, session: Session, kind: str | None = None, run_id: int | None = None
) -> int:
    """Delete quarantined rows (after they were fixed and re-imported); returns how many."""
    statement = delete(QuarantinedRow)
    if kind:
        statement = statement.where(QuarantinedRow.kind == get_kind(kind).kind)
    if run_id is not None:
        statement = statement.where(QuarantinedRow.import_run_id == run_id)
    return int(session.execute(statement).rowcount or 0)  # type: ignore[attr-defined]


def list_runs(*, session: Session, limit: int = 50) -> list[ImportRun]:
    return list(session.scalars(select(ImportRun).order_by(ImportRun.id.desc()).limit(limit)))


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
    return record if reveal_pii else mask_record(kind, record)


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
