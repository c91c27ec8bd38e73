"""A survey's answers in one documented shape (``cxloop surveys responses``, the API's
``/surveys/{id}/responses``): JSON or CSV, labels instead of option ids, personal data in text
answers masked for roles without ``read_pii``.

Every response is read against the version it answered, so an answer given before a question's
options changed still shows the label it was given with. The output is ordered (responses by
time, then id, then tool; answers in question order), so two stores holding the same answers
export the same bytes: the check that two value modes of a tool's export import alike.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections import Counter
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.csv_cells import safe_cell
from cxloop.privacy.masking import mask_value
from cxloop.surveys import service as surveys_service
from cxloop.surveys.definitions import Question, SurveyDefinition
from cxloop.surveys.models import SurveyResponse
from cxloop.surveys.response_feedback import feedback_id, version_definition

OTHER = ".other"
"""``<question id>.other``: the text of an "other, please specify" choice."""
LIST_SEPARATOR = " | "
"""How a multiple choice's labels are joined in a CSV cell."""


class ExportedQuestion(BaseModel):
    """A question as exported: ``options`` are the option labels (single/multiple) or the row
    labels (matrix), in the definition's order; empty for other types."""

    id: str
    text: str
    type: str
    options: list[str] = Field(default_factory=list)


class ExportedResponse(BaseModel):
    """One response: ``response_id`` is the tool's own id for an imported response, cxloop's
    ``survey:<n>`` otherwise; ``submitted_at`` is ISO 8601 in UTC with its offset."""

    response_id: str
    submitted_at: str
    completed: bool
    answers: dict[str, Any]


class ResponsesExport(BaseModel):
    """``{"survey", "questions", "responses"}``: the shape of every answer export."""

    survey: str
    questions: list[ExportedQuestion]
    responses: list[ExportedResponse]


def responses(
    *,
    session: Session,
    survey_id: str,
    completed_only: bool = False,
    reveal_pii: bool = True,
) -> ResponsesExport:
    """Every response of ``survey_id`` (only completed ones with ``completed_only``); raises
    ``NotFound`` for a survey that is not stored."""
    read = surveys_service.get(session=session, survey_id=survey_id)
    query = select(SurveyResponse).where(SurveyResponse.survey_id == survey_id)
    if completed_only:
        query = query.where(SurveyResponse.status == "completed")
    rows = session.scalars(query).all()
    versions = {read.current_version, *(row.version for row in rows)}
    definitions = {
        number: version_definition(session, survey_id, number)
        for number in sorted(versions, reverse=True)
    }
    shown = [(row, _response(row, definitions[row.version], reveal_pii=reveal_pii)) for row in rows]
    # one tool's id may be another's (LimeSurvey and 问卷星 both count 1, 2, 3): the stored
    # key, unique in the survey, settles a tie, never the order the store returns rows in
    shown.sort(key=lambda pair: (pair[1].submitted_at, pair[1].response_id, _key(pair[0])))
    exported = [  # ordered by the real ids first, so masked ids keep the same order
        r if reveal_pii else r.model_copy(update={"response_id": _masked_id(r.response_id, row)})
        for row, r in shown
    ]
    return ResponsesExport(
        survey=survey_id,
        questions=_questions(list(definitions.values())),
        responses=exported,
    )


def _questions(definitions: list[SurveyDefinition]) -> list[ExportedQuestion]:
    """The current version's questions in order, then those only older versions asked."""
    seen: dict[str, ExportedQuestion] = {}
    for definition in definitions:  # newest first
        language = definition.default_language
        for q in definition.questions:
            if q.id not in seen:
                seen[q.id] = ExportedQuestion(
                    id=q.id,
                    text=q.text.get(language),
                    type=q.type,
                    options=list(labels(_choices(q), language).values()),
                )
    return list(seen.values())


def _choices(question: Question) -> list[Any]:
    if question.type == "matrix":
        return list(question.rows)
    if question.type in ("single", "multiple"):
        return list(question.options)
    return []


def _response(
    row: SurveyResponse, definition: SurveyDefinition, *, reveal_pii: bool
) -> ExportedResponse:
    when = row.completed_at or row.updated_at or row.started_at
    return ExportedResponse(
        response_id=_response_id(row),
        submitted_at=_iso(when),
        completed=row.status == "completed",
        answers=shown_answers(definition, row.answers or {}, reveal_pii=reveal_pii),
    )


def _response_id(row: SurveyResponse) -> str:
    """The tool's id for an imported row (``external_id`` is ``<tool>:<id>``)."""
    if row.external_id:
        return row.external_id.partition(":")[2] or row.external_id
    return feedback_id(row.id)


def _key(row: SurveyResponse) -> str:
    return row.external_id or feedback_id(row.id)


def _masked_id(response_id: str, row: SurveyResponse) -> str:
    """A response id that is personal data, masked: the id an import took from the e-mail,
    phone or name column (``--columns`` with ``id_column`` = ``email_column``), or one that
    reads as an e-mail address, phone or ID number as a whole."""
    meta = row.meta if isinstance(row.meta, dict) else {}
    personal = {str(meta[k]).strip().casefold() for k in ("email", "phone", "name") if meta.get(k)}
    if response_id.strip().casefold() in personal:
        return str(mask_value("value", response_id))
    return _text(response_id, reveal_pii=False)


