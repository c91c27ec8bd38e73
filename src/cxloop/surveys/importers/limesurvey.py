"""LimeSurvey response exports (CSV with ``;`` or ``,``, Excel) read into a ``ParsedExport``.

One header row in one of four styles — ``code`` (``Q1``, ``Q3[SQ001]``), old SGQA
(``<sid>X<gid>X<qid>SQ001``), ``codetext`` (``Q1 - text``) or ``full``/``abbreviated``
(``question [subquestion]``) — with the metadata first (``id``, ``submitdate``, ``lastpage``,
``startlanguage``, then optional seed, token, dates, IP, referrer) whose names are translated into
the exporting admin's language when headings are texts: they are read by code, by a known
translation, or by position (the first four never move). Answers are ``short`` (codes: decoded
with the survey's ``.lss``/``.lsa``, else kept raw) or ``long`` (texts). Pure: no database.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from cxloop.errors import Invalid
from cxloop.surveys.importers.common import blank, file_day_first, parse_time, person_name, zone
from cxloop.surveys.importers.limesurvey_answers import CODETEXT, SGQA, Column
from cxloop.surveys.importers.limesurvey_questions import build_questions
from cxloop.surveys.importers.lss import LssSurvey, read_definition
from cxloop.surveys.importers.model import (
    Grid,
    ImportedResponse,
    ImportOptions,
    ParsedExport,
    RowProblem,
)
from cxloop.surveys.importers.registry import DefinitionFile

META = (
    "id",
    "submitdate",
    "lastpage",
    "startlanguage",
    "seed",
    "token",
    "startdate",
    "datestamp",
    "ipaddr",
    "refurl",
)
_NAMES = {
    # English (application/helpers/common_helper.php createFieldMap: gT("Response ID") …)
    "responseid": "id",
    "datesubmitted": "submitdate",
    "lastpage": "lastpage",
    "startlanguage": "startlanguage",
    "seed": "seed",
    "token": "token",
    "accesscode": "token",
    "datestarted": "startdate",
    "datelastaction": "datestamp",
    "ipaddress": "ipaddr",
    "referrerurl": "refurl",
    "referringurl": "refurl",  # LimeSurvey 1.x
    "tokenid": "token",
    "completed": "submitdate",
    # Dutch
    "responsid": "id",
    "antwoordid": "id",
    "datumverstuurd": "submitdate",
    "laatstepagina": "lastpage",
    "starttaal": "startlanguage",
    "toegangscode": "token",
    "datumgestart": "startdate",
    "startdatum": "startdate",
    "datumlaatsteactie": "datestamp",
    "ipadres": "ipaddr",
    "verwijzendeurl": "refurl",
    # German
    "antwortid": "id",
    "datumabgeschickt": "submitdate",
    "letzteseite": "lastpage",
    "startsprache": "startlanguage",
    "zugangsschlüssel": "token",
    "zugangscode": "token",
    "datumgestartet": "startdate",
    "datumletzteaktivität": "datestamp",
    "ipadresse": "ipaddr",
    "verweisurl": "refurl",
    # Chinese
    "回复id": "id",
    "答复id": "id",
    "响应id": "id",
    "提交日期": "submitdate",
    "最后页面": "lastpage",
    "最后一页": "lastpage",
    "起始语言": "startlanguage",
    "开始语言": "startlanguage",
    "种子": "seed",
    "令牌": "token",
    "访问代码": "token",
    "开始日期": "startdate",
    "最后活动日期": "datestamp",
    "最后操作日期": "datestamp",
    "ip地址": "ipaddr",
    "来源url": "refurl",
    "引用url": "refurl",
}
_PARTICIPANT = {
    "firstname": "firstname",
    "lastname": "lastname",
    "email": "email",
    "emailaddress": "email",
    "voornaam": "firstname",
    "achternaam": "lastname",
    "emailadres": "email",
    "vorname": "firstname",
    "nachname": "lastname",
    "emailadresse": "email",
    "名": "firstname",
    "姓": "lastname",
    "电子邮件": "email",
}
_TIMING = re.compile(
    r"^(interviewtime|grouptime\d+|total time|group time:.*|question time:.*|totale tijd|"
    r"groepstijd:.*|vraagtijd:.*|gesamtzeit|gruppenzeit:.*|fragenzeit:.*|总时间|组时间.*|问题时间.*)$",
    re.IGNORECASE,
)
_LANG = re.compile(r"^[a-z]{2,3}(?:-[A-Za-z]{2,4})*$")
_STAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d(?::\d\d)?$")
_TOKEN = re.compile(r"^(?=.*[A-Za-z])(?=.*\d)[A-Za-z0-9_~-]{5,36}$")
"""A participant access code: letters and digits, no spaces (LimeSurvey makes 15 random ones)."""
_FIRST_FOUR = ("id", "submitdate", "lastpage", "startlanguage")
_NO_SUBMIT = "1980-01-01 00:00:00"
"""LimeSurvey's submitdate when a survey stores no dates (complete, time unknown)."""


