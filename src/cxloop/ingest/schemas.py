"""Shapes that leave the ingest domain: import summaries and quarantined rows."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field


def _as_utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


UtcTime = Annotated[dt.datetime, AfterValidator(_as_utc)]
"""A stored (naive UTC) time, shown with its offset."""


class ProblemRead(BaseModel):
    field: str
    value: Any = None
    reason: str


class RejectedRow(BaseModel):
    """A row that was quarantined: where it was, and every problem with it."""

    row: int = Field(description="Row as the source shows it (CSV/XLSX: header = row 1).")
    problems: list[ProblemRead]


class ImportWarning(BaseModel):
    """Something the import did not refuse but you should know: a value left out of a stored
    row (``row`` set), or a decision about the whole file (``row`` null: a score's scale, the
    date order, columns kept only in attributes)."""

    row: int | None = Field(None, description="Row as the source shows it; null: the file.")
    field: str
    value: Any = None
    reason: str


class ImportSummary(BaseModel):
    """What one import did, row by row accounted for: read = stored + quarantined."""

    run_id: int
    kind: str
    source: str
    status: str
    read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantined: int = 0
    linked: int = Field(0, description="Feedback rows newly linked to a customer or contact.")
    identity_conflicts: int = Field(0, description="Identities claimed by a second customer.")
    enriched: int = Field(
        0, description="Feedback texts analysed (new or changed text); unchanged ones are not."
    )
    seconds: float = 0.0
    rejected: list[RejectedRow] = Field(
        default_factory=list, description="First rejected rows (at most 100) with their reasons."
    )
    columns: dict[str, str] = Field(
        default_factory=dict, description="Field → the source column that fed it."
    )
    attributes_only: list[str] = Field(
        default_factory=list,
        description="Source columns that feed no field: kept only in each row's attributes.",
    )
    warned: int = Field(0, description="Stored rows with a value left out (e.g. a bad phone).")
    warnings: list[ImportWarning] = Field(
        default_factory=list,
        description="File decisions, then the first row warnings (at most 100 rows).",
    )


class QuarantinedRowRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    import_run_id: int
    kind: str
    source_name: str
    row_number: int
    field: str
    value: str | None
    reason: str
    problems: list[dict[str, Any]]
    raw: dict[str, Any]
    created_at: UtcTime


class ImportRunRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    source_name: str
    status: str
    started_at: UtcTime
    finished_at: UtcTime | None
    rows_read: int
    inserted: int
    updated: int
    unchanged: int
    quarantined: int
    message: str | None


class FieldInfo(BaseModel):
    """One field of an import kind, as ``GET /api/v1/kinds`` describes it."""

    name: str
    type: str
    required: bool
    min: float | None
    max: float | None
    choices: list[str] | None
    aliases: list[str]
    open: bool = Field(
        False,
        description="Other values are kept as written (channel, role); choices are known ones.",
    )


class UndoResult(BaseModel):
    """What ``cxloop imports undo`` removed, and what it could not give back."""

    run_id: int
    kind: str
    source: str
    status: str
    already_undone: bool = Field(False, description="The run was undone before; nothing done.")
    removed: dict[str, int] = Field(
        default_factory=dict, description="Rows removed per table (features included)."
    )
    unlinked: int = Field(
        0, description="Feedback rows whose customer link came from an identity of this run."
    )
    changed_since: int = Field(
        0, description="Rows this run inserted that a later run updated (removed all the same)."
    )
    not_restored: int = Field(
        0, description="Rows this run updated: their earlier values are not kept, so they stay."
    )
    not_restored_keys: list[str] = Field(
        default_factory=list, description="Keys of those rows (at most 100)."
    )
    message: str = ""
