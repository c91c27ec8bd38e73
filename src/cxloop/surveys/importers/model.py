"""What every tool's reader turns an export into, before anything touches the store.

Pure: no database. Each tool module (``qualtrics``, ``surveymonkey``, ``limesurvey``,
``formbricks``, ``wjx``, ``wenjuan``) reads a ``Grid`` (and an optional definition file) into one
``ParsedExport``: the questions as cxloop would define them, every response with its answers in
cxloop's answer format, and what was left out or kept raw — so matching, storing and reporting are
written once, not once per tool.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

Tool = Literal["qualtrics", "surveymonkey", "limesurvey", "formbricks", "wjx", "wenjuan"]
TOOLS: tuple[Tool, ...] = get_args(Tool)
QuestionKind = Literal["nps", "csat", "ces", "rating", "single", "multiple", "matrix", "text"]
CodeKind = Literal["labels", "tool_codes", "positions"]
"""How a choice question's answers are written in the file: ``labels`` (decoded), the tool's own
codes (Qualtrics recodes, LimeSurvey answer codes: decodable only with the definition file) or
1-based option positions (问卷星 按选项序号: decodable against an ordered option list)."""


@dataclass(frozen=True)
class Grid:
    """A whole export as text cells, every row as read (header rows included): tools are told
    apart and header rows counted from the content, never from the user."""

    rows: list[list[str]]
    file_format: Literal["csv", "tsv", "xlsx", "xls"]
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    name: str = ""
    """The file's name (for messages and a default survey id)."""


@dataclass
class Choice:
    """An option of a single/multiple question (``code``: the tool's code or position as text,
    ``label``: the text a respondent saw; equal when only one is known)."""

    code: str
    label: str
    other: bool = False
    """"Other, please specify": its text goes to ``answers["<qid>.other"]``."""


@dataclass
class ImportedQuestion:
    """One question as cxloop will define it.

    ``id`` is a cxloop identifier (``^[A-Za-z_][A-Za-z0-9_]*$``, ≤ 64) that is the same in both
    value modes of a tool (built from the export tag, the code header or the position, never from
    a label). ``options`` hold choices (single/multiple); ``rows`` a matrix's statements (row ids
    are ASCII identifiers unique across the survey: they name drivers) rated on ``scale``.
    """

    id: str
    text: str
    kind: QuestionKind
    source: str
    """Where it came from in the file, for the summary: ``Q7 (ImportId QID7)``, ``column 12``."""
    options: list[Choice] = field(default_factory=list)
    rows: list[Choice] = field(default_factory=list)
    scale: tuple[int, int] | None = None
    """Lowest and highest number of a rating/nps/csat/ces or a matrix's scale, as answered."""
    codes: CodeKind = "labels"
    decoded: bool = True
    """False when answers are the tool's codes and nothing could decode them (kept raw: the
    options are then the codes themselves, and the summary says so)."""
    notes: list[str] = field(default_factory=list)


@dataclass
class ImportedResponse:
    """One respondent's row, decoded.

    ``answers`` use cxloop's answer format (as ``survey_responses.answers``): a number for
    nps/csat/ces/rating, an option code for single (plus ``"<qid>.other"`` text), a list of
    option codes for multiple, ``{row code: number}`` for a matrix, a string for text. A question
    not asked, skipped or not answered is absent (never ``None``, never ``""``).
    """

    row: int
    """1-based line/row number in the file (header rows counted), for quarantine messages."""
    response_id: str
    """The tool's own id (ResponseId, Respondent ID, id, Response ID, 序号): the idempotency key."""
    answers: dict[str, Any]
    completed: bool
    started_at: dt.datetime | None = None
    submitted_at: dt.datetime | None = None
    """Aware datetimes (UTC or the file's zone); the raw strings are in ``attributes``."""
    language: str | None = None
    """zh or en when the file says (UserLanguage, startlanguage); else None."""
    email: str | None = None
    phone: str | None = None
    external_reference: str | None = None
    """A customer id the tool carried (Qualtrics ExternalReference, custom data, a token)."""
    name: str | None = None
    ip: str | None = None
    location: str | None = None
    """Personal data (masked by role): ``lat,lon`` or the place the tool wrote (``上海-上海``)."""
    channel: str | None = None
    """The tool's distribution channel or collector (``email``, ``anonymous``, ``微信``)."""
    attributes: dict[str, str] = field(default_factory=dict)
    """Everything else worth keeping: embedded data, hidden fields, custom data, raw times."""


@dataclass(frozen=True)
class RowProblem:
    """A row the import refuses: which field, which value, why (goes to quarantine)."""

    row: int
    field: str
    value: str | None
    reason: str
    raw: dict[str, str] = dataclasses.field(default_factory=dict)


@dataclass
class ParsedExport:
    """Everything read from one export."""

    tool: Tool
    layout: str
    """The layout recognised, in words: ``current (3 header rows)``, ``legacy (2 header rows)``,
    ``expanded``, ``code headings``, ``Dutch headings``, ``按选项序号``…"""
    value_mode: str
    """``numeric``, ``choice text``, ``codes``, ``full text``, ``按选项文本``…"""
    title: str
    questions: list[ImportedQuestion]
    responses: list[ImportedResponse]
    source_survey_id: str | None = None
    """The tool's survey id when the file or definition says (SurveyID, sid)."""
    timezone: str | None = None
    """The zone the file states (Qualtrics row 3), else the one the times were read in."""
    excluded: dict[str, int] = field(default_factory=dict)
    """Rows left out on purpose, by reason (``preview``, ``spam``): counted, not stored."""
    rejected: list[RowProblem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """Sentences for the user: what was kept raw and why, what a definition file would add."""
    mapped: dict[str, str] = field(default_factory=dict)
    """Metadata column → what it became (``IPAddress → ip (personal)``), for the summary."""
    kept_raw: list[str] = field(default_factory=list)
    """Columns kept only as attributes or not decoded, for the summary."""

    def keep(
        self,
        response: ImportedResponse,
        problems: list[RowProblem],
        *,
        id_field: str,
        seen: dict[str, int],
        raw: dict[str, str],
    ) -> None:
        """Add ``response``, or refuse its row with every problem found (a response id already
        kept on an earlier row among them), the row's cells kept for the quarantine."""
        rid = response.response_id
        if rid and rid in seen:
            reason = f"appears twice (rows {seen[rid]} and {response.row})"
            problems = [*problems, RowProblem(response.row, id_field, rid, reason)]
        if problems:
            self.rejected += [RowProblem(p.row, p.field, p.value, p.reason, raw) for p in problems]
            return
        seen[rid] = response.row
        self.responses.append(response)


@dataclass(frozen=True)
class ImportOptions:
    """What the user may state; everything else is read from the file."""

    timezone: str = "Asia/Shanghai"
    """The zone for times the file does not state (settings.timezone by default)."""
    timezone_stated: bool = False
    """True when the user named ``timezone`` (--timezone): a tool whose exports default to a
    zone of their own (Formbricks: UTC) uses that default only when the user stated none."""
    day_first: bool | None = None
    """For ambiguous dates like 03/04/2024 (None: decide from the file's own values)."""
    columns: dict[str, Any] | None = None
    """问卷网 / unknown layouts: the column mapping the user confirmed (see ``wenjuan``)."""