def _key(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold()
    return re.sub(r"[\s_\-./]+", "", folded)


@dataclass(frozen=True)
class Layout:
    """How the header row is written, and which column holds which metadata field."""

    style: str
    """``code``, ``sgqa``, ``codetext`` or ``full``."""
    meta: dict[str, int]
    participant: dict[str, int]
    timings: list[int]
    questions: list[Column]
    language: str
    """The metadata headings' language in words (``English``, ``Dutch``…, ``codes``)."""


def detect(grid: Grid) -> float:
    """0..1 from the header row: LimeSurvey's metadata names (codes or a known translation) in
    the first columns, in its own order."""
    if not grid.rows or len(grid.rows[0]) < 3:
        return 0.0
    head = [_meta_name(h) for h in grid.rows[0][:4]]
    if head[:2] == ["id", "submitdate"] and len(grid.rows[0]) > 3:
        return 0.95 if head[2:4] == ["lastpage", "startlanguage"] else 0.7
    return 0.8 if len(grid.rows[0]) > 4 and _by_values(grid) else 0.0


def _by_values(grid: Grid) -> bool:
    """Metadata names in a language not listed here: the first four columns' values decide
    (numeric ids, submit times or empty, page numbers, language codes such as ``zh-Hans``)."""
    rows = [r for r in grid.rows[1:201] if any(c.strip() for c in r)]
    if not rows or any(len(r) < 4 for r in rows):
        return False
    langs = [r[3].strip() for r in rows if r[3].strip()]
    return (
        bool(langs)
        and all(r[0].strip().isdigit() for r in rows)
        and all(not r[2].strip() or r[2].strip().lstrip("-").isdigit() for r in rows)
        and all(_LANG.match(v) for v in langs)
        and all(not r[1].strip() or _STAMP.match(r[1].strip()) for r in rows)
    )


def _meta_name(header: str) -> str | None:
    text = header.strip()
    match = CODETEXT.match(text)
    if match and match.group(1) in META:
        return match.group(1)
    if text in META:
        return text
    return _NAMES.get(_key(text))


def layout(grid: Grid) -> Layout:
    """Classify every header cell; ``Invalid`` when the first columns are not LimeSurvey's."""
    header = grid.rows[0] if grid.rows else []
    if detect(grid) < 0.5:
        raise Invalid(
            "the first columns are not LimeSurvey's metadata (id / Response ID, submitdate / "
            "Date submitted, lastpage, startlanguage)",
            "header",
            " | ".join(header[:4]),
        )
    first = header[0].strip()
    match = CODETEXT.match(first)
    style = "code" if first == "id" else "codetext" if match and match.group(1) == "id" else "full"
    meta: dict[str, int] = {}
    participant: dict[str, int] = {}
    timings: list[int] = []
    end = len(header)
    while end > 4 and _timing(header, end - 1):
        end -= 1
        timings.insert(0, end)
    position = 0
    for index in range(end):
        name = _meta_name(header[index])
        if index < 4:
            name = _FIRST_FOUR[index]
        if name in META and name not in meta and index == position:
            meta[name] = index
            position += 1
            continue
        person = _PARTICIPANT.get(_key(_code_part(header[index], style)))
        if person and index == position:
            participant[person] = index
            position += 1
            continue
        guess = _looks_meta(grid, index, meta) if style == "full" else None
        if index == position and guess:
            meta[guess] = index
            position += 1
            continue
        break
    questions = [Column.parse(i, header[i], style) for i in range(position, end)]
    if style == "code" and questions and all(SGQA.match(c.header) for c in questions):
        style = "sgqa"
        questions = [Column.parse(c.index, c.header, style) for c in questions]
    language = "codes" if style in ("code", "sgqa", "codetext") else _language(header[:4])
    return Layout(style, meta, participant, timings, questions, language)


def _timing(header: list[str], index: int) -> bool:
    """LimeSurvey's timings (last columns): ``interviewtime``, ``groupTime12``, ``Q1Time`` (only
    when a column ``Q1`` exists), or their text headings (``Total time``, ``Question time: Q1``)."""
    name = header[index].strip()
    if _TIMING.match(name):
        return True
    codes = {h.strip().split("[", 1)[0] for h in header}
    return name.endswith("Time") and name[:-4] in codes


def _code_part(header: str, style: str) -> str:
    if style == "codetext":
        match = CODETEXT.match(header.strip())
        return match.group(1) if match else header
    return header


def _looks_meta(grid: Grid, index: int, meta: dict[str, int]) -> str | None:
    """An optional metadata column under an unknown translation, told by its values."""
    values = [r[index].strip() for r in grid.rows[1:] if index < len(r) and r[index].strip()]
    if not values:
        return None
    if index == 4 and all(re.fullmatch(r"\d{5,}", v) for v in values):
        return "seed"
    early = not meta.keys() & {"token", "startdate", "datestamp", "ipaddr", "refurl"}
    if early and len(set(values)) == len(values) and all(_TOKEN.match(v) for v in values):
        return "token"
    if all(_STAMP.match(v) for v in values):
        return "startdate" if "startdate" not in meta else "datestamp"
    if all(re.fullmatch(r"\d{1,3}(?:\.\d{1,3}){3}|[0-9a-fA-F]*:[0-9a-fA-F:]+", v) for v in values):
        return "ipaddr" if "ipaddr" not in meta else None
    if all(re.fullmatch(r"https?://\S+", v) for v in values):
        return "refurl"
    return None


def _language(first: list[str]) -> str:
    joined = _key("".join(first))
    for words, name in (
        (("responseid", "datesubmitted"), "English"),
        (("respons", "verstuurd", "laatste"), "Dutch"),
        (("antwort", "abgeschickt", "letzte"), "German"),
        (("提交", "页面", "语言"), "Chinese"),
    ):
        if any(w in joined for w in words):
            return name
    return ""


def parse(
    grid: Grid, options: ImportOptions, definition: DefinitionFile | None = None
) -> ParsedExport:
    """Read a LimeSurvey export; with ``definition`` (``.lss``/``.lsa``) codes are decoded."""
    found = layout(grid)
    survey: LssSurvey | None = None
    if definition is not None:
        survey = read_definition(definition.name, definition.data)
    tz = zone(None, options.timezone)
    rows = grid.rows[1:]
    built = build_questions(found.questions, rows, survey, found.style)
    options, order_note = _date_order(found, rows, grid.rows[0], options)
    responses: list[ImportedResponse] = []
    rejected: list[RowProblem] = []
    id_col = found.meta["id"]
    header = grid.rows[0]
    for offset, cells in enumerate(rows):
        row_no = offset + 2
        if not any(c.strip() for c in cells):
            continue
        cell = _getter(cells)
        raw = {header[i]: cells[i] for i in range(min(len(header), len(cells))) if cells[i]}
        response_id = cell(id_col).strip()
        problems: list[RowProblem] = []
        if not response_id:
            problems.append(RowProblem(row_no, header[id_col], None, "has no response id", raw=raw))
        answers, answer_problems, kept = built.decode(cells)
        problems += [
            RowProblem(row_no, p.field, p.value, p.reason, raw=raw) for p in answer_problems
        ]
        if problems:
            rejected.extend(problems)
            continue
        responses.append(_response(found, cell, row_no, response_id, answers, kept, tz, options))
    notes = list(built.notes) + ([order_note] if order_note else [])
    if any(r.attributes.get("submitdate_raw") == _NO_SUBMIT for r in responses):
        notes.append(
            "submitdate 1980-01-01 00:00:00: the survey stored no dates (the response is "
            "complete; its time is unknown)"
        )
    if "seed" in found.meta:
        notes.append("seed (LimeSurvey's randomisation seed) left out")
    if found.timings:
        notes.append(
            f"{len(found.timings)} timing column(s) left out (the first, the total time, kept as "
            "attribute interview_time)"
        )
    return ParsedExport(
        tool="limesurvey",
        layout=_layout_words(found, grid),
        value_mode=built.value_mode,
        title=survey.title if survey else _title(grid.name),
        questions=built.questions,
        responses=responses,
        source_survey_id=survey.sid if survey else _sid(grid.name),
        timezone=tz.key,
        rejected=rejected,
        notes=notes,
        mapped=_mapped(found, header),
        kept_raw=built.kept_raw,
    )


Cell = Callable[[int | None], str]


def _getter(cells: list[str]) -> Cell:
    """A row's cell by column (empty past the row's end; LimeSurvey's ``'=`` equation mask
    removed)."""

    def cell(index: int | None) -> str:
        if index is None or index >= len(cells):
            return ""
        value = cells[index]
        return value[1:] if value.startswith("'=") else value

    return cell


def _date_order(
    found: Layout, rows: list[list[str]], header: list[str], options: ImportOptions
) -> tuple[ImportOptions, str | None]:
    """One day/month order for the file's dates (an Excel re-save writes ``2/11/23 10:15``): the
    stated one, else what a date over 12 shows, else month-first; a note when all read both ways."""
    columns = [found.meta[k] for k in ("submitdate", "datestamp", "startdate") if k in found.meta]
    day_first, note = file_day_first(
        (_getter(r)(i) for i in columns for r in rows),
        [header[i] for i in columns],
        options.day_first,
    )
    return dataclasses.replace(options, day_first=day_first), note


def _response(
    found: Layout,
    cell: Cell,
    row_no: int,
    response_id: str,
    answers: dict[str, Any],
    kept: dict[str, str],
    tz: ZoneInfo,
    options: ImportOptions,
) -> ImportedResponse:
    meta = found.meta
    submitted_raw = cell(meta.get("submitdate")).strip()
    stamp_raw = cell(meta.get("datestamp")).strip()
    start_raw = cell(meta.get("startdate")).strip()
    completed = not blank(submitted_raw)
    submitted = None
    if completed and submitted_raw != _NO_SUBMIT:
        submitted = parse_time(submitted_raw, tz, day_first=options.day_first)
    elif not completed and stamp_raw:
        submitted = parse_time(stamp_raw, tz, day_first=options.day_first)
    attributes = dict(kept)
    for name, key in (
        ("submitdate_raw", submitted_raw),
        ("start_date_raw", start_raw),
        ("end_date_raw", stamp_raw),
        ("last_page", cell(meta.get("lastpage")).strip()),
        ("token", cell(meta.get("token")).strip()),
        ("referrer_url", cell(meta.get("refurl")).strip()),
        ("interview_time", cell(found.timings[0]).strip() if found.timings else ""),
    ):
        if key:
            attributes[name] = key
    if submitted_raw:
        attributes["submitted_raw"] = submitted_raw
    start_language = cell(meta.get("startlanguage")).strip()
    if start_language:
        attributes["start_language"] = start_language
    first, last = (cell(found.participant.get(k)) for k in ("firstname", "lastname"))
    return ImportedResponse(
        row=row_no,
        response_id=response_id,
        answers=answers,
        completed=completed,
        started_at=parse_time(start_raw, tz, day_first=options.day_first) if start_raw else None,
        submitted_at=submitted,
        language=_lang(start_language),
        email=cell(found.participant.get("email")).strip() or None,
        name=person_name(first, last),
        ip=cell(meta.get("ipaddr")).strip() or None,
        attributes=attributes,
    )


def _lang(code: str) -> str | None:
    low = code.strip().lower()
    if low.startswith("zh"):
        return "zh"
    if low.startswith("en"):
        return "en"
    return None


def _layout_words(found: Layout, grid: Grid) -> str:
    style = {
        "code": "code headings",
        "sgqa": "SGQA headings (old export)",
        "codetext": "code and text headings",
        "full": "text headings",
    }[found.style]
    where = f"{grid.file_format}"
    if grid.delimiter:
        where += f" '{grid.delimiter}'"
    language = (
        ""
        if found.language == "codes"
        else f", {found.language} metadata names"
        if found.language
        else ", metadata names read by position and values"
    )
    return f"{style}{language} ({where})"


def _mapped(found: Layout, header: list[str]) -> dict[str, str]:
    meaning = {
        "id": "response id",
        "submitdate": "submitted_at and completed (empty = partial)",
        "lastpage": "attribute last_page",
        "startlanguage": "language (zh-Hans → zh, en → en)",
        "token": "attribute token (participant access code)",
        "startdate": "started_at",
        "datestamp": "submitted_at of a partial (last action)",
        "ipaddr": "ip (personal)",
        "refurl": "attribute referrer_url",
        "seed": "left out",
    }
    out = {header[i]: meaning[name] for name, i in found.meta.items()}
    people = {"email": "email (personal)", "firstname": "name (personal)", "lastname": "name"}
    out.update({header[i]: people[name] for name, i in found.participant.items()})
    return out


def _sid(name: str) -> str | None:
    match = re.search(r"survey_?(\d{3,})", name)
    return match.group(1) if match else None


def _title(name: str) -> str:
    sid = _sid(name)
    return f"LimeSurvey {sid}" if sid else (name.rsplit(".", 1)[0] or "LimeSurvey export")
