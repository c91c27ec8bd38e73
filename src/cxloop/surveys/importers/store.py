"""Imported responses upserted into ``survey_responses`` (and their ``survey_answers``), keyed by
``(survey, "<tool>:<response id>")``: a new id is inserted, the same answers and status change
nothing, different ones (a partial completed since, a corrected answer) update the row and send
it to feedback again.

Imported rows keep the tool's times (naive UTC like the rest of the store), ``origin`` = the
tool, personal data and metadata in ``meta``, and ``step`` = how many questions were answered
(0: stored, but nothing to send to feedback).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from cxloop.customers import service as customers_service
from cxloop.db.base import utcnow
from cxloop.surveys.definitions import SurveyDefinition
from cxloop.surveys.importers.model import ImportedResponse, ParsedExport, RowProblem
from cxloop.surveys.importers.plan import Plan
from cxloop.surveys.models import SurveyAnswer, SurveyResponse
from cxloop.surveys.response_feedback import answer_values

EXTERNAL_ID_LENGTH = 200
CHUNK = 500
_COMPARED = ("answers", "status", "started_at", "completed_at", "language", "version")
"""What makes a re-imported response "unchanged", with no respondent data the stored row lacks
(``_adds``). Not ``meta``'s values: the same responses exported in the tool's other value mode
or format carry the same answers and times but other raw strings (``2022-09-05 14:56:02`` vs
``9/5/22 14:56``), and must not be sent to feedback again."""


@dataclass
class Stored:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    """Rows refused here (an answer the survey cannot hold, a repeated or missing id)."""


def external_id(tool: str, response_id: str) -> str:
    return f"{tool}:{response_id}"


def store_responses(
    *, session: Session, parsed: ParsedExport, plan: Plan, survey_id: str, version: int
) -> Stored:
    """Upsert every valid response of ``parsed`` into ``survey_id`` version ``version``."""
    result = Stored()
    rows: dict[str, tuple[ImportedResponse, dict[str, Any]]] = {}
    first_row: dict[str, int] = {}
    for response in parsed.responses:
        answers, problems = plan.translate(response)
        key = external_id(parsed.tool, (response.response_id or "").strip())
        if not (response.response_id or "").strip():
            problems.append(RowProblem(response.row, "response id", None, "is missing"))
        elif len(key) > EXTERNAL_ID_LENGTH:
            reason = f"is longer than {EXTERNAL_ID_LENGTH - len(parsed.tool) - 1} characters"
            problems.append(RowProblem(response.row, "response id", response.response_id, reason))
        elif key in first_row:
            reason = f"is the id of row {first_row[key]} too: each response is stored once"
            problems.append(RowProblem(response.row, "response id", response.response_id, reason))
        if problems:
            result.problems.extend(problems)
            continue
        first_row[key] = response.row
        rows[key] = (response, answers)
    existing = _existing(session, survey_id, list(rows))
    linked = customers_service.existing_customers(
        session=session,
        customer_ids=[r.external_reference for r, _ in rows.values() if r.external_reference],
    )
    language = plan.definition.default_language
    changed: list[SurveyResponse] = []
    for key, (response, answers) in rows.items():
        values = _values(response, answers, parsed, language, version, linked)
        row = existing.get(key)
        if row is not None:  # what this file cannot carry stays as the richer file stored it
            values["answers"] = kept_other_texts(row.answers or {}, answers, plan.definition)
            values["meta"] = _merged_meta(row.meta or {}, values["meta"])
        if row is None:
            now = utcnow()
            values["started_at"] = values["started_at"] or now
            values["updated_at"] = values["updated_at"] or now
            row = SurveyResponse(survey_id=survey_id, external_id=key, **values)
            session.add(row)
            changed.append(row)
            result.inserted += 1
        elif all(_same(getattr(row, name), values[name]) for name in _COMPARED) and not _adds(
            row.meta or {}, values["meta"]
        ):
            result.unchanged += 1
        else:
            for name, value in values.items():
                if value is not None or name not in ("started_at", "updated_at"):
                    setattr(row, name, value)
            row.feedback_id, row.ingest_error = None, None  # its feedback row is updated
            changed.append(row)
            result.updated += 1
    session.flush()
    _answers(session, plan, changed)
    return result


def kept_other_texts(
    stored: dict[str, Any], new: dict[str, Any], definition: SurveyDefinition
) -> dict[str, Any]:
    """The file's answers, plus each stored "other, please specify" text the file lacks where
    it still chooses that question's "other" option (or the same answer).

    Answers in the file win; an ``.other`` text absent from it is kept, because one value mode
    (问卷星 按选项序号, a coded export) may not carry it: importing both modes, in either order,
    stores the same answers, and the poorer file changes nothing."""
    merged = dict(new)
    questions = {q.id: q for q in definition.questions}
    for key, text in stored.items():
        qid = key.removesuffix(".other")
        if key == qid or key in new or qid not in new:
            continue
        chosen = new[qid] if isinstance(new[qid], list) else [new[qid]]
        others = {o.id for o in questions[qid].options if o.other} if qid in questions else set()
        if new[qid] == stored.get(qid) or others.intersection(map(str, chosen)):
            merged[key] = text
    return merged


def _merged_meta(stored: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """The file's metadata over the stored (a mode or format without IP, e-mail or embedded
    data does not erase them); attributes merged key by key the same way."""
    merged = {**stored, **new}
    attributes = {**(stored.get("attributes") or {}), **(new.get("attributes") or {})}
    if attributes:
        merged["attributes"] = attributes
    return merged


_RESPONDENT = ("email", "phone", "name", "external_reference", "ip", "location", "channel")
"""Metadata the feedback row carries (``response_feedback._imported``): identity linking reads
the e-mail, phone and customer id."""


def _adds(stored: dict[str, Any], merged: dict[str, Any]) -> bool:
    """Whether the merged metadata tells the feedback row something the stored lacked (the
    e-mails of a download with personal data included), not just other raw strings or
    attributes one value mode carries and another does not."""
    return any(key in merged and key not in stored for key in _RESPONDENT)


def _existing(session: Session, survey_id: str, keys: list[str]) -> dict[str, SurveyResponse]:
    found: dict[str, SurveyResponse] = {}
    for start in range(0, len(keys), CHUNK):
        chunk = keys[start : start + CHUNK]
        query = select(SurveyResponse).where(
            SurveyResponse.survey_id == survey_id, SurveyResponse.external_id.in_(chunk)
        )
        found.update({row.external_id or "": row for row in session.scalars(query)})
    return found


def _values(
    response: ImportedResponse,
    answers: dict[str, Any],
    parsed: ParsedExport,
    language: str,
    version: int,
    linked: set[str],
) -> dict[str, Any]:
    started = _naive(response.started_at) or _naive(response.submitted_at)
    submitted = _naive(response.submitted_at)
    last = submitted or started
    reference = response.external_reference
    return {
        "version": version,
        "answers": answers,
        "status": "completed" if response.completed else "partial",
        "step": sum(1 for key in answers if not key.endswith(".other")),
        "started_at": started,
        "updated_at": last,
        "completed_at": (submitted or started) if response.completed else None,
        "language": response.language if response.language in ("zh", "en") else language,
        "origin": parsed.tool,
        "customer_id": reference if reference in linked else None,
        "meta": _meta(response, parsed),
    }


def _meta(response: ImportedResponse, parsed: ParsedExport) -> dict[str, Any]:
    """Personal data and the tool's metadata as JSON (only what is there)."""
    meta: dict[str, Any] = {
        "email": response.email,
        "phone": response.phone,
        "name": response.name,
        "ip": response.ip,
        "location": response.location,
        "external_reference": response.external_reference,
        "channel": response.channel,
        "response_id": response.response_id,
        "zone": parsed.timezone,
        "submitted_at": _iso(response.submitted_at),
        "started_at": _iso(response.started_at),
        "attributes": dict(response.attributes) or None,
    }
    return {k: v for k, v in meta.items() if v not in (None, "")}


