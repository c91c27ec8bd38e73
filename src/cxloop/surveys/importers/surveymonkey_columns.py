"""A SurveyMonkey question's columns → cxloop questions and a reader of their answers.

The export names no question type: row 2 and the answers tell it. ``Response`` = one closed
answer (single choice, dropdown, NPS, rating); ``Open-Ended Response`` = text; otherwise a column
per option (checkbox: a ticked cell holds the option's text, or its number in numerical-value
mode), per matrix row (the column chosen), per ranked item (its rank or ``N/A``) or per field of a
multi-field text question. Pure: no database.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cxloop.surveys.importers.common import (
    NPS_WORDS,
    blank,
    looks_like_free_text,
    number,
    scored_kind,
)
from cxloop.surveys.importers.model import Choice, ImportedQuestion

TEXT_MODE = "actual answer text"
NUMERIC_MODE = "numerical value"
RESPONSE = ("response", "回复", "回答", "答复")
OPEN = ("open-ended response", "开放式回复", "开放式回答", "开放式答复")
OTHER = ("please specify", "请注明", "請註明", "请说明", "請說明")
CONTACT: dict[str, str | None] = {
    "name": None,
    "company": None,
    "address": None,
    "address 2": None,
    "city/town": None,
    "state/province": None,
    "zip/postal code": None,
    "country": None,
    "email address": "email",
    "phone number": "phone",
    "姓名": None,
    "公司": None,
    "地址": None,
    "城市": None,
    "电子邮件地址": "email",
    "电话号码": "phone",
}
Problem = tuple[str, str | None, str]
Answers = dict[str, Any]


@dataclass
class Group:
    """One question's columns: the text over its first column, each column's row-2 label."""

    text: str
    columns: list[int]
    labels: list[str]


@dataclass
class Reading:
    """The cxloop questions one group became and how to read a data row's answers to them
    (a key ``@email``/``@phone`` is personal contact data, not an answer)."""

    questions: list[ImportedQuestion]
    read: Callable[[list[str]], tuple[Answers, list[Problem]]]
    notes: list[str] = field(default_factory=list)
    kept_raw: list[str] = field(default_factory=list)
    condensed: bool = False


def is_marker(label: str) -> bool:
    """Row-2 words SurveyMonkey writes over a one-column question (English or Chinese UI)."""
    return label.strip().casefold() in (*RESPONSE, *OPEN)


def _is_other(label: str) -> bool:
    low = label.casefold()
    return any(word in low for word in OTHER)


def _integer(raw: str) -> int | None:
    value = number(raw)
    return int(value) if value is not None and value.is_integer() else None


def _values(rows: list[list[str]], column: int) -> list[str]:
    return [row[column].strip() for row in rows if not blank(row[column])]


def value_mode(groups: list[Group], rows: list[list[str]]) -> tuple[str, bool]:
    """``actual answer text`` or ``numerical value``, and whether the answers showed it: a label
    in a one-answer column, or a checkbox cell holding its option's text, is text; checkbox
    cells holding numbers are numerical values. With only numbers everywhere text is assumed."""
    numeric = False
    for group in groups:
        first = group.labels[0].casefold()
        if first in RESPONSE:
            if any(_integer(v) is None for v in _values(rows, group.columns[0])):
                return TEXT_MODE, True
            continue
        if first in OPEN:
            continue
        for column, label in zip(group.columns, group.labels, strict=True):
            values = _values(rows, column)
            if _is_other(label) or not values:
                continue
            if all(_ticked(v, label) for v in values):
                return TEXT_MODE, True
            if len(set(values)) == 1 and _integer(values[0]) is not None:
                numeric = True
    return (NUMERIC_MODE, True) if numeric else (TEXT_MODE, False)


def _ticked(value: str, label: str) -> bool:
    """A checkbox cell in actual-text mode: the option's text (a multi-select matrix's column
    ``Row - Column`` holds the column's text)."""
    low, cell = label.casefold(), value.casefold()
    return cell == low or low.endswith(f" - {cell}")


