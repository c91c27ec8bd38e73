"""Formbricks response exports (CSV or XLSX from the Responses view) read into a ``ParsedExport``.

One header row: fixed columns (``No.``, ``Response ID``, ``Timestamp``, ``Finished``…), metadata,
then questions ``"<n>. <headline>"`` (choice and ranking questions have a second column
``"<n>. <headline> - Option ID"`` in newer versions; a matrix has one column per row), then
variables, hidden fields and contact attributes. The file states no question types, so they are
read from the values (numbers + wording → NPS/CSAT/CES, Option IDs → choices) alike for the CSV
and the XLSX, with and without Option ID columns. Pure: no store.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePath
from zoneinfo import ZoneInfo

from cxloop.errors import Invalid
from cxloop.surveys.importers.common import (
    file_day_first,
    identifier,
    parse_time,
    time_problem,
    zone,
)
from cxloop.surveys.importers.formbricks_values import (
    Reading,
    answer,
    cell,
    choice_like,
    kv_lines,
    numeric_scale,
    split_choice,
)
from cxloop.surveys.importers.model import (
    Choice,
    Grid,
    ImportedQuestion,
    ImportedResponse,
    ImportOptions,
    ParsedExport,
    RowProblem,
)

FIXED = ("No.", "Response ID", "Timestamp", "Finished", "Survey ID", "Formbricks ID (internal)")
_QUESTION = re.compile(r"^(\d+)\. (.*)$", re.DOTALL)
_OPTION_ID = " - Option ID"
_DEFANG = re.compile(r"^'(?=[=+\-@\t\r])")
_OLD_DATE = re.compile(r"^[A-Z][a-z]{2} [A-Z][a-z]{2} \d{2} \d{4}$")
_RANK_WORDS = ("rank", "order of", "排序", "排名", "顺序", "rangschik")
_PERSONAL = ("external_reference", "channel", "location", "ip", "email", "phone")
_FLAGS = {"clicked", "dismissed", "accepted", "booked"}
_FIELD_KEYS = {
    "addressline1", "addressline2", "city", "state", "zip", "country",
    "firstname", "lastname", "email", "phone", "company",
}  # fmt: skip

# Metadata columns (casefolded) → (what they become, attribute key).
_META: dict[str, tuple[str, str]] = {
    "no.": ("skip", ""),
    "response id": ("id", ""),
    "timestamp": ("time", ""),
    "finished": ("finished", ""),
    "survey id": ("survey", ""),
    "formbricks id (internal)": ("attr", "formbricks_contact_id"),
    "user id": ("external_reference", ""),
    "notes": ("attr", "notes"),
    "tags": ("attr", "tags"),
    "quotas": ("attr", "quotas"),
    "url": ("attr", "url"),
    "source": ("channel", ""),
    "action": ("attr", "action"),
    "country": ("location", ""),
    "useragent - browser": ("attr", "browser"),
    "useragent - os": ("attr", "os"),
    "useragent - device": ("attr", "device"),
    "browser": ("attr", "browser"),
    "os": ("attr", "os"),
    "device": ("attr", "device"),
    "ipaddress": ("ip", ""),
    "ip address": ("ip", ""),
    "verified email": ("email", ""),
    "person.email": ("email", ""),
    "person.phone": ("phone", ""),
}
_MEANING = {
    "id": "response id",
    "time": "submitted_at",
    "finished": "completed (Yes/No)",
    "survey": "source survey id",
    "external_reference": "external_reference (customer id)",
    "channel": "channel",
    "location": "location (personal)",
    "ip": "ip (personal)",
    "email": "email (personal)",
    "phone": "phone (personal)",
}


def defang(text: str) -> str:
    """Undo Formbricks' formula defanging: a leading ``'`` before ``= + - @ TAB CR`` only."""
    return _DEFANG.sub("", text, count=1)


def detect(grid: Grid) -> float:
    """How sure the header row is a Formbricks export, from its fixed leading columns."""
    if not grid.rows:
        return 0.0
    header = [defang(c).strip() for c in grid.rows[0]]
    if "Formbricks ID (internal)" in header and "Response ID" in header:
        return 1.0
    hits = sum(1 for name in FIXED if name in header)
    return 0.9 if hits >= 5 else min(0.3, 0.05 * hits)


@dataclass
class _Plan:
    """The questions and, per question, how its cells become an answer."""

    questions: list[ImportedQuestion] = field(default_factory=list)
    readings: list[Reading] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, question: ImportedQuestion, reading: Reading) -> None:
        self.questions.append(question)
        self.readings.append(reading)


def parse(grid: Grid, options: ImportOptions, definition: object | None = None) -> ParsedExport:
    """Read a Formbricks export; ``Invalid`` when the header row is not a Formbricks one."""
    if definition is not None:
        name = getattr(definition, "name", "")
        raise Invalid(
            "Formbricks has no definition file: import the export alone", "--definition", name
        )
    header = [defang(c).strip() for c in grid.rows[0]] if grid.rows else []
    missing = [name for name in ("Response ID", "Timestamp") if name not in header]
    if missing:
        raise Invalid(
            f"is not a Formbricks export: no {' or '.join(repr(m) for m in missing)} column "
            f"(first columns: {', '.join(header[:6]) or 'none'})",
            "file",
            grid.name,
        )
    body = [[defang(c) for c in row] for row in grid.rows[1:]]
    meta: dict[int, tuple[str, str]] = {}
    groups: dict[int, list[tuple[int, str]]] = {}
    others: list[int] = []
    for index, name in enumerate(header):
        match = _QUESTION.match(name)
        if name.casefold() in _META:
            meta[index] = _META[name.casefold()]
        elif match:
            groups.setdefault(int(match.group(1)), []).append((index, match.group(2)))
        elif name:
            others.append(index)
    with_ids = any(t.endswith(_OPTION_ID) for cols in groups.values() for _, t in cols)
    plan = _Plan()
    for n, columns in groups.items():
        _group(plan, n, columns, body, with_ids)
    tz_name = options.timezone if options.timezone_stated else "UTC"  # Formbricks' default
    export = ParsedExport(
        tool="formbricks",
        layout=_layout(body, header.index("Timestamp"), with_ids),
        value_mode="labels + option ids" if with_ids else "labels",
        title=_title(grid.name),
        questions=plan.questions,
        responses=[],
        timezone=tz_name,
        notes=plan.notes,
    )
    export.mapped = {header[i]: _MEANING[k] for i, (k, _) in meta.items() if k in _MEANING}
    export.kept_raw = [header[i] for i, (k, _) in meta.items() if k == "attr"]
    export.kept_raw += [header[i] for i in others]
    if export.layout.startswith("oldest"):
        export.notes.append(
            f"Timestamp holds a date only (oldest Formbricks exports): read as 00:00 {tz_name}"
        )
    survey = [i for i, (k, _) in meta.items() if k == "survey"]
    times = [i for i, (k, _) in meta.items() if k == "time"]
    day_first, order_note = file_day_first(
        (cell(r, i) for r in body for i in times), [header[i] for i in times], options.day_first
    )
    if order_note:
        export.notes.append(order_note)
    _rows(export, header, body, meta, others, plan, zone(None, tz_name), day_first)
    if survey:
        export.source_survey_id = next(
            (cell(r, survey[0]) for r in body if cell(r, survey[0])), None
        )
    return export


def _rows(
    export: ParsedExport,
    header: list[str],
    body: list[list[str]],
    meta: dict[int, tuple[str, str]],
    others: list[int],
    plan: _Plan,
    tz: ZoneInfo,
    day_first: bool | None,
) -> None:
    seen: dict[str, int] = {}
    for offset, row in enumerate(body):
        if not any(c.strip() for c in row):
            continue
        line = offset + 2
        response, problems = _response(line, row, header, meta, others, plan, tz, day_first)
        raw = {h: row[i] for i, h in enumerate(header) if i < len(row) and h}
        export.keep(response, problems, id_field="Response ID", seen=seen, raw=raw)


def _response(
    line: int,
    row: list[str],
    header: list[str],
    meta: dict[int, tuple[str, str]],
    others: list[int],
    plan: _Plan,
    tz: ZoneInfo,
    day_first: bool | None,
) -> tuple[ImportedResponse, list[RowProblem]]:
    """One row: metadata to the dedicated fields, answers by each question's reading."""
    response = ImportedResponse(row=line, response_id="", answers={}, completed=True)
    problems: list[RowProblem] = []
    for index, (kind, key) in meta.items():
        value = cell(row, index)
        if kind == "id":
            response.response_id = value
            if not value:
                problems.append(RowProblem(line, header[index], value, "is empty: no response id"))
        elif kind == "time":
            response.submitted_at = parse_time(value, tz, day_first=day_first) if value else None
            if value:
                response.attributes["submitted_raw"] = value
            if value and response.submitted_at is None:
                reason = time_problem(value, day_first)
                problems.append(RowProblem(line, header[index], value, reason))
        elif kind == "finished":
            if value.casefold() not in ("yes", "no", "true", "false"):
                problems.append(RowProblem(line, header[index], value, "is not Yes or No"))
            response.completed = value.casefold() in ("yes", "true")
        elif value and kind == "attr":
            response.attributes[key] = value
        elif value and kind in _PERSONAL and getattr(response, kind) is None:
            setattr(response, kind, value)
    for index in others:
        if value := cell(row, index):
            response.attributes[header[index]] = value
    for reading in plan.readings:
        for problem in answer(reading, row, response.answers):
            problems.append(RowProblem(line, problem[0], problem[1], problem[2]))
    for reading in plan.readings:
        if reading.how == "fields":
            for key, sub in reading.fields:
                target = key.casefold()
                if target in ("email", "phone") and sub in response.answers:
                    setattr(response, target, getattr(response, target) or response.answers[sub])
    return response, problems


