"""Qualtrics export columns grouped into questions, and each question's cells decoded into
cxloop's answer format — with the ``.qsf`` when given (recodes, choice order, matrix scales),
else from the file alone (labels in choice-text mode; raw codes, said so, in numeric mode).

Pure: no database. ``qualtrics`` reads the header rows and metadata; this module the questions.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cxloop.surveys.importers.common import blank, number, scored_kind
from cxloop.surveys.importers.model import Choice, ImportedQuestion
from cxloop.surveys.importers.qsf import QsfQuestion

Cells = Callable[["Column"], str]
"""A row's cell under a column."""
Problem = tuple[str, str, str]
"""(field, value, reason) of a cell the question does not allow."""

_LEADING_NUMBER = re.compile(r"^\s*(-?\d+)(?:\s*$|\s*[-–—:：.)、]|\s+\S)")
_CODES = re.compile(r"^\s*-?\d+(?:\s*,\s*-?\d+)*\s*$")
_JOIN = re.compile(r",(?! )")
"""Qualtrics joins multiple answers with a bare comma; a comma followed by a space is more
likely inside a label ("Price, value for money")."""
SINGLE_SELECTORS = ("SAVR", "SAHR", "SACOL", "DL", "SB", "NPS")


@dataclass(frozen=True)
class Column:
    index: int
    tag: str
    """Row 1: the export tag (``Q7_3``), user-editable."""
    text: str
    """Row 2: question text (``question - statement`` for multi-column questions)."""
    import_id: str = ""
    """Row 3's ImportId (``QID7_3``); empty in the legacy layout."""


@dataclass
class Group:
    """The columns of one question: its main cell, per-choice/statement parts, typed texts
    (``TEXT`` for a text entry, a choice id for "other" text), the NPS group column."""

    key: str
    tag: str
    text: str = ""
    main: Column | None = None
    parts: dict[str, Column] = field(default_factory=dict)
    texts: dict[str, Column] = field(default_factory=dict)
    nps_group: Column | None = None


@dataclass
class Built:
    """Questions made from a group and how to read their answers from a row."""

    questions: list[ImportedQuestion]
    read: Callable[[Cells], tuple[dict[str, Any], list[Problem]]]
    columns: list[Column] = field(default_factory=list)


def typed(value: str) -> str:
    """A typed answer with line ends as ``\\n`` (CSV keeps ``\\r\\n``, a workbook does not), so
    every format of one export reads the same."""
    return value.replace("\r\n", "\n").replace("\r", "\n").strip()


def label_number(label: str) -> int | None:
    """The score a choice label stands for: ``9``, ``5 - Very satisfied``; None otherwise."""
    match = _LEADING_NUMBER.match(label)
    return int(match.group(1)) if match else None