def read_group(group: Group, qid: str, mode: str, rows: list[list[str]]) -> Reading:
    """The group read as the kind its row 2 and answers show."""
    first = group.labels[0].casefold()
    if first in OPEN:
        if len(group.columns) == 1:
            return _text(group, qid)
        return _fields(group, qid)
    if first in RESPONSE:
        return _single(group, qid, mode, rows)
    options = [
        (c, label)
        for c, label in zip(group.columns, group.labels, strict=True)
        if not _is_other(label)
    ]
    others = [c for c, label in zip(group.columns, group.labels, strict=True) if _is_other(label)]
    if group.labels and all(label.casefold() in CONTACT for label in group.labels):
        return _fields(group, qid)
    values = {c: _values(rows, c) for c, _ in options}
    if all(all(_ticked(v, label) for v in values[c]) for c, label in options):
        return _multiple(group, qid, options, others)
    if mode == NUMERIC_MODE and all(
        len(set(values[c])) <= 1 and all(v in (str(i), "1") for v in values[c])
        for i, (c, _) in enumerate(options, start=1)
    ):
        return _multiple(group, qid, options, others)
    cells = [v for c, _ in options for v in values[c]]
    if all(_integer(v) is not None for v in cells):
        if _ranking(options, rows):
            return _matrix(group, qid, options, others, ranking=True, mode=mode, rows=rows)
        return _matrix(group, qid, options, others, ranking=False, mode=mode, rows=rows)
    distinct = list(dict.fromkeys(cells))
    if (
        mode == TEXT_MODE
        and len(distinct) <= 12
        and not looks_like_free_text(cells)
        and (len(cells) >= 2 * len(distinct) or _shared_labels(values))
    ):
        return _label_matrix(group, qid, options, others, distinct)
    return _fields(group, qid)


def _shared_labels(values: dict[int, list[str]]) -> bool:
    """Rows of one scale: some answer label appears in two or more rows (a few responses are
    enough to tell "Satisfied / Very satisfied" rows from separate text boxes)."""
    rows_of: dict[str, int] = {}
    for cells in values.values():
        for label in set(cells):
            rows_of[label] = rows_of.get(label, 0) + 1
    return any(n > 1 for n in rows_of.values())


def _ranking(options: list[tuple[int, str]], rows: list[list[str]]) -> bool:
    """Ranks: every row's numbers distinct and within 1..items, some row ranking two or more."""
    n = len(options)
    several = False
    for row in rows:
        ranks = [_integer(row[c]) for c, _ in options if not blank(row[c])]
        if any(r is None or not 1 <= r <= n for r in ranks) or len(set(ranks)) != len(ranks):
            return False
        several = several or len(ranks) > 1
    return several and n > 1


def _text(group: Group, qid: str) -> Reading:
    column = group.columns[0]
    question = ImportedQuestion(qid, group.text, "text", f"column {column + 1}")

    def read(row: list[str]) -> tuple[Answers, list[Problem]]:
        value = row[column].strip()
        return ({qid: value} if not blank(value) else {}), []

    return Reading([question], read)


def _fields(group: Group, qid: str) -> Reading:
    """Multi-field text (contact information, several boxes): one text question per field;
    an e-mail or phone field is personal data (the response's email/phone), not an answer."""
    questions: list[ImportedQuestion] = []
    targets: list[tuple[int, str]] = []
    notes: list[str] = []
    for i, (column, label) in enumerate(zip(group.columns, group.labels, strict=True), start=1):
        personal = CONTACT.get(label.casefold())
        if personal:
            targets.append((column, f"@{personal}"))
            notes.append(f"{qid} {label!r}: kept as the response's {personal} (personal data)")
            continue
        fid = f"{qid}_{i}"
        questions.append(
            ImportedQuestion(fid, f"{group.text} — {label}", "text", f"column {column + 1}")
        )
        targets.append((column, fid))

    def read(row: list[str]) -> tuple[Answers, list[Problem]]:
        return {key: row[c].strip() for c, key in targets if not blank(row[c])}, []

    return Reading(questions, read, notes=notes)