def _layout(body: list[list[str]], index: int, with_ids: bool) -> str:
    stamps = [cell(r, index) for r in body if cell(r, index)]
    if stamps and all(_OLD_DATE.match(s) for s in stamps):
        return "oldest (date-only Timestamp, no Option ID columns)"
    return "current (Option ID columns)" if with_ids else "older (no Option ID columns)"


def _title(name: str) -> str:
    """``export-customer-feedback-2024-05-01-10-22-33.csv`` → ``customer feedback``."""
    stem = re.sub(r"^export-", "", PurePath(name).stem)
    stem = re.sub(r"-\d{4}-\d{2}-\d{2}(-\d{1,2}){0,3}$", "", stem)
    return stem.replace("-", " ").strip() or "Formbricks survey"


def _group(
    plan: _Plan, n: int, columns: list[tuple[int, str]], body: list[list[str]], with_ids: bool
) -> None:
    """The columns of question number ``n``: answer (+ Option ID), or one per matrix row."""
    qid = f"q{n}"
    ids = [i for i, t in columns if t.endswith(_OPTION_ID)]
    plain = [(i, t) for i, t in columns if not t.endswith(_OPTION_ID)]
    if not plain:
        plan.notes.append(f"{qid}: an Option ID column without its answer column: left out")
    elif len(plain) == 1 and len(ids) == 1:
        _with_ids(plan, qid, plain[0][1], body, plain[0][0], ids[0])
    elif len(plain) == 1:
        _column(plan, qid, plain[0][1], plain[0][0], body, with_ids)
    else:
        _matrix(plan, qid, plain, body, with_ids)


