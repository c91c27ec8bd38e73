"""Imports: file or API batch → validated chunks → upsert, quarantine, identity links.

An import is a job, not a request: each chunk commits on its own, together with its quarantine
rows, the text features of the feedback it inserted or updated (``CXLOOP_ENRICH_ON_IMPORT``) and
the run's counters, so an import killed midway keeps whole chunks, each with its features, and a
re-run finds them unchanged — the end state is exactly that of one clean import.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.customers.roles import CANONICAL_ROLES
from cxloop.db.base import utcnow
from cxloop.errors import UnreadableFile
from cxloop.feedback import channels
from cxloop.feedback import service as feedback_service
from cxloop.ingest import mapping, pipeline, profile, readers
from cxloop.ingest.fields import KINDS, DateOrder, FieldSpec, KindSpec, get_kind
from cxloop.ingest.models import ImportRun, QuarantinedRow
from cxloop.ingest.records import FILTERS as FILTERS  # re-exported: callers use one door
from cxloop.ingest.records import TIME_COLUMNS as TIME_COLUMNS
from cxloop.ingest.records import browse as browse
from cxloop.ingest.records import get_record as get_record
from cxloop.ingest.records import store_counts as store_counts
from cxloop.ingest.schemas import (
    FieldInfo,
    ImportSummary,
    ImportWarning,
    ProblemRead,
    QuarantinedRowRead,
    RejectedRow,
)
from cxloop.ingest.upsert import TABLES as TABLES  # re-exported, as before the split
from cxloop.ingest.upsert import quarantine, store_chunk
from cxloop.privacy.masking import mask_value

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
    overrides: dict[str, str] | None = None,
    date_order: DateOrder | None = None,
    progress: Progress | None = None,
) -> ImportSummary:
    """Import one file of ``kind``; raises ``UnreadableFile``/``Invalid`` only for the file as a
    whole (unreadable, a mapping or value that cannot pass, no column for a required field) —
    bad rows are quarantined instead, and bad optional identities become warnings.

    ``defaults`` (``--set``, e.g. ``{"channel": "review"}``) fill blank cells and fields the
    file lacks; ``overrides`` (``--force-set``) replace every row's value. ``date_order``
    (default: the setting) says how ``11/07/2026`` reads. Big files are read and validated by a
    second process while this one stores."""
    spec = get_kind(kind)
    user_mapping = _with_values(mapping.load_mapping(mapping_path), defaults, overrides)
    info = readers.describe(path, encoding)
    ctx = mapping.ValidationContext(settings.default_region, settings.timezone, info.encoding)
    mapping.check_mapping(spec, user_mapping, ctx)  # refused before any row is read
    rows = settings.import_batch_size
    first = next(readers.read_chunks(info, rows), None)
    sample = first.frame if first is not None else pd.DataFrame({readers.ROW_COLUMN: []})
    found = profile.profile_file(sample, spec, user_mapping, date_order or settings.date_order)
    del first, sample  # not held for the whole import
    user_mapping = replace(user_mapping, columns={**found.columns, **user_mapping.columns})
    ctx = replace(ctx, day_first=found.day_first)
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
        found=found,
    )


def _with_values(
    user_mapping: mapping.UserMapping,
    defaults: dict[str, str] | None,
    overrides: dict[str, str] | None,
) -> mapping.UserMapping:
    """``--set``/``--force-set`` on top of the mapping file's own (the command line wins)."""
    return replace(
        user_mapping,
        defaults={**user_mapping.defaults, **(defaults or {})},
        overrides={**user_mapping.overrides, **(overrides or {})},
    )


def import_records(
    *,
    session: Session,
    settings: Settings,
    kind: str,
    records: list[dict[str, Any]],
    source_name: str = "api",
    defaults: dict[str, str] | None = None,
    overrides: dict[str, str] | None = None,
) -> ImportSummary:
    """An API batch takes the same path as a file: same rules, same quarantine, same upsert."""
    spec = get_kind(kind)
    ctx = mapping.ValidationContext(settings.default_region, settings.timezone, "utf-8")
    user_mapping = _with_values(mapping.UserMapping(), defaults, overrides)
    mapping.check_mapping(spec, user_mapping, ctx)
    chunks = list(readers.read_records(records))
    found = None
    if chunks:
        found = profile.profile_file(chunks[0].frame, spec, user_mapping, settings.date_order)
        user_mapping = replace(user_mapping, columns=found.columns)
        ctx = replace(ctx, day_first=found.day_first)
    prepared = pipeline.prepare(iter(chunks), spec, user_mapping, ctx)
    return _run(
        session=session,
        settings=settings,
        spec=spec,
        prepared=prepared,
        source_name=source_name,
        sha256=readers.records_sha256(records),
        progress=None,
        found=found,
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
                choices=_choices(f),
                aliases=list(f.aliases),
                open=f.type in ("channel", "role"),
            )
            for f in spec.fields
        ]
        for kind, spec in KINDS.items()
    }


def _choices(spec_field: FieldSpec) -> list[str] | None:
    if spec_field.type == "channel":
        return list(channels.CANONICAL)
    if spec_field.type == "role":
        return list(CANONICAL_ROLES)
    return sorted(set(spec_field.choices.values())) if spec_field.choices else None


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
    found: profile.FileProfile | None = None,
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
    if found is not None:
        summary.columns = dict(found.fields)
        summary.attributes_only = list(found.attributes_only)
        summary.warnings = [
            ImportWarning(field=n.field, value=n.value, reason=n.reason) for n in found.notes
        ]
    file_notes = len(summary.warnings)
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
            summary.warned += len(chunk.warnings)
            room = MAX_REJECTED_SHOWN + file_notes - len(summary.warnings)
            for warned in chunk.warnings[: max(room, 0)]:
                summary.warnings.extend(
                    ImportWarning(
                        row=warned.row_number, field=p.field, value=p.value, reason=p.reason
                    )
                    for p in warned.problems
                )
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
            del chunk, rejections, written  # freed before the next chunk arrives: memory
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