def _iso(value: dt.datetime | None) -> str | None:
    """A time as ISO 8601 in UTC; an unzoned one is UTC already, as in ``_naive`` (not the
    machine's zone, which ``astimezone`` would assume)."""
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).astimezone(dt.UTC).isoformat()


def _naive(value: dt.datetime | None) -> dt.datetime | None:
    """The store's convention: naive UTC (an unzoned time is taken as UTC already)."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value.replace(microsecond=0)


def _same(stored: Any, new: Any) -> bool:
    """Whether a stored value equals the file's (a time the file does not give is not news)."""
    if new is None and isinstance(stored, dt.datetime):
        return True
    if isinstance(stored, dt.datetime) and isinstance(new, dt.datetime):
        return _naive(stored) == _naive(new)
    return bool(stored == new)


def _answers(session: Session, plan: Plan, rows: list[SurveyResponse]) -> None:
    """``survey_answers`` rows of the inserted and updated responses (partials too: their
    answers were given), written anew for an updated one."""
    if not rows:
        return
    ids = [row.id for row in rows]
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        session.execute(delete(SurveyAnswer).where(SurveyAnswer.response_id.in_(chunk)))
    values = [v for row in rows for v in answer_values(plan.definition, row)]
    for start in range(0, len(values), 5_000):
        session.execute(
            insert(SurveyAnswer).execution_options(render_nulls=True), values[start : start + 5_000]
        )
