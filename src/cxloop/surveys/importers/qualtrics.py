"""Qualtrics response exports (CSV, TSV, XLSX; current 3-header-row and legacy 2-row layouts).

Columns are joined on row 3's ImportId (``QID7_3``, ``startDate``) — never on row 2's text, which
follows the account language (``Anfangsdatum``) — or, in the legacy layout, on the ``V1..V10``
positions and row 1's export tags. Values are decoded with the ``.qsf`` when given. Pure.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any
from zoneinfo import ZoneInfo

from cxloop.errors import Invalid
from cxloop.surveys.importers.common import (
    file_day_first,
    identifier,
    parse_time,
    person_name,
    time_problem,
    unique_ids,
    zone,
)
from cxloop.surveys.importers.model import (
    Grid,
    ImportedResponse,
    ImportOptions,
    ParsedExport,
    RowProblem,
)
from cxloop.surveys.importers.qsf import Qsf, QsfQuestion, read_qsf
from cxloop.surveys.importers.qualtrics_alone import without_qsf
from cxloop.surveys.importers.qualtrics_meta import (
    LEGACY_V,
    MEANING,
    META_IDS,
    META_TAGS,
    NPS_GROUPS,
    REAL,
    STATUS,
    YES,
)
from cxloop.surveys.importers.qualtrics_questions import Built, Column, Group, group_text, with_qsf
from cxloop.surveys.importers.registry import DefinitionFile

_QID = re.compile(r"^(QID\d+)(#\d+)?(?:_(.+))?$")
_LEFT_OUT = re.compile(
    r"^(?:.*_)?(DO|FIRST_CLICK|LAST_CLICK|PAGE_SUBMIT|CLICK_COUNT|BROWSER|VERSION|OS|RESOLUTION)$",
    re.IGNORECASE,
)
_TEXT_IQ = re.compile(r"topic|sentiment", re.IGNORECASE)
_TAG_SUFFIX = re.compile(r"^(.+?)(?:_(\d+))?(?:_(TEXT|NPS_GROUP))?$")
_V = re.compile(r"^V\d+$")


def _import_id(cell: str) -> tuple[str, str | None] | None:
    text = cell.strip()
    if not text.startswith("{"):
        return None
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("ImportId"), str):
        return None
    tz = data.get("timeZone")
    return data["ImportId"], tz if isinstance(tz, str) else None


def _layout(grid: Grid) -> str | None:
    rows = grid.rows
    if len(rows) >= 3 and rows[2]:
        ids = [_import_id(c) for c in rows[2] if c.strip()]
        if ids and sum(i is not None for i in ids) >= 0.8 * len(ids):
            return "current"
    if len(rows) >= 2 and rows[0][:10] == [f"V{i}" for i in range(1, 11)]:
        return "legacy"
    return None


def detect(grid: Grid) -> float:
    """1.0 for row 3 of ImportId JSON or the legacy ``V1..V10`` row; 0.6 for Qualtrics' own
    metadata tags alone (a file whose row 3 was deleted); else near 0."""
    layout = _layout(grid)
    if layout is not None:
        return 1.0
    head = set(grid.rows[0]) if grid.rows else set()
    hits = len(head & {"StartDate", "EndDate", "ResponseId", "RecordedDate", "Finished"})
    return 0.6 if hits >= 4 else 0.1 * hits / 5


def parse(
    grid: Grid, options: ImportOptions, definition: DefinitionFile | None = None
) -> ParsedExport:
    """Read a Qualtrics export (see the module docstring); ``definition`` is the survey's
    ``.qsf``. ``Invalid`` when the layout is none of Qualtrics' or the .qsf is not one."""
    layout = _layout(grid)
    if layout is None:
        raise Invalid(
            "is not a Qualtrics export this reader knows: row 3 should hold "
            '{"ImportId": …} cells (or row 1 V1..V10 for the legacy exporter); export again '
            "from Data & Analysis → Export Data → CSV",
            "file",
            grid.name,
        )
    qsf = read_qsf(definition.name, definition.data) if definition is not None else None
    header = 3 if layout == "current" else 2
    width = max(len(r) for r in grid.rows[:header])
    rows = [r + [""] * (width - len(r)) for r in grid.rows]
    columns, zones = _columns(rows, layout, width)
    meta, groups, embedded, left_out = _classify(columns, layout, qsf)
    data = [(i + 1, r) for i, r in enumerate(rows) if i >= header and any(c.strip() for c in r)]
    numeric = _numeric(meta, groups, data)
    stated = next((zones[k] for k in ("recorded", "start", "end") if zones.get(k)), None)
    if stated in ("Z", "UTC"):
        stated = "UTC"
    tz = zone(stated, options.timezone)
    export = ParsedExport(
        tool="qualtrics",
        layout="current (3 header rows)" if layout == "current" else "legacy (2 header rows)",
        value_mode="numeric" if numeric else "choice text",
        title=(qsf.name if qsf and qsf.name else PurePath(grid.name).stem) or "qualtrics",
        questions=[],
        responses=[],
        source_survey_id=qsf.survey_id if qsf else None,
        timezone=tz.key,
    )
    if stated is None:
        export.notes.append(f"the file states no time zone: times read in {tz.key}")
    elif tz.key != stated:
        export.notes.append(f"the file's time zone {stated!r} is not known: times read in {tz.key}")
    elif options.timezone_stated and options.timezone != tz.key:
        export.notes.append(
            f"times read in {tz.key}, the zone the file states (header row 3), not "
            f"--timezone {options.timezone}"
        )
    built = _questions(groups, qsf, numeric, data, export)
    export.mapped = {col.tag: MEANING[key] for key, col in meta.items()}
    export.kept_raw += [f"{c.tag} (embedded data → attribute)" for c in embedded]
    if left_out:
        export.notes.append(
            "left out (timing, meta info, display order, Text iQ): "
            + ", ".join(c.tag for c in left_out)
        )
    real = _real_statuses(meta, data, export)
    options = _date_order(meta, data, options, export)
    context = _Context(meta, built, embedded, tz, options, real, columns)
    for number, row in data:
        _response(export, number, row, context)
    for tag, lines in context.disagree.items():
        shown = ", ".join(str(n) for n in lines[:10])
        export.notes.append(f"{tag} disagrees with its score on row(s) {shown}: scores kept")
    return export


