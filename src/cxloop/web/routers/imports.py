"""Imports as JSON batches, import runs and the quarantine."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from cxloop.ingest import service as ingest_service
from cxloop.ingest import undo as undo_service
from cxloop.ingest.fields import KINDS
from cxloop.ingest.schemas import (
    FieldInfo,
    ImportRunRead,
    ImportSummary,
    QuarantinedRowRead,
    UndoResult,
)
from cxloop.loop import evaluation
from cxloop.loop.evaluation import EvaluationCounts
from cxloop.privacy.roles import Permission, allows
from cxloop.web.deps import Importer, ImportsReader, Reader, SessionDep, SettingsDep

router = APIRouter(prefix="/api/v1", tags=["ingest"])
Kind = StrEnum("Kind", {name: name for name in KINDS})  # type: ignore[misc]


# Constrained strings are checked to be real Unicode: a lone surrogate (``"\\ud800"``) in a
# default would otherwise reach the database driver and fail there with a 500.
DefaultName = Annotated[str, StringConstraints(min_length=1, max_length=200)]
DefaultValue = Annotated[str, StringConstraints(max_length=10_000)]


class ImportBatch(BaseModel):
    """Rows of one kind, named by cxloop field (or any header a file could have)."""

    rows: list[dict[str, Any]] = Field(max_length=10_000, description="At most 10,000 rows.")
    defaults: dict[DefaultName, DefaultValue] = Field(
        default_factory=dict,
        description="Values for blank cells and fields missing from a row (present kept).",
    )
    overrides: dict[DefaultName, DefaultValue] = Field(
        default_factory=dict, description="Values for every row, present or not."
    )


@router.get("/kinds", response_model=dict[str, list[FieldInfo]])
def kinds(_: Reader) -> dict[str, list[FieldInfo]]:
    """Every import kind and its fields, with types, bounds and recognised header names."""
    return ingest_service.describe_kinds()


class ImportsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt parameter is a 422, not ignored

    limit: int = Field(50, ge=1, le=1000)


class QuarantineQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Kind | None = None
    run_id: int | None = Field(None, ge=1, le=2**62, description="Only this import run.")
    limit: int = Field(100, ge=1, le=1000)
    offset: int = Field(0, ge=0, le=2**62)


@router.get("/imports", response_model=list[ImportRunRead])
def list_imports(
    query: Annotated[ImportsQuery, Query()], session: SessionDep, _: ImportsReader
) -> list[ImportRunRead]:
    """Recent import runs, newest first, with their counts."""
    runs = ingest_service.list_runs(session=session, limit=query.limit)
    return [ImportRunRead.model_validate(r) for r in runs]


@router.post("/imports/{run_id}/undo", response_model=UndoResult)
def undo_import(
    session: SessionDep,
    _: Importer,
    run_id: Annotated[int, Path(ge=1, le=2**62)],
    force: Annotated[bool, Query(description="Also a run still marked running.")] = False,
) -> UndoResult:
    """Remove what an import run inserted; lists rows it updated, which cannot be restored.
    Undoing an undone run changes nothing (``already_undone``)."""
    return undo_service.undo_run(session=session, run_id=run_id, force=force)


@router.get("/quarantine", response_model=list[QuarantinedRowRead])
def list_quarantine(
    query: Annotated[QuarantineQuery, Query()], session: SessionDep, user: ImportsReader
) -> list[QuarantinedRowRead]:
    """Rejected rows with every problem: field, value, reason (PII masked for analysts)."""
    return ingest_service.quarantine_page(
        session=session,
        kind=query.kind.value if query.kind else None,
        run_id=query.run_id,
        limit=query.limit,
        offset=query.offset,
        reveal_pii=allows(user.role, Permission.read_pii),
    )


class ImportResult(ImportSummary):
    """An import's summary; for feedback, what the alert rules did with the stored rows."""

    cases: EvaluationCounts | None = Field(
        None, description="Feedback only: cases opened and attached by the alert rules."
    )


@router.post("/{kind}", response_model=ImportResult)
def import_batch(
    kind: Kind, body: ImportBatch, session: SessionDep, settings: SettingsDep, user: Importer
) -> ImportResult:
    """Import a batch: good rows are stored, bad rows quarantined and listed with reasons;
    stored feedback meets the alert rules before the response (its cases are stored)."""
    summary = ingest_service.import_records(
        session=session,
        settings=settings,
        kind=kind.value,
        records=body.rows,
        defaults=body.defaults,
        overrides=body.overrides,
        source_name=f"api:{user.username}",
    )
    cases = evaluation.after_import(
        session=session, settings=settings, kind=kind.value, run_id=summary.run_id, now=_now()
    )
    return ImportResult(**summary.model_dump(), cases=cases)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