def _single(group: Group, qid: str, mode: str, rows: list[list[str]]) -> Reading:
    """``Response`` (+ ``Other (please specify)`` / a comment column): a choice or a score."""
    column = group.columns[0]
    source = f"column {column + 1}"
    extra = list(zip(group.columns[1:], group.labels[1:], strict=True))
    other = next((c for c, label in extra if _is_other(label)), None)
    other_label = next((label for c, label in extra if c == other), "Other")
    comments = [(c, label) for c, label in extra if c != other]
    values = _values(rows, column)
    integers = [_integer(v) for v in values]
    numbers = [i for i in integers if i is not None]
    words = group.text.casefold()
    if not values and other is None and not comments:
        reading = _text(group, qid)
        reading.notes.append(
            f"{qid}: no answers in the file, so its choices are unknown: kept as text"
        )
        return reading
    notes: list[str] = []
    question: ImportedQuestion
    shift = 0
    joined = _joined(values) if mode == TEXT_MODE else False
    if (
        values
        and len(numbers) == len(values)
        and any(w in words for w in NPS_WORDS)
        and min(numbers) >= 0
    ):
        question = ImportedQuestion(qid, group.text, "nps", source, scale=(0, 10))
        if mode == NUMERIC_MODE and 11 in numbers and 0 not in numbers:
            shift = 1
            notes.append(f"{qid}: NPS numbered 1–11 in the file: read as 0–10 (number − 1)")
    elif values and len(numbers) == len(values) and mode == TEXT_MODE:
        low = 0 if min(numbers) == 0 else 1
        high = next((h for h in (5, 7, 10) if max(numbers) <= h), max(numbers))
        kind = scored_kind(group.text, low, high)
        question = ImportedQuestion(qid, group.text, kind, source, scale=(low, high))
    elif mode == NUMERIC_MODE:
        codes = sorted({n for n in numbers})
        question = ImportedQuestion(
            qid,
            group.text,
            "single",
            source,
            options=[Choice(str(n), str(n)) for n in codes],
            codes="positions",
            decoded=False,
        )
        notes.append(
            f"{qid}: answers are option positions (numerical-value export) kept raw — import "
            "with --survey ID of a survey that lists its options in order (a cxloop YAML or an "
            "earlier actual-text import) to decode them"
        )
    elif joined:
        labels = list(dict.fromkeys(p for v in values for p in v.split(", ")))
        question = ImportedQuestion(
            qid, group.text, "multiple", source, options=[Choice(x, x) for x in labels]
        )
        notes.append(
            f"{qid}: condensed export — choices joined with ', ' were split (a label holding "
            "', ' cannot be told apart: export the expanded layout)"
        )
    else:
        labels = list(dict.fromkeys(values))
        question = ImportedQuestion(
            qid, group.text, "single", source, options=[Choice(x, x) for x in labels]
        )
    choice = question.kind in ("single", "multiple")
    if other is not None and choice:
        question.options.append(Choice("other", other_label, other=True))
    elif other is not None:
        comments.insert(0, (other, other_label))
    extra_questions = [
        ImportedQuestion(
            f"{qid}_comment{'' if i == 1 else i}",
            f"{group.text} — {label}",
            "text",
            f"column {c + 1}",
        )
        for i, (c, label) in enumerate(comments, start=1)
    ]
    comment_ids = [(c, q.id) for (c, _), q in zip(comments, extra_questions, strict=True)]
    kind = question.kind
    low, high = question.scale or (0, 0)

    def read(row: list[str]) -> tuple[Answers, list[Problem]]:
        answers: Answers = {}
        problems: list[Problem] = []
        raw = row[column].strip()
        if not blank(raw):
            if kind == "multiple":
                answers[qid] = [c.code for c in question.options if c.code in raw.split(", ")]
            elif kind == "single" and question.codes == "positions":
                value = _integer(raw)
                if value is None or value < 1:
                    problems.append((qid, raw, "is not an option number (1, 2, …)"))
                else:
                    answers[qid] = str(value)
            elif kind == "single":
                answers[qid] = raw
            else:
                value = _integer(raw)
                if value is not None:
                    value -= shift
                if value is None or not low <= value <= high:
                    problems.append((qid, raw, f"is not a whole number from {low} to {high}"))
                else:
                    answers[qid] = value
        if other is not None and choice and not blank(row[other]):
            answers.setdefault(qid, "other" if kind == "single" else ["other"])
            if kind == "multiple" and "other" not in answers[qid]:
                answers[qid].append("other")
            answers[f"{qid}.other"] = row[other].strip()
        for c, key in comment_ids:
            if not blank(row[c]):
                answers[key] = row[c].strip()
        return answers, problems

    return Reading([question, *extra_questions], read, notes=notes, condensed=joined)


def _joined(values: list[str]) -> bool:
    """A condensed checkbox column: some answer is several answers joined with ``, `` that each
    appear alone elsewhere (a label holding a comma is not split)."""
    alone = set(values)
    return any(", " in v and all(part in alone for part in v.split(", ")) for v in values)