def _columns(
    rows: list[list[str]], layout: str, width: int
) -> tuple[list[Column], dict[str, str | None]]:
    columns = []
    zones: dict[str, str | None] = {}
    for i in range(width):
        tag, text = rows[0][i].strip(), rows[1][i].strip()
        import_id = ""
        if layout == "current":
            found = _import_id(rows[2][i])
            if found:
                import_id, tz = found
                if tz and import_id in META_IDS:
                    zones[META_IDS[import_id]] = tz
        columns.append(Column(i, tag, text, import_id))
    return columns, zones


def _classify(
    columns: list[Column], layout: str, qsf: Qsf | None
) -> tuple[dict[str, Column], list[Group], list[Column], list[Column]]:
    """Metadata by ImportId (legacy: by V-position), question columns grouped by question,
    embedded data, and the columns left out (timing, meta info, display order, Text iQ)."""
    meta: dict[str, Column] = {}
    groups: dict[str, Group] = {}
    embedded: list[Column] = []
    left_out: list[Column] = []
    by_tag = qsf.by_tag() if qsf else {}
    for col in columns:
        if not col.tag and not col.import_id:
            continue
        key = (
            META_IDS.get(col.import_id) or META_TAGS.get(col.tag)
            if layout == "current"
            else LEGACY_V.get(col.tag)
        )
        if key is not None:
            meta.setdefault(key, col)
            continue
        if _TEXT_IQ.search(col.tag if " - " in col.tag else col.import_id):
            left_out.append(col)
            continue
        place = _place(col, layout, by_tag, qsf)
        if place is None:
            (left_out if _V.match(col.tag) else embedded).append(col)
            continue
        gkey, tag, suffix = place
        if suffix and _LEFT_OUT.match(suffix):
            left_out.append(col)
            continue
        group = groups.setdefault(gkey, Group(gkey, tag))
        if suffix is None:
            group.main = col
        elif suffix == "NPS_GROUP":
            group.nps_group = col
        elif suffix == "TEXT":
            group.texts["TEXT"] = col
        elif suffix.endswith("_TEXT"):
            group.texts[suffix[: -len("_TEXT")]] = col
        else:
            group.parts[suffix] = col
    return meta, list(groups.values()), embedded, left_out


