"""What a completed response becomes: one ``survey_answers`` row per answer, and (through the
outbox) one feedback row through the one ingest door.

A completed response waits with ``feedback_id`` unset; ``ingest_pending`` sends a batch through
``ingest_service.import_records`` (the same mapping, validation, quarantine, identity linking and
text enrichment as a file) and marks each response with its feedback id, or with the reason its
row was refused. The feedback id is ``survey:<response id>``, so a retry after a crash, or an
edited response, updates the same row instead of adding one.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Engine, and_, or_, select
from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.errors import NotFound
from cxloop.ingest import service as ingest_service
from cxloop.surveys.definitions import Question, SurveyDefinition
from cxloop.surveys.models import SurveyResponse, SurveyVersion

log = logging.getLogger(__name__)

BATCH = 100
"""Rows per import call of the outbox drain (a web submit, the tick): small, so each call
returns soon. An import of another tool's export passes a bigger one (``IMPORT_BATCH``)."""
IMPORT_BATCH = 1_000
"""Rows per import call when a whole export is drained: one import run ("feedback ← survey") per
thousand responses, not per hundred, so ``cxloop imports list`` stays readable."""
SOURCE = "survey"
_ONE_AT_A_TIME = threading.Lock()
"""The web app's drain thread and the tick's job share a process: one import of the outbox at a
time (two would race for the same feedback keys). Another process racing is healed on the next
run: its rows are then unchanged and get their feedback id."""


_PARSED: weakref.WeakKeyDictionary[Engine, dict[tuple[str, int], SurveyDefinition]] = (
    weakref.WeakKeyDictionary()
)
"""Definitions per store and (survey, version): a stored version never changes, so a submit
reads and validates it once per process, not once per answer."""


def version_definition(session: Session, survey_id: str, version: int) -> SurveyDefinition:
    """The definition a response answers (its own version, not the survey's current one)."""
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    known = _PARSED.setdefault(engine, {})
    parsed = known.get((survey_id, version))
    if parsed is None:
        row = session.get(SurveyVersion, (survey_id, version))
        if row is None:
            raise NotFound(f"survey {survey_id!r} has no version {version}")
        parsed = SurveyDefinition.model_validate(row.definition)
        known[(survey_id, version)] = parsed
    return parsed


def feedback_id(response_id: int) -> str:
    return f"survey:{response_id}"


def ingest_pending(
    *, session: Session, settings: Settings, limit: int = 500, batch: int = BATCH
) -> int:
    """Store up to ``limit`` completed, not yet ingested responses as feedback, ``batch`` rows
    per import run; returns how many were stored. Refused rows keep ``ingest_error`` and are
    tried again on the next run (after the never-tried ones). ``import_records`` commits as it
    goes: call it from an entry point's session (a job, the web app's drain thread), never
    inside a request's unit of work."""
    with _ONE_AT_A_TIME:
        return _ingest_pending(session, settings, limit, max(1, batch))


def _ingest_pending(session: Session, settings: Settings, limit: int, batch: int) -> int:
    stored = 0
    tried: set[int] = set()
    while stored + len(tried) < limit:
        rows = session.scalars(
            select(SurveyResponse)
            .where(OUTBOX)
            .where(SurveyResponse.id.not_in(tried) if tried else SurveyResponse.id.is_not(None))
            .order_by(SurveyResponse.ingest_error.is_not(None), SurveyResponse.id)
            .limit(min(batch, limit - stored - len(tried)))
        ).all()
        if not rows:
            break
        ids = [row.id for row in rows]
        tried.update(ids)
        records = [
            record(row, version_definition(session, row.survey_id, row.version)) for row in rows
        ]
        stored += _import(session, settings, ids, records)
    return stored