def _column(
    plan: _Plan, qid: str, text: str, index: int, body: list[list[str]], with_ids: bool
) -> None:
    """A question in one column: number, flag (CTA/consent), ``key: value`` fields, choice
    (only where the file has no Option ID columns at all), else text."""
    source = f"column {index + 1}"
    answered = [v for v in (cell(r, index) for r in body) if v and v != "skipped"]
    scale = numeric_scale(text, answered)
    if scale is not None:
        kind, bounds = scale
        plan.add(
            ImportedQuestion(qid, text, kind, source, scale=bounds),
            Reading("number", qid, index, scale=bounds),
        )
        return
    keys = kv_lines(answered)
    if keys is not None and ({k.casefold() for k in keys} & _FIELD_KEYS):
        fields = [(k, f"{qid}_{identifier(k, f'f{j + 1}')}") for j, k in enumerate(keys)]
        for key, sub in fields:
            plan.questions.append(ImportedQuestion(sub, f"{text} - {key}", "text", source))
        plan.readings.append(Reading("fields", qid, index, fields=fields))
        return
    parts = [split_choice(v) for v in answered]
    if answered and {v.casefold() for v in answered} <= _FLAGS:
        shown = "/".join(dict.fromkeys(answered))
        plan.notes.append(f"{qid}: a call-to-action or consent: its value ({shown}) kept as text")
        plan.add(ImportedQuestion(qid, text, "text", source), Reading("text", qid, index))
    elif not with_ids and choice_like(parts):
        pairs = [[(p, p) for p in ps] for ps in parts]
        if _is_ranking(text, parts):
            _ranking(plan, qid, text, source, pairs, Reading("rank", qid, index))
        else:
            kind = "multiple" if any(len(p) > 1 for p in parts) else "single"
            _choices(plan, qid, text, source, kind, pairs, index)
    else:
        plan.add(ImportedQuestion(qid, text, "text", source), Reading("text", qid, index))