def _place(
    col: Column, layout: str, by_tag: dict[str, QsfQuestion], qsf: Qsf | None
) -> tuple[str, str, str | None] | None:
    """(question key, base export tag, suffix after it) of a question column; None for
    embedded data."""
    if layout == "current":
        match = _QID.match(col.import_id)
        if not match:
            return None
        qid, side, suffix = match.group(1), match.group(2), match.group(3)
        if side:  # side-by-side: each set of columns is its own question
            tag = col.tag[: -len(suffix) - 1] if suffix and col.tag.endswith(f"_{suffix}") else ""
            return f"{qid}{side}", identifier(tag, f"{qid}_{side[1:]}"), suffix
        if qsf and qid in qsf.questions:
            return qid, qsf.questions[qid].tag, suffix
        tag = col.tag
        if suffix and tag.endswith("_" + suffix):
            tag = tag[: -len(suffix) - 1]
        elif suffix:
            tag = _TAG_SUFFIX.match(tag).group(1) if _TAG_SUFFIX.match(tag) else tag  # type: ignore[union-attr]
        return qid, tag, suffix
    if by_tag:
        for tag in sorted(by_tag, key=len, reverse=True):
            if col.tag == tag or col.tag.startswith(tag + "_"):
                return by_tag[tag].qid, tag, col.tag[len(tag) + 1 :] or None
            sq = by_tag[tag]
            for choice in sq.choices:
                if choice.export_tag and col.tag == choice.export_tag:
                    return sq.qid, tag, choice.id
        return None
    if not col.tag or col.tag == col.text or _V.match(col.tag):
        return None
    match = _TAG_SUFFIX.match(col.tag)
    if not match:
        return None
    base, part, kind = match.groups()
    suffix = "_".join(p for p in (part, kind) if p) or None
    return base, base, suffix


def _numeric(
    meta: dict[str, Column], groups: list[Group], data: list[tuple[int, list[str]]]
) -> bool:
    """Numeric values or choice text: Status/Finished say it (``0``/``1`` vs ``IP Address``/
    ``True``), else the NPS group, else whether every choice answer is digits."""
    for key in ("status", "finished"):
        col = meta.get(key)
        if col is None:
            continue
        seen = [r[col.index].strip() for _, r in data if r[col.index].strip()]
        if seen:
            return all(re.fullmatch(r"-?\d+", v) for v in seen)
    for group in groups:
        if group.nps_group is not None:
            seen = [r[group.nps_group.index].strip() for _, r in data]
            if any(seen):
                return all(re.fullmatch(r"\d*", v) for v in seen)
    answers = [r[g.main.index].strip() for g in groups if g.main is not None for _, r in data]
    return all(re.fullmatch(r"[\d,.-]*", v) for v in answers)


def _questions(
    groups: list[Group],
    qsf: Qsf | None,
    numeric: bool,
    data: list[tuple[int, list[str]]],
    export: ParsedExport,
) -> list[Built]:
    ids = unique_ids(identifier(g.tag, f"q{i}") for i, g in enumerate(groups, start=1))
    built: list[Built] = []
    raw_codes: list[str] = []
    for group, qid in zip(groups, ids, strict=True):
        sq = qsf.questions.get(group.key.split("#")[0]) if qsf else None
        if qsf and sq is None:
            export.notes.append(f"{group.tag}: not in the .qsf; read from the file alone")
        text = (sq.text if sq is not None else "") or group.text or group_text(group)
        made = (
            with_qsf(group, qid, sq, numeric, text)
            if sq is not None
            else without_qsf(group, qid, numeric, text, lambda c: [r[c.index] for _, r in data])
        )
        if made is None or not made.questions:
            kind = f"{sq.type}/{sq.selector}" if sq else "type unknown without the .qsf"
            export.kept_raw.append(f"{group.tag} ({kind}): not a type cxloop holds, left out")
            continue
        for question in made.questions:
            if not question.decoded:
                raw_codes.append(question.id)
            export.questions.append(question)
        if group.nps_group is not None:
            export.kept_raw.append(f"{group.nps_group.tag} (NPS group → attribute; confirms NPS)")
            made.columns.append(group.nps_group)
        built.append(made)
    if raw_codes:
        export.notes.append(
            f"{', '.join(raw_codes)}: numeric codes kept raw — give the survey's .qsf with "
            "--definition to decode them"
        )
    for question in export.questions:
        export.notes.extend(question.notes)
    return built


@dataclass
class _Context:
    """What reading each data row needs, worked out once per file."""

    meta: dict[str, Column]
    built: list[Built]
    embedded: list[Column]
    tz: ZoneInfo
    options: ImportOptions
    real: set[str]
    """Status values of real responses."""
    columns: list[Column] = field(default_factory=list)
    seen: dict[str, int] = field(default_factory=dict)
    """Response id → the row it was first read on."""
    disagree: dict[str, list[int]] = field(default_factory=dict)
    """NPS group column → rows where it does not match the score."""


def _real_statuses(
    meta: dict[str, Column], data: list[tuple[int, list[str]]], export: ParsedExport
) -> set[str]:
    """Status values of real responses: Qualtrics' own (``0``, ``IP Address``, imported,
    offline), and a status written in another language on most rows (choice text follows the
    account language), said in a note rather than excluding every response."""
    col = meta.get("status")
    if col is None:
        return set(REAL)
    counts = Counter(r[col.index].strip() for _, r in data if r[col.index].strip())
    unknown = [v for v, n in counts.items() if v not in REAL and v not in STATUS]
    common = [v for v in unknown if counts[v] * 2 > len(data)]
    for value in common:
        export.notes.append(f"Status {value!r} (on most rows) read as a real response")
    return set(REAL) | set(common)