OUTBOX = or_(
    and_(
        SurveyResponse.status == "completed",
        SurveyResponse.feedback_id.is_(None),
        or_(SurveyResponse.origin.is_(None), SurveyResponse.step > 0),
    ),
    and_(
        SurveyResponse.status == "partial",
        SurveyResponse.feedback_id.is_(None),
        SurveyResponse.origin.is_not(None),
        SurveyResponse.step > 0,
    ),
)
"""In the outbox: completed answers given in cxloop, and imported responses (completed or
partial: the tool's own reports count a partial's answers) with at least one answer (an
imported row's ``step`` counts its answered questions). Two branches on (status,
feedback_id), so each is an index search, not a scan of every response."""


def _import(
    session: Session, settings: Settings, ids: list[int], records: list[dict[str, Any]]
) -> int:
    try:
        summary = ingest_service.import_records(
            session=session,
            settings=settings,
            kind="feedback",
            records=records,
            source_name=SOURCE,
        )
    except Exception as exc:  # the store or the engine failed: every row waits for a retry
        log.warning("survey responses not ingested: %s", type(exc).__name__)
        session.rollback()
        _mark(session, {i: f"{type(exc).__name__}: {exc}"[:2000] for i in ids}, stored=[])
        return 0
    refused = {
        ids[rejected.row - 1]: _reasons((p.field, p.value, p.reason) for p in rejected.problems)
        for rejected in summary.rejected
        if 0 < rejected.row <= len(ids)
    }
    if summary.quarantined > len(refused):  # the summary names the first 100: read the rest
        for row in ingest_service.list_quarantine(
            session=session, run_id=summary.run_id, limit=summary.quarantined
        ):
            if 0 < row.row_number <= len(ids):
                refused[ids[row.row_number - 1]] = _reasons(
                    (p.get("field"), p.get("value"), p.get("reason")) for p in row.problems
                )
    if summary.quarantined > len(refused):  # still not named: cannot tell which
        unnamed = "refused by ingest (see `cxloop import quarantine`)"
        return _mark(session, dict.fromkeys(ids, unnamed), stored=[])
    stored = [i for i in ids if i not in refused]
    return _mark(session, refused, stored=stored)


def _reasons(problems: Iterable[tuple[Any, Any, Any]]) -> str:
    return "; ".join(f"{field}: {value!r} {reason}" for field, value, reason in problems)[:2000]


def _mark(session: Session, errors: dict[int, str], *, stored: list[int]) -> int:
    rows = session.scalars(
        select(SurveyResponse).where(SurveyResponse.id.in_([*errors, *stored]))
    ).all()
    for row in rows:
        if row.id in errors:
            row.ingest_error = errors[row.id]
        else:
            row.feedback_id = feedback_id(row.id)
            row.ingest_error = None
    session.flush()
    return len(stored)


def record(row: SurveyResponse, definition: SurveyDefinition) -> dict[str, Any]:
    """The feedback row of one completed (or imported) response (the import's field names;
    the rest are kept as the row's attributes); dated when it was completed, else last saved
    (an imported row's times are the tool's)."""
    answers = row.answers or {}
    scores: dict[str, Any] = {}
    texts: list[str] = []
    for question in definition.questions:
        value = answers.get(question.id)
        if value is None:
            continue
        if question.type in ("nps", "csat", "ces") and question.type not in scores:
            scores[question.type] = value
        elif question.type == "text" and str(value).strip() and not question.labels_as_text:
            # not labels_as_text: an import's choice or scale kept as text holds labels (the
            # answer.<id> attribute has them), not the respondent's words
            texts.append(str(value).strip())
        other = answers.get(f"{question.id}.other")
        if other is not None and str(other).strip():  # "other, please specify" is voice too
            texts.append(f"{question.id}: {str(other).strip()}")
    completed = row.completed_at or row.updated_at
    return {
        **_imported(row),
        # ingest keys voice by source: source "survey" + id 12 is stored as "survey:12"
        "feedback_id": str(row.id),
        "channel": "survey",
        "source": SOURCE,
        "created_at": completed.isoformat(timespec="seconds") + "+00:00",
        "customer_id": row.customer_id,
        "contact_id": row.contact_id,
        "account_id": row.account_id,
        "language": row.language,
        "text": "\n".join(texts) or None,
        "nps": scores.get("nps"),
        "csat": scores.get("csat"),
        "ces": scores.get("ces"),
        "touchpoint": definition.touchpoint,
        "journey_stage": definition.journey_stage,
        "survey": row.survey_id,
        "survey_version": row.version,
        "distribution": row.distribution_id,
        "invitation": row.invitation_id,
        "role": row.role,
        **answer_attributes(answers),
    }


