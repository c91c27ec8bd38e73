"""Qualtrics questions read from the export alone, without the ``.qsf``: choice text is fully
readable (labels, numbered labels as scores, the choice order recovered from the answers);
numeric codes are kept raw and said so. Pure: no database."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from typing import Any

from cxloop.surveys.importers.common import looks_like_free_text, number, scored_kind, whole
from cxloop.surveys.importers.model import Choice, ImportedQuestion
from cxloop.surveys.importers.qualtrics_questions import (
    Built,
    Cells,
    Column,
    Group,
    Problem,
    label_number,
    row_id,
    scored_reader,
    statement,
    texts_reader,
    typed,
    unanswered,
)

_CODES = re.compile(r"^\s*-?\d+(?:\s*,\s*-?\d+)*\s*$")
_JOIN = re.compile(r",(?! )")
"""Qualtrics joins multiple answers with a bare comma; a comma followed by a space is more
likely inside a label ("Price, value for money")."""


def without_qsf(
    group: Group, qid: str, numeric: bool, text: str, values: Callable[[Column], list[str]]
) -> Built | None:
    """The question(s) a group makes from the file alone: labels and numbers in choice-text
    mode, codes kept raw (``decoded=False``) in numeric mode, NPS confirmed by its group column."""
    source = f"{group.tag} ({group.key})"
    main = group.main
    if main is not None and group.nps_group is not None:
        question = ImportedQuestion(qid, text, "nps", source, scale=(0, 10))
        return Built([question], scored_reader(qid, main, None, (0, 10)))
    if main is None and not group.parts and "TEXT" in group.texts:
        return Built(
            [ImportedQuestion(qid, text, "text", source)],
            texts_reader([(qid, group.texts["TEXT"])]),
        )
    if main is not None:
        seen = [v.strip() for v in values(main) if not unanswered(v)]
        if _typed(seen, numeric):
            note = f"{qid}: read as typed text (no .qsf; the legacy export has no _TEXT suffix)"
            question = ImportedQuestion(qid, text, "text", source, notes=[note])
            return Built([question], texts_reader([(qid, main)]))
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
            return Built([question], scored_reader(qid, main, by_label, (low, high)))
        return _labels(group, qid, text, source, main, seen)
    if group.parts:
        return _parts_alone(group, qid, numeric, text, source, values)
    return None


def _typed(seen: list[str], numeric: bool) -> bool:
    """A one-column answer is typed text when a numeric export holds something that is not a
    code there, or a choice-text column is mostly different, long or multi-line answers (no
    choice question looks like that)."""
    if not seen:
        return False
    if numeric:
        return not all(_CODES.match(v) for v in seen)
    if any(len(v) > 120 for v in seen) or looks_like_free_text(seen):
        return True
    return len(seen) >= 5 and len(set(seen)) >= 0.8 * len(seen) and any(" " in v for v in seen)


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
    split = (lambda raw: raw.split(",")) if multiple else None
    return Built([question], _choice_reader(qid, main, group, ordered, split))


def _labels(group: Group, qid: str, text: str, source: str, main: Column, seen: list[str]) -> Built:
    multiple = any(len(_JOIN.split(v)) > 1 for v in seen)
    order = _survey_order([[p.strip() for p in _JOIN.split(v)] if multiple else [v] for v in seen])
    other_labels = _other_labels(group, main)
    options = [Choice(label, label, other=label in other_labels) for label in order]
    question = ImportedQuestion(
        qid, text, "multiple" if multiple else "single", source, options=options
    )
    return Built(
        [question], _choice_reader(qid, main, group, order, _JOIN.split if multiple else None)
    )


def _choice_reader(
    qid: str,
    main: Column,
    group: Group,
    order: list[str],
    split: Callable[[str], list[str]] | None,
) -> Callable[[Cells], tuple[dict[str, Any], list[Problem]]]:
    """Read one choice column: the value as written, or (``split`` given: a multiple choice)
    the chosen options in ``order``; the group's text columns as the "other" text."""
    others = list(group.texts.values())

    def read(cell: Cells) -> tuple[dict[str, Any], list[Problem]]:
        raw = cell(main)
        answers: dict[str, Any] = {}
        if not unanswered(raw):
            if split is not None:
                chosen = {p.strip() for p in split(raw) if p.strip()}
                answers[qid] = [c for c in order if c in chosen]
            else:
                answers[qid] = raw.strip()
        for col in others:
            if not unanswered(cell(col)):
                answers[f"{qid}.other"] = typed(cell(col))
        return answers, []

    return read


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
        for a, b in itertools.pairwise(parts):
            if a != b:
                after.setdefault(a, set()).add(b)
        for part in parts:
            if part not in seen:
                seen.append(part)
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
    seen = {k: [v.strip() for v in values(col) if not unanswered(v)] for k, col in parts}
    ticks = all(len(set(vs)) <= 1 for vs in seen.values())
    if (numeric and ticks) or (
        not numeric and all(all(v == labels[k] for v in vs) for k, vs in seen.items())
    ):
        options = [Choice(labels[k], labels[k]) for k, _ in parts]
        question = ImportedQuestion(qid, text, "multiple", source, options=options)
        others = list(group.texts.values())

        def read_ticks(cell: Cells) -> tuple[dict[str, Any], list[Problem]]:
            chosen = [labels[k] for k, col in parts if not unanswered(cell(col))]
            answers: dict[str, Any] = {qid: chosen} if chosen else {}
            for col in others:
                if not unanswered(cell(col)):
                    answers[f"{qid}.other"] = typed(cell(col))
            return answers, []

        return Built([question], read_ticks)
    all_numbers = [number(v) for vs in seen.values() for v in vs]
    if numeric or (all_numbers and None not in all_numbers):
        scores = [n for n in all_numbers if n is not None] or [1.0]
        rows = [Choice(row_id(f"{qid}_{k}"), labels[k]) for k, _ in parts]
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
                if unanswered(raw):
                    continue
                value = number(raw)
                if value is None:
                    problems.append((col.tag, raw, f"is not a number of {qid}'s scale"))
                else:
                    got[code] = whole(value)
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
        return {sub: cell(col).strip() for sub, col in readers if not unanswered(cell(col))}, []

    return Built(questions, read_rows)