def _date_order(
    meta: dict[str, Column],
    data: list[tuple[int, list[str]]],
    options: ImportOptions,
    export: ParsedExport,
) -> ImportOptions:
    """One day/month order for the file's times (an Excel re-save writes ``3/9/24 9:02``): the
    stated one, else the one a date over 12 shows, else month-first with a note."""
    keys = [k for k in ("start", "end", "recorded") if k in meta]
    day_first, note = file_day_first(
        (row[meta[k].index] for k in keys for _, row in data),
        [meta[k].tag for k in keys],
        options.day_first,
    )
    if note:
        export.notes.append(note)
    return dataclasses.replace(options, day_first=day_first)


def _response(export: ParsedExport, number: int, row: list[str], context: _Context) -> None:
    meta, built, embedded = context.meta, context.built, context.embedded
    tz, options, real, seen = context.tz, context.options, context.real, context.seen

    def get(key: str) -> str:
        col = meta.get(key)
        return row[col.index].strip() if col is not None else ""

    status = get("status")
    if status and status not in real:
        reason = STATUS.get(status, f"status {status}")
        export.excluded[reason] = export.excluded.get(reason, 0) + 1
        return
    problems: list[RowProblem] = []
    response_id = get("response_id")
    if response_id in seen:
        again = f"appears again (first on row {seen[response_id]})"
        problems.append(RowProblem(number, meta["response_id"].tag, response_id, again))
    elif response_id:
        seen[response_id] = number
    if not response_id:
        id_field = meta["response_id"].tag if "response_id" in meta else "ResponseId"
        problems.append(RowProblem(number, id_field, None, "no response id"))
    answers: dict[str, Any] = {}
    for made in built:
        got, bad = made.read(lambda c: row[c.index])
        answers.update(got)
        problems += [RowProblem(number, f, v, why) for f, v, why in bad]
    times = {}
    for key in ("start", "end", "recorded"):
        text = get(key)
        times[key] = parse_time(text, tz, day_first=options.day_first) if text else None
        if text and times[key] is None:
            reason = time_problem(text, options.day_first)
            problems.append(RowProblem(number, meta[key].tag, text, reason))
    if problems:  # each problem carries the whole row, for the quarantine
        raw = {c.tag or f"column {c.index + 1}": row[c.index] for c in context.columns}
        export.rejected += [dataclasses.replace(p, raw=raw) for p in problems]
        return
    finished = get("finished")
    progress = get("progress")
    completed = finished.lower() in YES if finished else progress in ("100", "100.0")
    attributes = {
        f"{c.import_id or c.tag}": row[c.index].strip() for c in embedded if row[c.index].strip()
    }
    for key, name in (
        ("start", "start_date_raw"),
        ("end", "end_date_raw"),
        ("recorded", "submitted_raw"),
        ("progress", "progress"),
        ("duration", "duration_seconds"),
        ("language", "user_language"),
        ("response_set", "response_set"),
        ("location_accuracy", "location_accuracy"),
    ):
        if get(key):
            attributes[name] = get(key)
    for made in built:
        for col in made.columns:
            group = row[col.index].strip()
            if not group:
                continue
            # the same word in both value modes (1/2/3 or labels), so a re-import in the
            # other mode changes nothing; a label in another language is kept as written
            attributes[identifier(col.tag, "nps_group").lower()] = NPS_GROUPS.get(
                group.casefold(), group
            )
            score = answers.get(made.questions[0].id)
            if made.questions[0].kind == "nps" and isinstance(score, int | float):
                expected = "detractor" if score <= 6 else "passive" if score <= 8 else "promoter"
                if NPS_GROUPS.get(group.casefold(), expected) != expected:
                    context.disagree.setdefault(col.tag, []).append(number)
    names = person_name(get("first_name"), get("last_name")) or get("name")
    lat, lon = get("latitude"), get("longitude")
    language = get("language").lower()
    export.responses.append(
        ImportedResponse(
            row=number,
            response_id=response_id,
            answers=answers,
            completed=completed,
            started_at=times["start"],
            submitted_at=times["recorded"] or times["end"],
            language=language[:2] if language[:2] in ("en", "zh") else None,
            email=get("email") or None,
            external_reference=get("external_reference") or None,
            name=names or None,
            ip=get("ip") or None,
            location=f"{lat},{lon}" if lat and lon else None,
            channel=get("channel") or None,
            attributes=attributes,
        )
    )