def _imported(row: SurveyResponse) -> dict[str, Any]:
    """What a response imported from another tool adds to its feedback row: the respondent's
    e-mail and phone (identity linking by ingest), name, IP and location (personal: masked by
    role), the tool, completion and collector; a customer id the tool carried that is not a
    stored customer is kept as ``external_reference``."""
    if row.origin is None:
        return {}
    meta = row.meta or {}
    extra = {
        "author_email": meta.get("email"),
        "author_phone": meta.get("phone"),
        "author": meta.get("name"),
        "imported_from": row.origin,
        "completed": "true" if row.status == "completed" else "false",
        "ip_address": meta.get("ip"),
        "geo_location": meta.get("location"),
        "collector": meta.get("channel"),
        "external_reference": None if row.customer_id else meta.get("external_reference"),
    }
    return {key: value for key, value in extra.items() if value is not None}


def answer_attributes(answers: dict[str, Any]) -> dict[str, str]:
    """Each answer as a flat ``answer.<id>`` attribute (ingest keeps extra columns as text, so a
    nested object would be stored as a JSON string): option ids comma-joined, a matrix row as
    ``answer.<id>.<row>``, an "other" text as ``answer.<id>.other``."""
    flat: dict[str, str] = {}
    for key, value in sorted(answers.items()):
        if value is None:
            continue
        if isinstance(value, dict):
            flat.update(
                {f"answer.{key}.{row}": str(v) for row, v in value.items() if v is not None}
            )
        elif isinstance(value, list):
            flat[f"answer.{key}"] = ",".join(str(v) for v in value)
        else:
            flat[f"answer.{key}"] = str(value)
    return flat


def answer_values(definition: SurveyDefinition, response: SurveyResponse) -> list[dict[str, Any]]:
    """One ``survey_answers`` row per answered question (a row per chosen option and per matrix
    row), as plain column values for one bulk INSERT (no unit-of-work objects)."""
    rows: list[dict[str, Any]] = []
    answers = response.answers

    def add(qid: str, item: str, number: float | None, text: str | None) -> None:
        rows.append(
            {
                "response_id": response.id,
                "question_id": qid,
                "item": item,
                "survey_id": response.survey_id,
                "version": response.version,
                "number": number,
                "text": text,
            }
        )

    for question in definition.questions:
        value = answers.get(question.id)
        if value is None:
            continue
        other = answers.get(f"{question.id}.other")
        if question.type == "matrix" and isinstance(value, dict):
            for row_id, number in value.items():
                add(question.id, str(row_id), float(number), None)
        elif question.type == "multiple" and isinstance(value, list):
            for option in value:
                note = other if other and _is_other(question, option) else None
                add(question.id, str(option), 1.0, note)
        elif question.type == "single":
            add(question.id, "", None, str(value))
            if other:
                add(question.id, str(value), None, other)
        elif question.type == "text":
            add(question.id, "", None, str(value))
        else:
            add(question.id, "", float(value), None)
    return rows


def _is_other(question: Question, option: str) -> bool:
    return any(o.id == option and o.other for o in question.options)


def warm_text_engine() -> None:
    """Load the text engine's models once (a second or more), so the first answer that reaches
    the metrics does not pay for it."""
    from cxloop.text.pipeline import analyze_batch
    from cxloop.text.taxonomy import shipped_taxonomy

    list(
        analyze_batch(
            iter(["送货很快，谢谢", "Fast delivery"]), workers=1, taxonomy=shipped_taxonomy()
        )
    )
