"""Import another tool's response export: one call from file to stored survey, answers and
feedback (``cxloop surveys import``, ``POST /api/v1/surveys/import``).

Configuration mistakes are refused before the file is read; the tool is sniffed from the
content (or checked when named); the survey it fills is chosen by ``survey_choice``; a new
survey is built from the export, an existing one must hold every imported question.
Responses are upserted by ``(survey, "<tool>:<response id>")`` so a re-import adds nothing,
refused rows go to the import quarantine with every problem named, and the answers reach the
metrics through the same outbox and ingest door as answers given in cxloop.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.db.base import utcnow
from cxloop.errors import Conflict, CxloopError, Invalid
from cxloop.ingest.fields import DateOrder
from cxloop.ingest.models import ImportRun, QuarantinedRow
from cxloop.surveys import service as surveys_service
from cxloop.surveys.importers import registry, survey_choice
from cxloop.surveys.importers.build import build
from cxloop.surveys.importers.common import zone
from cxloop.surveys.importers.grid import check_encoding, is_limesurvey_archive, read_grid
from cxloop.surveys.importers.match import match
from cxloop.surveys.importers.model import TOOLS, ImportOptions, ParsedExport, RowProblem, Tool
from cxloop.surveys.importers.plan import Plan
from cxloop.surveys.importers.schemas import ImportProblem, ImportSummary
from cxloop.surveys.importers.store import Stored, store_responses
from cxloop.surveys.models import Survey, SurveyResponse
from cxloop.surveys.response_feedback import IMPORT_BATCH, OUTBOX, ingest_pending

DATE_ORDERS: tuple[DateOrder, ...] = ("auto", "day-first", "month-first")
KIND = "survey_responses"
"""``import_runs.kind`` and ``quarantined_rows.kind`` of these imports."""
MAX_SHOWN = 20


def import_export(
    *,
    session: Session,
    settings: Settings,
    path: Path,
    tool: str | None = None,
    definition_path: Path | None = None,
    survey_id: str | None = None,
    timezone: str | None = None,
    columns: dict[str, Any] | None = None,
    actor: str | None = None,
    encoding: str | None = None,
    date_order: str | None = None,
) -> ImportSummary:
    """Store every response of the export at ``path`` as answers of a cxloop survey and as
    feedback; returns what was read, stored, refused and kept raw.

    ``tool`` None or ``auto`` sniffs it; ``survey_id`` names the survey (default: the tool's
    survey id, else the file's name); ``timezone`` reads times the file does not zone (default
    ``settings.timezone``); ``encoding`` names a text file's encoding instead of sniffing it;
    ``date_order`` (``day-first``/``month-first``, default ``settings.date_order``) reads dates
    like 5/9/22 (``auto``: from the file's own dates, month-first when none tells). Commits as
    it goes (the feedback door does): call it from an entry point's session."""
    named = _tool(tool)
    if columns and named not in (None, "wenjuan"):  # only the mapping reader reads a mapping
        raise Invalid(
            "reads the file its own way and takes no column mapping; drop --tool to read it "
            "through --columns, or drop --columns",
            "--tool",
            named,
        )
    definition = _definition(definition_path)
    zone_name = timezone or settings.timezone
    try:
        zone(None, zone_name)  # an unknown zone is refused before any work
    except Invalid:
        raise Invalid(
            "is not a known IANA zone (e.g. Asia/Shanghai)", "--timezone", zone_name
        ) from None
    if survey_id is not None:
        survey_choice.check_survey_id(survey_id)
    if encoding is not None:
        encoding = check_encoding(encoding)
    day_first = _day_first(date_order or settings.date_order)
    grid = read_grid(path, encoding)
    if definition is None and path.suffix.lower() == ".lsa":  # the archive holds its own .lss
        definition = _archive_definition(path)
    if named is None:  # a confirmed column mapping reads any layout (问卷网 and unknown tools)
        named = "wenjuan" if columns else registry.detect_tool(grid)
    else:
        registry.check_tool(grid, named)
    reader = registry.reader(named)
    options = ImportOptions(
        timezone=zone_name,
        timezone_stated=timezone is not None,
        columns=columns,
        day_first=day_first,
    )
    try:
        parsed = reader.parse(grid, options, definition)
    except CxloopError:
        raise
    except Exception as exc:  # a layout the reader missed: a sentence, never a traceback
        raise Invalid(
            f"could not be read as a {named} export ({type(exc).__name__}: {exc}); check --tool, "
            "or report the file's layout",
            "file",
            path.name,
        ) from exc
    if grid.encoding == "cp1252" and encoding is None:
        parsed.notes.append(
            "read as Windows-1252 (a Western Windows re-save: neither UTF-8 nor GB18030); if "
            "letters look wrong, name the encoding with --encoding"
        )
    default = survey_choice.default_survey_id(parsed, path)
    target, note = survey_choice.survey_for(session, parsed, default, survey_id)
    if note:
        parsed.notes.append(note)
    return import_parsed(
        session=session,
        settings=settings,
        parsed=parsed,
        source_name=path.name,
        sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
        survey_id=target,
        timezone=zone_name,
        actor=actor,
    )


def import_parsed(
    *,
    session: Session,
    settings: Settings,
    parsed: ParsedExport,
    source_name: str,
    sha256: str,
    survey_id: str,
    timezone: str,
    actor: str | None = None,
) -> ImportSummary:
    """Store an export already read (``import_export`` after parsing; tests hand-make one).

    Two imports of one export at once: the second to write meets the unique keys the first
    stored (the survey, ``(survey, external_id)``) and is refused with ``Conflict``, nothing of
    it stored; run again, it adds only what is missing."""
    try:
        plan, version, created = _plan(session, parsed, survey_id, actor)
    except IntegrityError:
        session.rollback()
        raise _raced(survey_id) from None
    run = _start_run(session, source_name, sha256)
    summary = ImportSummary(
        tool=parsed.tool,
        layout=parsed.layout,
        value_mode=parsed.value_mode,
        file=source_name,
        survey_id=survey_id,
        survey_version=version,
        survey_created=created,
        questions=len(parsed.questions),
        responses_read=len(parsed.responses) + len({p.row for p in parsed.rejected}),
        excluded=dict(parsed.excluded),
        import_run_id=run.id,
        timezone=parsed.timezone or timezone,
        notes=[*parsed.notes, *plan.notes],
        mapped=dict(parsed.mapped),
        kept_raw=list(parsed.kept_raw),
    )
    try:
        stored = store_responses(
            session=session, parsed=parsed, plan=plan, survey_id=survey_id, version=version
        )
        problems = [*parsed.rejected, *stored.problems]
        _quarantine(session, run, problems)
        _count(summary, stored, problems)
        _finish(run, summary, "finished")
        session.commit()
    except BaseException as exc:
        session.rollback()
        refusal = _raced(survey_id) if isinstance(exc, IntegrityError) else None
        failed = session.get(ImportRun, run.id)
        if failed is not None:
            failed.status, failed.message = "failed", _failure(refusal or exc)
            failed.finished_at = utcnow()
            session.commit()
        if refusal is not None:
            raise refusal from None
        raise
    summary.feedback_stored = _feedback(session, settings, survey_id, summary)
    return summary


def _raced(survey_id: str) -> Conflict:
    return Conflict(
        f"another import stored responses of survey {survey_id} while this one ran (the same "
        "export imported twice at once?), so nothing of this one was stored; import it again: "
        "it adds only what is missing"
    )


def _failure(exc: BaseException) -> str:
    """A failed run's message. A database error is named by its driver's first line only:
    SQLAlchemy's own text holds the statement's parameters (answers, e-mails, phones)."""
    if isinstance(exc, StatementError) and exc.orig is not None:
        first = str(exc.orig).strip().splitlines()[:1]
        return f"{type(exc).__name__}: {''.join(first)}"[:2000]
    return f"{type(exc).__name__}: {exc}"[:2000]


def _day_first(order: str) -> bool | None:
    """``--date-order`` (or the ``date_order`` setting) as ``ImportOptions.day_first``."""
    if order not in DATE_ORDERS:
        raise Invalid("is not a date order; use " + ", ".join(DATE_ORDERS), "--date-order", order)
    return None if order == "auto" else order == "day-first"


def _tool(tool: str | None) -> Tool | None:
    if tool is None or tool.strip().lower() in ("", "auto"):
        return None
    name = tool.strip().lower()
    if name not in TOOLS:
        raise Invalid(f"is not a tool cxloop can import (auto, {', '.join(TOOLS)})", "--tool", tool)
    registry.reader(name)  # a tool whose reader is not installed is refused here too
    return name


def _definition(path: Path | None) -> registry.DefinitionFile | None:
    if path is None:
        return None
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise Invalid(
            f"cannot be read ({exc.strerror or exc})", "--definition", str(path)
        ) from None
    if not data.strip():
        raise Invalid("is empty", "--definition", str(path))
    return registry.DefinitionFile(path.name, data)


def _archive_definition(path: Path) -> registry.DefinitionFile | None:
    data = path.read_bytes()
    if not is_limesurvey_archive(data):
        return None
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        if not any(n.lower().endswith(".lss") for n in archive.namelist()):
            return None
    return registry.DefinitionFile(path.name, data)


def _plan(
    session: Session, parsed: ParsedExport, survey_id: str, actor: str | None
) -> tuple[Plan, int, bool]:
    """Match onto the survey's current version when it exists, else build and create it."""
    survey = session.get(Survey, survey_id)
    if survey is not None:
        definition = surveys_service.get_version(session=session, survey_id=survey_id)
        return match(parsed, definition, survey.current_version), survey.current_version, False
    plan = build(parsed, survey_id)
    read = surveys_service.create(session=session, definition=plan.definition, created_by=actor)
    return plan, read.current_version, True


def _start_run(session: Session, name: str, sha256: str) -> ImportRun:
    """A run row committed before any response is stored (a crash leaves it ``running``); the
    quarantine shows only the latest import of the same file, as for every other import."""
    session.execute(
        update(ImportRun)
        .where(ImportRun.kind == KIND, ImportRun.source_sha256 == sha256)
        .where(ImportRun.status == "running")
        .values(status="interrupted")
    )
    session.execute(
        delete(QuarantinedRow).where(
            QuarantinedRow.kind == KIND, QuarantinedRow.source_sha256 == sha256
        )
    )
    run = ImportRun(kind=KIND, source_name=name[:512], source_sha256=sha256, status="running")
    session.add(run)
    session.commit()
    return run


def _quarantine(session: Session, run: ImportRun, problems: list[RowProblem]) -> None:
    """One quarantined row per refused file row, holding every problem found in it."""
    by_row: dict[int, list[RowProblem]] = {}
    for problem in problems:
        by_row.setdefault(problem.row, []).append(problem)
    for row, found in sorted(by_row.items()):
        first = found[0]
        raw: dict[str, Any] = {}
        for p in found:
            raw.update(p.raw)
        session.add(
            QuarantinedRow(
                import_run_id=run.id,
                kind=KIND,
                source_name=run.source_name,
                source_sha256=run.source_sha256,
                row_number=row,
                field=first.field[:128],
                value=first.value,
                reason=first.reason,
                problems=[{"field": p.field, "value": p.value, "reason": p.reason} for p in found],
                raw=raw,
            )
        )
    session.flush()


def _count(summary: ImportSummary, stored: Stored, problems: list[RowProblem]) -> None:
    summary.inserted, summary.updated = stored.inserted, stored.updated
    summary.unchanged = stored.unchanged
    summary.quarantined = len({p.row for p in problems})
    summary.rejected = [
        ImportProblem(row=p.row, field=p.field, value=p.value, reason=p.reason)
        for p in sorted(problems, key=lambda p: p.row)[:MAX_SHOWN]
    ]


def _finish(run: ImportRun, summary: ImportSummary, status: str) -> None:
    run.status, run.finished_at = status, utcnow()
    run.rows_read, run.inserted = summary.responses_read, summary.inserted
    run.updated, run.unchanged = summary.updated, summary.unchanged
    run.quarantined = summary.quarantined


def _feedback(session: Session, settings: Settings, survey_id: str, summary: ImportSummary) -> int:
    """Drain the outbox until nothing of this survey is stored any more; how many of its
    responses became (or updated) feedback rows. Rows ingest refuses are named in a note."""
    before = _pending(session, survey_id)
    while before and ingest_pending(
        session=session, settings=settings, limit=5_000, batch=IMPORT_BATCH
    ):
        session.commit()
        if not _pending(session, survey_id):
            break
    session.commit()
    after = _pending(session, survey_id)
    if after:
        summary.notes.append(
            f"{after} response(s) could not be stored as feedback yet (see each response's "
            "ingest error); they are retried by `cxloop surveys tick` and the next import"
        )
    return before - after


def _pending(session: Session, survey_id: str) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(SurveyResponse)
            .where(SurveyResponse.survey_id == survey_id, OUTBOX)
        )
        or 0
    )
