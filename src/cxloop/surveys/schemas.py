"""Shapes of stored surveys and their versions, as the API, the CLI and other domains read them."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import BaseModel, PlainSerializer

from cxloop.surveys.definitions import SurveyDefinition


def _with_offset(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


UtcTime = Annotated[
    dt.datetime, PlainSerializer(_with_offset, return_type=dt.datetime, when_used="json")
]
"""A stored (naive UTC) time that JSON shows with its offset (``…Z``), as the rest of the API;
Python code reading the model still gets the naive UTC value it compares with."""


class SurveyRead(BaseModel):
    """A survey by its stable id, with its current (latest) version."""

    survey_id: str
    title: dict[str, str]
    current_version: int
    versions: int
    questions: int
    """Questions in the current version."""
    status: str
    """active or archived."""
    created_by: str | None
    created_at: UtcTime
    updated_at: UtcTime
    changed: bool = False
    """From ``create`` only: whether that call stored a new version (False: same definition)."""
    reactivated: bool = False
    """From ``create`` only: the survey was archived and that call made it active again."""


class SurveyVersionRead(BaseModel):
    """One stored version: the definition answers to it were given against."""

    survey_id: str
    version: int
    current: bool
    definition: SurveyDefinition
    definition_hash: str
    created_by: str | None
    created_at: UtcTime


class ProblemRead(BaseModel):
    field: str
    value: Any = None
    reason: str


class SurveyCheck(BaseModel):
    """A definition checked without storing it: every problem, and warnings when valid."""

    valid: bool
    survey_id: str | None = None
    questions: int = 0
    problems: list[ProblemRead] = []
    warnings: list[ProblemRead] = []