def _num(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def statement(column: Column, question_text: str) -> str:
    """A statement's label from row 2 ``question - statement``."""
    text = column.text
    if question_text and text.startswith(question_text):
        rest = text[len(question_text) :].lstrip(" -–").strip()
        if rest:
            return rest
    return text.rsplit(" - ", 1)[-1].strip() if " - " in text else text.strip()


def group_text(group: Group) -> str:
    """The question text shared by a group's columns (row 2 before `` - statement``)."""
    if group.main is not None:
        return group.main.text.strip()
    texts = [c.text for c in group.parts.values()] or [c.text for c in group.texts.values()]
    if not texts:
        return group.tag
    if len(texts) == 1:
        return texts[0].rsplit(" - ", 1)[0].strip() if " - " in texts[0] else texts[0].strip()
    prefix = texts[0]
    for text in texts[1:]:
        while not text.startswith(prefix):
            prefix = prefix[:-1]
    cut = prefix.rfind(" - ")
    return (prefix[:cut] if cut > 0 else prefix).strip() or group.tag


def build(
    group: Group,
    qid: str,
    sq: QsfQuestion | None,
    numeric: bool,
    values: Callable[[Column], list[str]],
) -> Built | None:
    """The question(s) a group makes; None when the type is not one cxloop holds (its columns
    are then kept raw by the caller)."""
    text = (sq.text if sq is not None else "") or group.text or group_text(group)
    if sq is not None:
        return _with_qsf(group, qid, sq, numeric, text)
    return _without_qsf(group, qid, numeric, text, values)


# ---------------------------------------------------------------- with the .qsf


def _with_qsf(group: Group, qid: str, sq: QsfQuestion, numeric: bool, text: str) -> Built | None:
    source = f"{group.tag} ({sq.qid}, {sq.type}/{sq.selector})"
    if sq.type == "MC" and sq.selector in SINGLE_SELECTORS and group.main is not None:
        plain_choices = [c for c in sq.choices if not c.text_entry]
        scores = [label_number(c.label) for c in plain_choices]
        if sq.selector == "NPS" or (
            plain_choices and None not in scores and len(set(scores)) == len(scores)
        ):
            by_value = {
                (c.recode if numeric else c.label): label_number(c.label) for c in plain_choices
            }
            low = min(s for s in scores if s is not None) if scores else 0
            high = max(s for s in scores if s is not None) if scores else 10
            kind = "nps" if sq.selector == "NPS" else scored_kind(text, low, high)
            if kind == "nps":
                low, high = 0, 10
            question = ImportedQuestion(qid, text, kind, source, scale=(low, high))
            return Built([question], _scored_reader(qid, group.main, by_value, (low, high)))
        return _choice_question(group, qid, sq, numeric, text, source)
    if sq.multiple:
        return _choice_question(group, qid, sq, numeric, text, source)
    if (
        sq.type == "Matrix"
        and sq.selector in ("Likert", "Bipolar")
        and sq.sub_selector
        in (
            "SingleAnswer",
            "DL",
            "",
        )
    ):
        return _matrix(group, qid, sq, numeric, text, source)
    if sq.type == "TE":
        return _text_entry(group, qid, sq, text, source)
    if sq.type in ("Slider", "RO") and group.parts:
        return _numbers_per_choice(group, qid, sq, text, source)
    return None


def _choice_question(
    group: Group, qid: str, sq: QsfQuestion, numeric: bool, text: str, source: str
) -> Built:
    options = [Choice(c.recode, c.label, other=c.text_entry) for c in sq.choices]
    lookup = {(c.recode if numeric else c.label): c.recode for c in sq.choices}
    kind = "multiple" if sq.multiple else "single"
    question = ImportedQuestion(qid, text, kind, source, options=options, codes="tool_codes")
    by_id = {c.id: c.recode for c in sq.choices}
    order = [c.recode for c in sq.choices]
    main = group.main
    split = {by_id[k]: col for k, col in group.parts.items() if k in by_id}
    others = [group.texts[c.id] for c in sq.choices if c.text_entry and c.id in group.texts]
    labels = [c.label for c in sq.choices]

    def read(cell: Cells) -> tuple[dict[str, Any], list[Problem]]:
        answers: dict[str, Any] = {}
        problems: list[Problem] = []
        if kind == "single" and main is not None:
            raw = cell(main)
            if not blank(raw):
                code = lookup.get(raw.strip())
                if code is None:
                    problems.append((main.tag, raw, f"is not one of {qid}'s choices"))
                else:
                    answers[qid] = code
        elif kind == "multiple":
            chosen: set[str] = {code for code, col in split.items() if not blank(cell(col))}
            if main is not None and not blank(cell(main)):
                raw = cell(main)
                parts = _split_known(raw, numeric, labels)
                for part in parts or [raw]:
                    code = lookup.get(part)
                    if code is None:
                        problems.append((main.tag, raw, f"is not a list of {qid}'s choices"))
                        break
                    chosen.add(code)
            if chosen:
                answers[qid] = [c for c in order if c in chosen]
        for col in others:
            if not blank(cell(col)):
                answers[f"{qid}.other"] = typed(cell(col))
        return answers, problems

    return Built([question], read)


def _split_known(raw: str, numeric: bool, labels: list[str]) -> list[str] | None:
    """A comma-joined multiple answer split into codes (numeric) or into known labels, which
    may themselves hold commas; None when no split covers the text."""
    if numeric:
        return [p.strip() for p in raw.split(",") if p.strip()]
    pieces = raw.split(",")
    known = set(labels)
    best: dict[int, list[str]] = {0: []}
    for end in range(1, len(pieces) + 1):
        for start in range(end):
            if start in best:
                candidate = ",".join(pieces[start:end]).strip()
                if candidate in known:
                    best[end] = [*best[start], candidate]
                    break
    return best.get(len(pieces))


def _matrix(
    group: Group, qid: str, sq: QsfQuestion, numeric: bool, text: str, source: str
) -> Built:
    fields = [(c, group.parts[c.id]) for c in sq.choices if c.id in group.parts]
    rows = [Choice(_row_id(f"{qid}_{c.id}"), c.label) for c, _ in fields]
    pairs = [(row.code, col) for row, (_, col) in zip(rows, fields, strict=True)]
    position = {(a.recode if numeric else a.label): i for i, a in enumerate(sq.answers, start=1)}
    scale = (1, max(len(sq.answers), 1))
    note = (
        f"{qid}: matrix answers are the scale positions 1–{scale[1]} of "
        + ", ".join(a.label for a in sq.answers)
        + " (recodes "
        + ", ".join(a.recode for a in sq.answers)
        + " in the numeric export)"
    )
    question = ImportedQuestion(
        qid, text, "matrix", source, rows=rows, scale=scale, codes="tool_codes", notes=[note]
    )

    def read(cell: Cells) -> tuple[dict[str, Any], list[Problem]]:
        answers: dict[str, Any] = {}
        problems: list[Problem] = []
        values: dict[str, Any] = {}
        for code, col in pairs:
            raw = cell(col)
            if blank(raw):
                continue
            pos = position.get(raw.strip())
            if pos is None:
                problems.append((col.tag, raw, f"is not a point of {qid}'s scale"))
            else:
                values[code] = pos
        if values:
            answers[qid] = values
        return answers, problems

    return Built([question], read)


def _row_id(code: str) -> str:
    from cxloop.surveys.importers.common import identifier

    return identifier(code, "row")


def _text_entry(group: Group, qid: str, sq: QsfQuestion, text: str, source: str) -> Built:
    if sq.selector == "FORM" and group.parts:
        fields = [(c, group.parts[c.id]) for c in sq.choices if c.id in group.parts]
        questions = [
            ImportedQuestion(f"{qid}_{c.id}", f"{text} - {c.label}", "text", source)
            for c, _ in fields
        ]
        pairs = [(q.id, col) for q, (_, col) in zip(questions, fields, strict=True)]
        return Built(questions, _texts_reader(pairs))
    col = group.texts.get("TEXT") or group.main
    if col is None:
        return Built([], lambda cell: ({}, []))
    return Built([ImportedQuestion(qid, text, "text", source)], _texts_reader([(qid, col)]))


def _texts_reader(
    pairs: list[tuple[str, Column]],
) -> Callable[[Cells], tuple[dict[str, Any], list[Problem]]]:
    def read(cell: Cells) -> tuple[dict[str, Any], list[Problem]]:
        return {q: typed(cell(c)) for q, c in pairs if not blank(cell(c))}, []

    return read


def _numbers_per_choice(group: Group, qid: str, sq: QsfQuestion, text: str, source: str) -> Built:
    """Sliders (one rating per slider) and rank order (a matrix of ranks, 1 = first)."""
    fields = [(c, group.parts[c.id]) for c in sq.choices if c.id in group.parts]
    if sq.type == "RO":
        rows = [Choice(_row_id(f"{qid}_{c.id}"), c.label) for c, _ in fields]
        scale = (1, max(len(sq.choices), 1))
        question = ImportedQuestion(
            qid,
            text,
            "matrix",
            source,
            rows=rows,
            scale=scale,
            notes=[f"{qid}: a ranking — each item's value is its rank (1 = first)"],
        )
        pairs = [(r.code, col) for r, (_, col) in zip(rows, fields, strict=True)]

        def read_ranks(cell: Cells) -> tuple[dict[str, Any], list[Problem]]:
            ranks = {}
            problems: list[Problem] = []
            for code, col in pairs:
                value = number(cell(col)) if not blank(cell(col)) else None
                if value is not None:
                    ranks[code] = _num(value)
                elif not blank(cell(col)):
                    problems.append((col.tag, cell(col), "is not a rank"))
            return ({qid: ranks} if ranks else {}), problems

        return Built([question], read_ranks)
    low, high = sq.slider or (0, 100)
    questions = []
    readers = []
    for c, col in fields:
        sub = qid if len(fields) == 1 else f"{qid}_{c.id}"
        label = text if len(fields) == 1 else f"{text} - {c.label}"
        kind = scored_kind(label, low, high)
        questions.append(ImportedQuestion(sub, label, kind, source, scale=(low, high)))
        readers.append(_scored_reader(sub, col, None, (low, high)))

    def read(cell: Cells) -> tuple[dict[str, Any], list[Problem]]:
        answers: dict[str, Any] = {}
        problems: list[Problem] = []
        for each in readers:
            got, bad = each(cell)
            answers.update(got)
            problems += bad
        return answers, problems

    return Built(questions, read)


def _scored_reader(
    qid: str, col: Column, by_value: dict[str, int | None] | None, scale: tuple[int, int]
) -> Callable[[Cells], tuple[dict[str, Any], list[Problem]]]:
    """A number answer: through ``by_value`` (code or label → score) when given, else as
    written; outside the scale is a row problem."""
    low, high = scale

    def read(cell: Cells) -> tuple[dict[str, Any], list[Problem]]:
        raw = cell(col)
        if blank(raw):
            return {}, []
        value: float | None
        if by_value is not None and raw.strip() in by_value:
            score = by_value[raw.strip()]
            value = None if score is None else float(score)
        else:
            value = number(raw)
        if value is None:
            return {}, [(col.tag, raw, f"is not a score of {qid}")]
        if not low <= value <= high:
            return {}, [(col.tag, raw, f"is outside {low}–{high}")]
        return {qid: _num(value)}, []

    return read


# ---------------------------------------------------------------- from the file alone


def _without_qsf(
    group: Group, qid: str, numeric: bool, text: str, values: Callable[[Column], list[str]]
) -> Built | None:
    source = f"{group.tag} ({group.key})"
    main = group.main
    if main is not None and group.nps_group is not None:
        question = ImportedQuestion(qid, text, "nps", source, scale=(0, 10))
        return Built([question], _scored_reader(qid, main, None, (0, 10)))
    if main is None and not group.parts and "TEXT" in group.texts:
        return Built(
            [ImportedQuestion(qid, text, "text", source)],
            _texts_reader([(qid, group.texts["TEXT"])]),
        )
    if main is not None:
        seen = [v.strip() for v in values(main) if not blank(v)]
        if numeric:
            return _raw_codes(group, qid, text, source, main, seen)
        # numbered labels ("5 - Very satisfied") are scores, as with the .qsf
        by_label = {v: label_number(v) for v in seen if number(v) is None}
        numbers = [number(v) if v not in by_label else by_label[v] for v in seen]
        if seen and None not in numbers:
            scores = [n for n in numbers if n is not None]
            low, high = _likely_scale(text, min(scores), max(scores))
            kind = scored_kind(text, low, high)
            question = ImportedQuestion(qid, text, kind, source, scale=(low, high))
            return Built([question], _scored_reader(qid, main, by_label, (low, high)))
        return _labels(group, qid, text, source, main, seen)
    if group.parts:
        return _parts_alone(group, qid, numeric, text, source, values)
    return None


def _likely_scale(text: str, low: float, high: float) -> tuple[int, int]:
    """The scale a question's observed scores most likely come from (0–10, 1–5, 1–7), so a
    CSAT nobody rated 1 is still 1–5; else the observed range."""
    for scale in ((1, 5), (1, 7), (0, 10)):
        if scale[0] <= low and high <= scale[1] and scored_kind(text, *scale) != "rating":
            return scale
    return (min(int(low), 1) if low >= 0 else int(low), int(high))


def _raw_codes(
    group: Group, qid: str, text: str, source: str, main: Column, seen: list[str]
) -> Built:
    multiple = any(_CODES.match(v) and "," in v for v in seen)
    codes: set[str] = set()
    for v in seen:
        codes.update(p.strip() for p in v.split(",")) if multiple else codes.add(v)
    ordered = sorted(codes, key=lambda c: (number(c) is None, number(c) or 0, c))
    question = ImportedQuestion(
        qid,
        text,
        "multiple" if multiple else "single",
        source,
        options=[Choice(c, c) for c in ordered],
        codes="tool_codes",
        decoded=False,
    )
    others = list(group.texts.values())

    def read(cell: Cells) -> tuple[dict[str, Any], list[Problem]]:
        raw = cell(main)
        answers: dict[str, Any] = {}
        if not blank(raw):
            if multiple:
                chosen = {p.strip() for p in raw.split(",") if p.strip()}
                answers[qid] = [c for c in ordered if c in chosen]
            else:
                answers[qid] = raw.strip()
        for col in others:
            if not blank(cell(col)):
                answers[f"{qid}.other"] = typed(cell(col))
        return answers, []

    return Built([question], read)


def _labels(group: Group, qid: str, text: str, source: str, main: Column, seen: list[str]) -> Built:
    multiple = any(len(_JOIN.split(v)) > 1 for v in seen)
    order = _survey_order([[p.strip() for p in _JOIN.split(v)] if multiple else [v] for v in seen])
    other_labels = _other_labels(group, main)
    options = [Choice(label, label, other=label in other_labels) for label in order]
    question = ImportedQuestion(
        qid, text, "multiple" if multiple else "single", source, options=options
    )
    others = list(group.texts.values())

    def read(cell: Cells) -> tuple[dict[str, Any], list[Problem]]:
        raw = cell(main)
        answers: dict[str, Any] = {}
        if not blank(raw):
            if multiple:
                chosen = {p.strip() for p in _JOIN.split(raw)}
                answers[qid] = [c for c in order if c in chosen]
            else:
                answers[qid] = raw.strip()
        for col in others:
            if not blank(cell(col)):
                answers[f"{qid}.other"] = typed(cell(col))
        return answers, []

    return Built([question], read)


def _other_labels(group: Group, main: Column) -> set[str]:
    """Without a definition, the "other" choice is the one row 2 of its text column names
    (``question - Other - Text``)."""
    out = set()
    for col in group.texts.values():
        piece = col.text.rsplit(" - ", 2)
        if len(piece) == 3:
            out.add(piece[1].strip())
    return out


def _survey_order(rows: list[list[str]]) -> list[str]:
    """The choices' order as the survey had it, from the rows' own orders (Qualtrics writes a
    multiple answer's choices in survey order): a topological order of "comes before", ties in
    order of first appearance (a choice never chosen with others cannot be placed better)."""
    seen: list[str] = []
    after: dict[str, set[str]] = {}
    for parts in rows:
        for a, b in zip(parts, parts[1:], strict=False):
            after.setdefault(a, set()).add(b)
        seen += [p for p in parts if p not in seen]
    before = {p: sum(p in after.get(q, set()) for q in seen) for p in seen}
    out: list[str] = []
    while len(out) < len(seen):
        ready = [p for p in seen if p not in out and before[p] == 0]
        pick = ready[0] if ready else next(p for p in seen if p not in out)  # a cycle: give up
        out.append(pick)
        for b in after.get(pick, set()):
            before[b] -= 1
    return out


def _parts_alone(
    group: Group,
    qid: str,
    numeric: bool,
    text: str,
    source: str,
    values: Callable[[Column], list[str]],
) -> Built:
    parts = list(group.parts.items())
    labels = {k: statement(col, text) for k, col in parts}
    seen = {k: [v.strip() for v in values(col) if not blank(v)] for k, col in parts}
    ticks = all(len(set(vs)) <= 1 for vs in seen.values())
    if (numeric and ticks) or (
        not numeric and all(all(v == labels[k] for v in vs) for k, vs in seen.items())
    ):
        options = [Choice(labels[k], labels[k]) for k, _ in parts]
        question = ImportedQuestion(qid, text, "multiple", source, options=options)
        others = list(group.texts.values())

        def read_ticks(cell: Cells) -> tuple[dict[str, Any], list[Problem]]:
            chosen = [labels[k] for k, col in parts if not blank(cell(col))]
            answers: dict[str, Any] = {qid: chosen} if chosen else {}
            for col in others:
                if not blank(cell(col)):
                    answers[f"{qid}.other"] = typed(cell(col))
            return answers, []

        return Built([question], read_ticks)
    all_numbers = [number(v) for vs in seen.values() for v in vs]
    if numeric or (all_numbers and None not in all_numbers):
        scores = [n for n in all_numbers if n is not None] or [1.0]
        rows = [Choice(_row_id(f"{qid}_{k}"), labels[k]) for k, _ in parts]
        note = (
            f"{qid}: matrix answers are Qualtrics recode values kept raw — give the survey's "
            ".qsf with --definition to decode them"
            if numeric
            else f"{qid}: matrix answers read as the numbers written"
        )
        question = ImportedQuestion(
            qid,
            text,
            "matrix",
            source,
            rows=rows,
            scale=(int(min(scores)), int(max(scores))),
            codes="tool_codes" if numeric else "labels",
            decoded=not numeric,
            notes=[note],
        )
        pairs = [(r.code, col) for r, (_, col) in zip(rows, parts, strict=True)]

        def read_matrix(cell: Cells) -> tuple[dict[str, Any], list[Problem]]:
            got: dict[str, Any] = {}
            problems: list[Problem] = []
            for code, col in pairs:
                raw = cell(col)
                if blank(raw):
                    continue
                value = number(raw)
                if value is None:
                    problems.append((col.tag, raw, f"is not a number of {qid}'s scale"))
                else:
                    got[code] = _num(value)
            return ({qid: got} if got else {}), problems

        return Built([question], read_matrix)
    questions = []
    readers = []
    for k, col in parts:
        sub = f"{qid}_{k}"
        order = _survey_order([[v] for v in seen[k]])
        questions.append(
            ImportedQuestion(
                sub,
                f"{text} - {labels[k]}",
                "single",
                source,
                options=[Choice(v, v) for v in order],
                notes=[
                    f"{qid}: a matrix with a scale of labels only — one single-choice question "
                    "per statement (give the .qsf with --definition to read it as a matrix)"
                ],
            )
        )
        readers.append((sub, col))

    def read_rows(cell: Cells) -> tuple[dict[str, Any], list[Problem]]:
        return {sub: cell(col).strip() for sub, col in readers if not blank(cell(col))}, []

    return Built(questions, read_rows)
