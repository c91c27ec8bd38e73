"""Stored survey definitions and their versions.

Every change to a definition is a new version, never an edit in place: an answer keeps the
version it was given against (``survey_responses.version``), so its questions can always be
read back. Storing the same definition again changes nothing.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cxloop.db.base import utcnow
from cxloop.errors import Invalid, NotFound, Problem
from cxloop.surveys.definitions import (
    SurveyDefinition,
    canonical,
    parse_definition,
    warnings,
)
from cxloop.surveys.models import Survey, SurveyVersion
from cxloop.surveys.schemas import ProblemRead, SurveyCheck, SurveyRead, SurveyVersionRead


def definition_hash(definition: SurveyDefinition) -> str:
    """SHA-256 of the definition's canonical JSON: equal for equal content however written."""
    text = json.dumps(canonical(definition), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _survey(session: Session, survey_id: str) -> Survey:
    row = session.get(Survey, survey_id)
    if row is None:
        known = session.scalars(select(Survey.survey_id).order_by(Survey.survey_id).limit(20))
        names = ", ".join(known) or "none yet"
        raise NotFound(f"no survey {survey_id!r} (stored: {names})")
    return row


def _version(session: Session, survey_id: str, version: int) -> SurveyVersion:
    # a number beyond a 64-bit integer cannot be stored and would overflow the database driver
    in_range = 1 <= version <= 2**63 - 1
    row = session.get(SurveyVersion, (survey_id, version)) if in_range else None
    if row is None:
        _survey(session, survey_id)
        stored = session.scalars(
            select(SurveyVersion.version)
            .where(SurveyVersion.survey_id == survey_id)
            .order_by(SurveyVersion.version)
        )
        numbers = ", ".join(str(n) for n in stored)
        raise NotFound(f"survey {survey_id!r} has no version {version} (versions: {numbers})")
    return row


def _read(
    session: Session, row: Survey, changed: bool = False, reactivated: bool = False
) -> SurveyRead:
    current = _version(session, row.survey_id, row.current_version)
    count = session.scalar(
        select(func.count(SurveyVersion.version)).where(SurveyVersion.survey_id == row.survey_id)
    )
    return SurveyRead(
        survey_id=row.survey_id,
        title=dict(row.title),
        current_version=row.current_version,
        versions=int(count or 0),
        questions=len(current.definition.get("questions", [])),
        status=row.status,
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
        changed=changed,
        reactivated=reactivated,
    )


def create(
    *, session: Session, definition: SurveyDefinition, created_by: str | None = None
) -> SurveyRead:
    """Store ``definition``: a new survey, or a new version when it differs from the current
    one (``changed`` tells which); the same definition again stores nothing. Creating an
    archived survey again makes it active."""
    digest = definition_hash(definition)
    now = utcnow()
    row = session.get(Survey, definition.id)
    if row is None:
        row = Survey(
            survey_id=definition.id,
            title={str(k): v for k, v in definition.title.root.items()},
            current_version=1,
            status="active",
            created_by=created_by,
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        session.add(_new_version(definition, 1, digest, created_by, now))
        session.flush()
        return _read(session, row, changed=True)
    current = _version(session, row.survey_id, row.current_version)
    if current.definition_hash == digest and row.status == "active":
        return _read(session, row)
    changed = current.definition_hash != digest
    if changed:
        latest = session.scalar(
            select(func.max(SurveyVersion.version)).where(SurveyVersion.survey_id == row.survey_id)
        )
        number = int(latest or 0) + 1
        session.add(_new_version(definition, number, digest, created_by, now))
        row.current_version = number
        row.title = {str(k): v for k, v in definition.title.root.items()}
    reactivated = row.status != "active"
    row.status = "active"
    row.updated_at = now
    session.flush()
    return _read(session, row, changed=changed, reactivated=reactivated)


def _new_version(
    definition: SurveyDefinition, number: int, digest: str, by: str | None, now: Any
) -> SurveyVersion:
    return SurveyVersion(
        survey_id=definition.id,
        version=number,
        definition=canonical(definition),
        definition_hash=digest,
        created_by=by,
        created_at=now,
    )


def get(*, session: Session, survey_id: str) -> SurveyRead:
    return _read(session, _survey(session, survey_id))


def get_version(
    *, session: Session, survey_id: str, version: int | None = None
) -> SurveyDefinition:
    """The definition of one version (default: the current one), as answers to it were given."""
    number = version if version is not None else _survey(session, survey_id).current_version
    return SurveyDefinition.model_validate(_version(session, survey_id, number).definition)


def version_info(*, session: Session, survey_id: str, version: int) -> SurveyVersionRead:
    """One version with when and by whom it was stored."""
    row = _version(session, survey_id, version)
    current = _survey(session, survey_id).current_version
    return _version_read(row, current)


def versions(*, session: Session, survey_id: str) -> list[SurveyVersionRead]:
    """Every version of a survey, oldest first."""
    current = _survey(session, survey_id).current_version
    rows = session.scalars(
        select(SurveyVersion)
        .where(SurveyVersion.survey_id == survey_id)
        .order_by(SurveyVersion.version)
    )
    return [_version_read(row, current) for row in rows]


def _version_read(row: SurveyVersion, current: int) -> SurveyVersionRead:
    return SurveyVersionRead(
        survey_id=row.survey_id,
        version=row.version,
        current=row.version == current,
        definition=SurveyDefinition.model_validate(row.definition),
        definition_hash=row.definition_hash,
        created_by=row.created_by,
        created_at=row.created_at,
    )


def list_all(*, session: Session, include_archived: bool = True) -> list[SurveyRead]:
    """Stored surveys by id."""
    query = select(Survey).order_by(Survey.survey_id)
    if not include_archived:
        query = query.where(Survey.status == "active")
    return [_read(session, row) for row in session.scalars(query)]


def archive(*, session: Session, survey_id: str) -> SurveyRead:
    """Stop a survey: it sends nothing and takes no new answers; its versions and answers stay
    (``create`` with any definition of it makes it active again)."""
    row = _survey(session, survey_id)
    if row.status != "archived":
        row.status = "archived"
        row.updated_at = utcnow()
        session.flush()
    return _read(session, row)


def check(data: object) -> SurveyCheck:
    """Check a definition without storing it: every problem, or the warnings of a valid one."""
    try:
        definition = parse_definition(data)
    except Invalid as exc:
        return SurveyCheck(valid=False, problems=[_problem(p) for p in exc.problems])
    return SurveyCheck(
        valid=True,
        survey_id=definition.id,
        questions=len(definition.questions),
        warnings=[_problem(p) for p in warnings(definition)],
    )


def check_failed(exc: Invalid) -> SurveyCheck:
    """The check of a definition that could not even be read (bad YAML or JSON)."""
    return SurveyCheck(valid=False, problems=[_problem(p) for p in exc.problems])


def _problem(problem: Problem) -> ProblemRead:
    return ProblemRead(field=problem.field, value=problem.value, reason=problem.reason)