def _iso(moment: dt.datetime) -> str:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    return aware.astimezone(dt.UTC).isoformat(timespec="seconds")


def shown_answers(
    definition: SurveyDefinition, answers: dict[str, Any], *, reveal_pii: bool = True
) -> dict[str, Any]:
    """Stored answers (option ids) as exported: labels, numbers, text; keys in question order
    (a key no question of ``definition`` has is kept as stored, after the others)."""
    language = definition.default_language
    shown: dict[str, Any] = {}
    for q in definition.questions:
        value = answers.get(q.id)
        if value is not None:
            shown[q.id] = _value(q, value, language, reveal_pii)
        other = answers.get(q.id + OTHER)
        if other is not None and str(other).strip():
            shown[q.id + OTHER] = _text(str(other), reveal_pii)
    for key in sorted(set(answers) - set(shown)):
        if answers[key] is not None and not _known(definition, key):
            value = answers[key]  # a question no version defines: free text may be personal
            shown[key] = _text(value, reveal_pii) if isinstance(value, str) else value
    return shown


def _known(definition: SurveyDefinition, key: str) -> bool:
    return any(key in (q.id, q.id + OTHER) for q in definition.questions)


def _value(question: Question, value: Any, language: str, reveal_pii: bool) -> Any:
    kind = question.type
    if kind in ("nps", "csat", "ces", "rating"):
        return number(value)
    if kind == "single":
        return _label(question.options, value, language)
    if kind == "multiple" and isinstance(value, list):
        order = {o.id: n for n, o in enumerate(question.options)}
        chosen = sorted(value, key=lambda v: (order.get(str(v), len(order)), str(v)))
        return [_label(question.options, v, language) for v in chosen]
    if kind == "matrix" and isinstance(value, dict):
        order = {o.id: n for n, o in enumerate(question.rows)}
        cells = sorted(value.items(), key=lambda kv: (order.get(str(kv[0]), len(order)), kv[0]))
        return {_label(question.rows, k, language): number(v) for k, v in cells if v is not None}
    if kind == "text":
        return _text(str(value), reveal_pii)
    return value


def _label(choices: list[Any], code: Any, language: str) -> str:
    """An option's (or a matrix row's) label; an id no longer defined is shown as stored."""
    return labels(choices, language).get(str(code), str(code))


def labels(choices: list[Any], language: str) -> dict[str, str]:
    """Option (or matrix row) id → the label shown; a label two choices share gets its id
    added (``Other (o2)``), so a matrix's ``{row label: value}`` never loses a row."""
    texts = [str(c.text.get(language)) for c in choices]
    seen = Counter(texts)
    return {
        c.id: text if seen[text] == 1 else f"{text} ({c.id})"
        for c, text in zip(choices, texts, strict=True)
    }


def number(value: Any) -> Any:
    """A score as a number, an int when integral (9, not 9.0); anything else as stored."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _text(value: str, reveal_pii: bool) -> str:
    """A free-text answer, with e-mail addresses, phone and ID numbers masked unless the
    reader may see personal data (the text engine's spans, as feedback search masks them)."""
    if reveal_pii or not value:
        return value
    from cxloop.text.pii import find_pii

    for span in sorted(find_pii(value), key=lambda s: s.start, reverse=True):
        masked = mask_value("value", value[span.start : span.end])
        value = value[: span.start] + str(masked) + value[span.end :]
    return value


# --- serialised ------------------------------------------------------------------------------


def to_json(export: ResponsesExport) -> str:
    """The export as indented JSON (UTF-8 text, not escaped), one trailing newline."""
    return json.dumps(export.model_dump(mode="json"), ensure_ascii=False, indent=2) + "\n"


def to_csv(export: ResponsesExport) -> str:
    """One row per response: ``response_id, submitted_at, completed``, then a column per
    question (a matrix: one per row, ``<id>[<row label>]``; a multiple choice's labels joined
    by `` | ``; ``<id>.other`` after a question whose "other" text was given). A cell that a
    spreadsheet would run as a formula (``=…``, ``+…``, ``-…``, ``@…``) starts with ``'``
    (``csv_cells.safe_cell``, OWASP's rule); numbers such as ``-5`` stay numbers."""
    columns = ["response_id", "submitted_at", "completed"]
    others = {k for r in export.responses for k in r.answers if k.endswith(OTHER)}
    cells_of: list[tuple[str, str, str | None]] = []  # (column, answer key, matrix row)
    for q in export.questions:
        if q.type == "matrix":
            cells_of += [(f"{q.id}[{row}]", q.id, row) for row in q.options]
        else:
            cells_of.append((q.id, q.id, None))
        if q.id + OTHER in others:
            cells_of.append((q.id + OTHER, q.id + OTHER, None))
    columns += [c for c, _, _ in cells_of]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([safe_cell(c) for c in columns])
    for r in export.responses:
        line = [r.response_id, r.submitted_at, "true" if r.completed else "false"]
        for _, key, row in cells_of:
            value = r.answers.get(key)
            if row is not None:
                value = value.get(row) if isinstance(value, dict) else None
            line.append(_cell(value))
        writer.writerow([safe_cell(c) for c in line])
    return out.getvalue()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return LIST_SEPARATOR.join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