def _multiple(group: Group, qid: str, options: list[tuple[int, str]], others: list[int]) -> Reading:
    """Checkboxes: a column per option, ticked = not blank (the text or the number)."""
    choices = [Choice(str(i), label) for i, (_, label) in enumerate(options, start=1)]
    other = others[0] if others else None
    if other is not None:
        label = group.labels[group.columns.index(other)]
        choices.append(Choice(str(len(choices) + 1), label, other=True))
    question = ImportedQuestion(
        qid,
        group.text,
        "multiple",
        f"columns {group.columns[0] + 1}–{group.columns[-1] + 1}",
        options=choices,
    )

    def read(row: list[str]) -> tuple[Answers, list[Problem]]:
        picked = [choices[i].code for i, (c, _) in enumerate(options) if not blank(row[c])]
        answers: Answers = {}
        if other is not None and not blank(row[other]):
            picked.append(choices[-1].code)
            answers[f"{qid}.other"] = row[other].strip()
        if picked:
            answers[qid] = picked
        return answers, []

    return Reading([question], read)


def _matrix(
    group: Group,
    qid: str,
    options: list[tuple[int, str]],
    others: list[int],
    *,
    ranking: bool,
    mode: str,
    rows: list[list[str]],
) -> Reading:
    """A matrix of numbers (a column per row) or a ranking (a column per item: its rank)."""
    items = [Choice(f"{qid}_{i}", label) for i, (_, label) in enumerate(options, start=1)]
    cells = [_integer(row[c]) for row in rows for c, _ in options if not blank(row[c])]
    numbers = [n for n in cells if n is not None]
    if ranking:
        low, high = 1, len(options)
    else:
        low = 0 if numbers and min(numbers) == 0 else 1
        top = max(numbers, default=5)
        high = next((h for h in (5, 7, 10) if top <= h), top)
    question = ImportedQuestion(
        qid,
        group.text,
        "matrix",
        f"columns {group.columns[0] + 1}–{group.columns[-1] + 1}",
        rows=items,
        scale=(low, high),
    )
    notes = []
    if ranking:
        notes.append(
            f"{qid}: a ranking — read as a matrix whose rows are the items and whose "
            f"values are the ranks (1 = first, N/A = not ranked)"
        )
    elif mode == NUMERIC_MODE:
        notes.append(f"{qid}: matrix values are SurveyMonkey's column numbers (1 = first column)")
    comments = [
        ImportedQuestion(
            f"{qid}_comment",
            f"{group.text} — {group.labels[group.columns.index(c)]}",
            "text",
            f"column {c + 1}",
        )
        for c in others[:1]
    ]

    def read(row: list[str]) -> tuple[Answers, list[Problem]]:
        values: dict[str, int] = {}
        problems: list[Problem] = []
        for item, (c, _) in zip(items, options, strict=True):
            raw = row[c].strip()
            if blank(raw):
                continue
            value = _integer(raw)
            if value is None or not low <= value <= high:
                problems.append((item.code, raw, f"is not a whole number from {low} to {high}"))
            else:
                values[item.code] = value
        answers: Answers = {qid: values} if values else {}
        if comments and not blank(row[others[0]]):
            answers[comments[0].id] = row[others[0]].strip()
        return answers, problems

    return Reading([question, *comments], read, notes=notes)


def _label_matrix(
    group: Group,
    qid: str,
    options: list[tuple[int, str]],
    others: list[int],
    labels: list[str],
) -> Reading:
    """A matrix answered with column labels (actual-text export): their order is not in the file,
    so each row becomes a single-choice question with the labels seen (design rule)."""
    choices = [Choice(x, x) for x in labels]
    questions = [
        ImportedQuestion(
            f"{qid}_{i}",
            f"{group.text} — {label}",
            "single",
            f"column {c + 1}",
            options=list(choices),
        )
        for i, (c, label) in enumerate(options, start=1)
    ]
    notes = [
        f"{qid}: a matrix answered with labels — read as one single-choice question per row "
        f"({qid}_1…{qid}_{len(options)}); its column order is not in an actual-text export"
    ]
    comments = [
        ImportedQuestion(
            f"{qid}_comment",
            f"{group.text} — {group.labels[group.columns.index(c)]}",
            "text",
            f"column {c + 1}",
        )
        for c in others[:1]
    ]

    def read(row: list[str]) -> tuple[Answers, list[Problem]]:
        answers: Answers = {
            q.id: row[c].strip()
            for q, (c, _) in zip(questions, options, strict=True)
            if not blank(row[c])
        }
        if comments and not blank(row[others[0]]):
            answers[comments[0].id] = row[others[0]].strip()
        return answers, []

    return Reading([*questions, *comments], read, notes=notes)
