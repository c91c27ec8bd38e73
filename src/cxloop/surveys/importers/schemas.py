"""What an import of another tool's export reports (the CLI prints it, the API returns it)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ImportProblem(BaseModel):
    """One refused row: the file's row number, the field (question id or column), the value as
    written and why it was refused (the row is quarantined whole)."""

    row: int
    field: str
    value: str | None = None
    reason: str


class ImportSummary(BaseModel):
    """One import of a tool's export into a cxloop survey."""

    tool: str
    layout: str
    value_mode: str
    file: str
    survey_id: str
    survey_version: int
    survey_created: bool
    """True when this import created the survey; False when it matched an existing one."""
    questions: int
    responses_read: int
    """Responses in the file that were not left out on purpose (stored, unchanged or refused)."""
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantined: int = 0
    excluded: dict[str, int] = Field(default_factory=dict)
    """Rows left out on purpose (preview, spam, test), by reason."""
    feedback_stored: int = 0
    """Feedback rows written (or rewritten) through ingest by this run."""
    import_run_id: int | None = None
    timezone: str | None = None
    notes: list[str] = Field(default_factory=list)
    mapped: dict[str, str] = Field(default_factory=dict)
    kept_raw: list[str] = Field(default_factory=list)
    rejected: list[ImportProblem] = Field(default_factory=list)
    """The first 20 problems (every one is in the quarantine)."""
