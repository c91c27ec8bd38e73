"""A Qualtrics question's columns decoded into cxloop's answer format with the survey's
``.qsf`` (recodes, choice order, matrix scales), and the pieces every question reader shares.

Pure: no database. ``qualtrics`` reads the header rows and metadata; ``qualtrics_alone`` reads
questions when there is no ``.qsf``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Container
from dataclasses import dataclass, field
from typing import Any

from cxloop.surveys.importers.common import number, scored_kind, whole
from cxloop.surveys.importers.model import Choice, ImportedQuestion, QuestionKind
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


SEEN_NOT_ANSWERED = "-99"
"""What a numeric export may write for a question seen but not answered (a UI option)."""


def unanswered(value: str, known: Container[str] = ()) -> bool:
    """Empty, or ``-99`` unless that is one of the question's own codes. Not ``common.blank``:
    here a recode ``-3`` or a typed "N/A" is an answer."""
    text = value.strip()
    return not text or (text == SEEN_NOT_ANSWERED and text not in known)


def typed(value: str) -> str:
    """A typed answer with line ends as ``\\n`` (CSV keeps ``\\r\\n``, a workbook does not), so
    every format of one export reads the same."""
    return value.replace("\r\n", "\n").replace("\r", "\n").strip()


def label_number(label: str) -> int | None:
    """The score a choice label stands for: ``9``, ``5 - Very satisfied``; None otherwise."""
    match = _LEADING_NUMBER.match(label)
    return int(match.group(1)) if match else None


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


def with_qsf(group: Group, qid: str, sq: QsfQuestion, numeric: bool, text: str) -> Built | None:
    """The question(s) of an SQ element, decoded by its choices, recodes and scale; None for a
    type cxloop does not hold (Timing, Meta, descriptive text, side-by-side…)."""
    source = f"{group.tag} ({sq.qid}, {sq.type}/{sq.selector})"
    if sq.type == "MC" and sq.selector in SINGLE_SELECTORS and group.main is not None:
        plain_choices = [c for c in sq.choices if not c.text_entry]
        scores = [label_number(c.label) for c in plain_choices]
        if sq.selector == "NPS" or (
            plain_choices and None not in scores and len(set(scores)) == len(scores)
        ):
            numbers = [s for s in scores if s is not None]  # an NPS selector's may be words
            by_value = (
                {(c.recode if numeric else c.label): label_number(c.label) for c in plain_choices}
                if numbers
                else None  # no label says its score: the cells are read as written
            )
            low, high = min(numbers, default=0), max(numbers, default=10)
            kind = "nps" if sq.selector == "NPS" else scored_kind(text, low, high)
            if kind == "nps":
                low, high = 0, 10
            question = ImportedQuestion(qid, text, kind, source, scale=(low, high))
            return Built([question], scored_reader(qid, group.main, by_value, (low, high)))
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
    kind: QuestionKind = "multiple" if sq.multiple else "single"
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
            if not unanswered(raw, lookup):
                code = lookup.get(raw.strip())
                if code is None:
                    problems.append((main.tag, raw, f"is not one of {qid}'s choices"))
                else:
                    answers[qid] = code
        elif kind == "multiple":
            chosen: set[str] = {code for code, col in split.items() if not unanswered(cell(col))}
            if main is not None and not unanswered(cell(main)):
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
            if not unanswered(cell(col)):
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
    rows = [Choice(row_id(f"{qid}_{c.id}"), c.label) for c, _ in fields]
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
            if unanswered(raw, position):
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


def row_id(code: str) -> str:
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
        return Built(questions, texts_reader(pairs))
    col = group.texts.get("TEXT") or group.main
    if col is None:
        return Built([], lambda cell: ({}, []))
    return Built([ImportedQuestion(qid, text, "text", source)], texts_reader([(qid, col)]))


def texts_reader(
    pairs: list[tuple[str, Column]],
) -> Callable[[Cells], tuple[dict[str, Any], list[Problem]]]:
    def read(cell: Cells) -> tuple[dict[str, Any], list[Problem]]:
        return {q: typed(cell(c)) for q, c in pairs if not unanswered(cell(c))}, []

    return read


def _numbers_per_choice(group: Group, qid: str, sq: QsfQuestion, text: str, source: str) -> Built:
    """Sliders (one rating per slider) and rank order (a matrix of ranks, 1 = first)."""
    fields = [(c, group.parts[c.id]) for c in sq.choices if c.id in group.parts]
    if sq.type == "RO":
        rows = [Choice(row_id(f"{qid}_{c.id}"), c.label) for c, _ in fields]
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
                value = number(cell(col)) if not unanswered(cell(col)) else None
                if value is not None:
                    ranks[code] = whole(value)
                elif not unanswered(cell(col)):
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
        readers.append(scored_reader(sub, col, None, (low, high)))

    def read(cell: Cells) -> tuple[dict[str, Any], list[Problem]]:
        answers: dict[str, Any] = {}
        problems: list[Problem] = []
        for each in readers:
            got, bad = each(cell)
            answers.update(got)
            problems += bad
        return answers, problems

    return Built(questions, read)


def scored_reader(
    qid: str, col: Column, by_value: dict[str, int | None] | None, scale: tuple[int, int]
) -> Callable[[Cells], tuple[dict[str, Any], list[Problem]]]:
    """A number answer: through ``by_value`` (code or label → score) when given, else as
    written; outside the scale is a row problem."""
    low, high = scale

    def read(cell: Cells) -> tuple[dict[str, Any], list[Problem]]:
        raw = cell(col)
        if unanswered(raw, by_value or {}):
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
        return {qid: whole(value)}, []

    return read