def _choices(
    plan: _Plan,
    qid: str,
    text: str,
    source: str,
    kind: str,
    pairs: list[list[tuple[str, str]]],
    index: int,
    id_index: int | None = None,
) -> None:
    """A single/multiple question whose options are the (code, label) pairs seen, in order of
    first appearance (the file lists no unchosen options)."""
    found: dict[str, Choice] = {}
    for row in pairs:
        for code, label in row:
            if code not in found:
                other = code == "other" and id_index is not None
                found[code] = Choice(code, "Other" if other else label, other=other)
    question = ImportedQuestion(qid, text, "single", source, options=list(found.values()))
    if kind == "multiple":
        question.kind = "multiple"
    how = kind + ("_ids" if id_index is not None else "")
    plan.add(question, Reading(how, qid, index, id_index=id_index, order=list(found)))


def _is_ranking(text: str, rows: list[list[str]]) -> bool:
    """A ranking's answers list the same items in varying orders, or its wording says rank."""
    if any(word in text.casefold() for word in _RANK_WORDS):
        return True
    sets = {frozenset(r) for r in rows if r}
    return len(sets) == 1 and len(next(iter(sets))) > 1 and len({tuple(r) for r in rows}) > 1


def _ranking(
    plan: _Plan,
    qid: str,
    text: str,
    source: str,
    pairs: list[list[tuple[str, str]]],
    reading: Reading,
) -> None:
    """A ranking → a matrix whose rows are the items (positional ids) and values the ranks."""
    labels = list(dict.fromkeys(label for row in pairs for _, label in row))
    rows = [Choice(f"{qid}_r{k + 1}", label) for k, label in enumerate(labels)]
    reading.rows = {r.label: r.code for r in rows}
    note = f"{qid}: a ranking, stored as a matrix of ranks (1 = ranked first)"
    question = ImportedQuestion(
        qid, text, "matrix", source, rows=rows, scale=(1, max(len(rows), 2)), notes=[note]
    )
    plan.add(question, reading)


def _with_ids(
    plan: _Plan, qid: str, text: str, body: list[list[str]], index: int, id_index: int
) -> None:
    """A choice or ranking question with its Option ID column: the ids are the codes."""
    source = f"columns {index + 1}-{id_index + 1}"
    pairs: list[list[tuple[str, str]]] = []
    for row in body:
        ids = [i.strip() for i in cell(row, id_index).split(",") if i.strip()]
        labels = split_choice(cell(row, index))
        if ids and len(ids) == len(labels):
            pairs.append(list(zip(ids, labels, strict=True)))
    if _is_ranking(text, [[code for code, _ in row] for row in pairs]):
        _ranking(plan, qid, text, source, pairs, Reading("rank_ids", qid, index, id_index=id_index))
        return
    kind = "multiple" if any(len(row) > 1 for row in pairs) else "single"
    _choices(plan, qid, text, source, kind, pairs, index, id_index)


def _matrix(
    plan: _Plan, qid: str, columns: list[tuple[int, str]], body: list[list[str]], with_ids: bool
) -> None:
    """``"<n>. <headline> - <row>"`` columns: numbers → a matrix; labels → one single per row."""
    headline = _common_headline([t for _, t in columns])
    if headline is None:
        for k, (index, text) in enumerate(columns):
            _column(plan, qid if k == 0 else f"{qid}_{k + 1}", text, index, body, with_ids)
        return
    labels = [t[len(headline) + 3 :] for _, t in columns]
    source = f"columns {columns[0][0] + 1}-{columns[-1][0] + 1}"
    answered = [v for i, _ in columns for v in (cell(r, i) for r in body) if v]
    scale = numeric_scale(headline, answered)
    if scale is not None:
        rows = [Choice(f"{qid}_r{k + 1}", label) for k, label in enumerate(labels)]
        question = ImportedQuestion(qid, headline, "matrix", source, rows=rows, scale=scale[1])
        cols = [(i, r.code) for (i, _), r in zip(columns, rows, strict=True)]
        plan.add(question, Reading("matrix", qid, columns[0][0], scale=scale[1], columns=cols))
        return
    plan.notes.append(f"{qid}: a matrix answered with labels: one single-choice question per row")
    pairs = [[(v, v)] for r in body for i, _ in columns if (v := cell(r, i))]
    for k, ((index, _), label) in enumerate(zip(columns, labels, strict=True)):
        _choices(plan, f"{qid}_r{k + 1}", f"{headline} - {label}", source, "single", pairs, index)


def _common_headline(texts: list[str]) -> str | None:
    """The longest ``"<headline> - "`` prefix every column shares (row labels may hold " - ")."""
    first = texts[0]
    for cut in reversed([m.start() for m in re.finditer(" - ", first)]):
        prefix = first[:cut]
        if all(t.startswith(prefix + " - ") and len(t) > cut + 3 for t in texts):
            return prefix
    return None
