"""LimeSurvey answer columns grouped into questions and decoded into cxloop's answer format.

A question is one column (list, text, number) or several (``Q3[SQ001]``… for multiple choice and
arrays, ``Q1[other]`` for "other, please specify", ``Q6[1]``… for ranking). With the ``.lss`` the
type letter decides; without it the column shapes and values do (``Y``/empty = multiple choice
codes, ``Yes``/``No`` = its long form, small integers = a scale). Pure: no database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cxloop.surveys.importers import limesurvey_answers as dec
from cxloop.surveys.importers.common import (
    identifier,
    looks_like_free_text,
    number,
    scored_kind,
    unique_ids,
)
from cxloop.surveys.importers.limesurvey_answers import (
    NO,
    NOT_SHOWN,
    OTHER,
    YES,
    Cells,
    Column,
    Decode,
)
from cxloop.surveys.importers.limesurvey_values import (
    coded_kind,
    int_scale,
    is_comment,
    is_other,
    nps_number,
    values_of,
)
from cxloop.surveys.importers.lss import LssQuestion, LssSurvey
from cxloop.surveys.importers.model import Choice, ImportedQuestion, RowProblem


@dataclass
class Group:
    key: str
    code: str | None
    text: str
    columns: list[Column]
    lss: LssQuestion | None = None


@dataclass
class Built:
    """The questions, and how one row's cells become answers (and row problems)."""

    questions: list[ImportedQuestion]
    decoders: list[Decode]
    value_mode: str
    notes: list[str] = field(default_factory=list)
    kept_raw: list[str] = field(default_factory=list)

    def decode(self, cells: Cells) -> tuple[dict[str, Any], list[RowProblem], dict[str, str]]:
        answers: dict[str, Any] = {}
        problems: list[RowProblem] = []
        kept: dict[str, str] = {}
        for decoder in self.decoders:
            got, bad, raw = decoder(cells)
            answers.update(got)
            kept.update(raw)
            problems += [RowProblem(0, f, v, r) for f, v, r in bad]
        return answers, problems, kept


def build_questions(
    columns: list[Column], rows: list[Cells], survey: LssSurvey | None, style: str
) -> Built:
    """Group the answer columns into questions and make each one's decoder."""
    groups = _groups(columns, survey, style)
    long_mode = _long_mode(groups, rows, survey)
    ids = unique_ids(identifier(g.code or "", f"q{n}") for n, g in enumerate(groups, start=1))
    built = Built([], [], "long (texts)" if long_mode else "short (codes)")
    undecoded: list[str] = []
    for qid, group in zip(ids, groups, strict=True):
        if group.lss is not None:
            _from_lss(built, qid, group, rows, long_mode)
        else:
            _inferred(built, qid, group, rows, long_mode, undecoded)
    if undecoded:
        built.notes.append(
            f"{', '.join(undecoded)}: LimeSurvey answer codes kept raw — give the survey's "
            ".lss or .lsa with --definition to decode them"
        )
    if survey is None and style in ("code", "sgqa"):
        built.notes.append("code headings without the .lss: question texts are the codes")
    return built


def _groups(columns: list[Column], survey: LssSurvey | None, style: str) -> list[Group]:
    by_code = survey.by_code() if survey else {}
    by_qid = survey.by_qid() if survey else {}
    groups: list[Group] = []
    if style == "full" and survey is not None:
        _align(columns, survey)
    for column in columns:
        if column.qid is not None:
            question = by_qid.get(column.qid)
            column.code = question.code if question else f"q{column.qid}"
        key = column.code or column.text
        if groups and groups[-1].key == key:
            groups[-1].columns.append(column)
            continue
        question = by_code.get(column.code or "")
        text = question.text(survey.language) if question and survey else column.text
        groups.append(Group(key, column.code, text or column.code or key, [column], question))
    return groups


def _expected(question: LssQuestion) -> list[str | None]:
    """The columns LimeSurvey writes for a question, in order (its field map)."""
    t = question.type
    subs: list[str | None] = [s.code for s in question.subs(0)]
    if t in ("L", "!"):
        return [None] + (["other"] if question.other else [])
    if t == "O":
        return [None, "comment"]
    if t == "M":
        return [*subs, *(["other"] if question.other else [])]
    if t == "P":
        out: list[str | None] = []
        for sub in subs:
            out += [sub, f"{sub}comment"]
        return out + (["other", "othercomment"] if question.other else [])
    if t in ("A", "B", "C", "E", "F", "H", "Q", "K"):
        return list(subs)
    if t in (";", ":"):
        return [f"{y}_{x.code}" for y in subs for x in question.subs(1)]
    if t == "1":
        return [f"{s}#{n}" for s in subs for n in (0, 1)]
    if t == "R":
        return [str(n) for n in range(1, len(question.options(0)) + 1)]
    if t == "|":
        return [None, "filecount"]
    if t == "X":
        return []
    return [None]


def _align(columns: list[Column], survey: LssSurvey) -> None:
    """Text headings carry no codes: give each column its question code and subquestion from
    the .lss field map, by position (the export writes them in that order)."""
    expected = [(q, sub) for q in survey.questions for sub in _expected(q)]
    if len(expected) == len(columns):
        for column, (question, sub) in zip(columns, expected, strict=True):
            column.code, column.sub = question.code, sub
        return
    # some columns were left out of the export: match the heading texts instead
    by_text = {q.text(survey.language): q for q in survey.questions}
    for column in columns:
        matched = by_text.get(column.text) or _abbreviated(column.text, survey)
        if matched is None:
            continue
        subs = {s.label: s.code for s in matched.subs(0)}
        if not column.subtext:
            sub = None
        elif column.subtext in subs:
            sub = subs[column.subtext]
        elif column.subtext.casefold() in OTHER:
            sub = "other"
        else:
            continue
        if sub in _expected(matched):
            column.code, column.sub = matched.code, sub


def _abbreviated(text: str, survey: LssSurvey) -> LssQuestion | None:
    """An abbreviated heading (``How likely are.. ``) names the question it starts."""
    if not text.endswith(".."):
        return None
    start = text[:-2].strip()
    found = [q for q in survey.questions if q.text(survey.language).startswith(start)]
    return found[0] if len(found) == 1 else None


def _long_mode(groups: list[Group], rows: list[Cells], survey: LssSurvey | None) -> bool:
    """Short (codes) or long (texts) answers, from the cells the two forms write differently."""
    short = long = 0
    for group in groups:
        for column in group.columns:
            for cells in rows:
                value = dec.cell(cells, column).strip()
                if not value:
                    continue
                low = value.casefold()
                if low in YES or low in NO or low in NOT_SHOWN:
                    long += 1
                elif value == "Y" or (value == "N" and len(group.columns) > 1):
                    short += 1
                elif group.lss is not None and group.lss.type in "L!OF":
                    codes = {a.code for a in group.lss.options(0)}
                    labels = {a.label for a in group.lss.options(0)}
                    short += value in codes and value not in labels
                    long += value in labels and value not in codes
                elif dec.CODE_LIKE.match(value):
                    short += 1
    return long > short


# ---------------------------------------------------------------- with the .lss


def _from_lss(built: Built, qid: str, group: Group, rows: list[Cells], long: bool) -> None:
    q = group.lss
    assert q is not None
    subs = {c.sub: c for c in group.columns}
    main = subs.get(None)
    t = q.type
    text = group.text
    source = f"{q.code} (LimeSurvey type {t})"
    if t in ("L", "!", "O") and main is not None:
        answers = q.options(0)
        scale = int_scale([a.label for a in answers])
        if scale and not q.other:
            kind = scored_kind(text, *scale)
            built.questions.append(ImportedQuestion(qid, text, kind, source, scale=scale))
            to_label = {a.code: a.label for a in answers}
            labels = {a.label for a in answers}
            built.decoders.append(
                dec.scored(qid, main, scale, to_label if not long else None, labels)
            )
        else:
            choices = [Choice(a.code, a.label) for a in answers]
            if q.other:
                choices.append(Choice("-oth-", "Other", other=True))
            built.questions.append(
                ImportedQuestion(qid, text, "single", source, options=choices, codes="tool_codes")
            )
            built.decoders.append(dec.single(qid, main, choices, long, subs.get("other")))
        if "comment" in subs:
            built.decoders.append(dec.kept(f"{qid}_comment", subs["comment"]))
        return
    if t == "5" and main is not None:
        kind = scored_kind(text, 1, 5)
        built.questions.append(ImportedQuestion(qid, text, kind, source, scale=(1, 5)))
        built.decoders.append(dec.scored(qid, main, (1, 5), None, None))
        return
    if t in ("Y", "G") and main is not None:
        pairs = [("Y", "Yes"), ("N", "No")] if t == "Y" else [("F", "Female"), ("M", "Male")]
        choices = [Choice(c, label) for c, label in pairs]
        built.questions.append(
            ImportedQuestion(qid, text, "single", source, options=choices, codes="tool_codes")
        )
        built.decoders.append(dec.yes_no(qid, main, choices, long))
        return
    if t in ("M", "P"):
        choices = [Choice(s.code, s.label) for s in q.subs(0)]
        if q.other:
            choices.append(Choice("other", "Other", other=True))
        built.questions.append(
            ImportedQuestion(qid, text, "multiple", source, options=choices, codes="tool_codes")
        )
        ticks = [(subs[c.code], c) for c in choices if c.code in subs]
        built.decoders.append(dec.multiple(qid, ticks))
        for column in group.columns:
            if (column.sub or "").endswith("comment"):
                built.decoders.append(dec.kept(identifier(f"{qid}_{column.sub}", qid), column))
        return
    if t in ("A", "B", "F", "H", "R"):
        _matrix_lss(built, qid, group, q, long, source)
        return
    if t in ("C", "E"):
        pairs = (
            [("Y", "Yes"), ("U", "Uncertain"), ("N", "No")]
            if t == "C"
            else [("I", "Increase"), ("S", "Same"), ("D", "Decrease")]
        )
        for column in group.columns:
            row_label = next((s.label for s in q.subs(0) if s.code == column.sub), column.sub or "")
            rid = identifier(f"{qid}_{column.sub}", f"{qid}_row")
            choices = [Choice(c, lab) for c, lab in pairs]
            built.questions.append(
                ImportedQuestion(
                    rid,
                    f"{text} [{row_label}]",
                    "single",
                    source,
                    options=choices,
                    codes="tool_codes",
                )
            )
            built.decoders.append(dec.single(rid, column, choices, long, None))
        return
    if t in ("S", "T", "U", "D", "Q", "N") or (t in ("L", "!", "O") and main is None):
        for column in group.columns:
            if t == "N" and nps_number(text, rows, column):
                built.questions.append(ImportedQuestion(qid, text, "nps", source, scale=(0, 10)))
                built.decoders.append(dec.scored(qid, column, (0, 10), None, None))
                continue
            cid = qid if column.sub is None else identifier(f"{qid}_{column.sub}", qid)
            label: str | None = next(
                (s.label for s in q.subs(0) if s.code == column.sub), column.sub
            )
            built.questions.append(
                ImportedQuestion(
                    cid, text if label is None else f"{text} [{label}]", "text", source
                )
            )
            built.decoders.append(dec.text(cid, column))
        return
    for column in group.columns:
        built.decoders.append(dec.kept(identifier(column.header, qid), column))
    built.kept_raw.append(f"{q.code} (LimeSurvey type {t}): kept raw as attributes")


def _matrix_lss(
    built: Built, qid: str, group: Group, q: LssQuestion, long: bool, source: str
) -> None:
    t = q.type
    if t == "R":
        items = q.options(0)
        rows = [Choice(identifier(f"{qid}_{a.code}", qid), a.label) for a in items]
        pairs = list(zip(items, rows, strict=True))
        lookup = {
            **{a.code if long else a.label: r.code for a, r in pairs},
            **{a.label if long else a.code: r.code for a, r in pairs},
        }
        built.questions.append(
            ImportedQuestion(
                qid,
                group.text,
                "matrix",
                source,
                rows=rows,
                scale=(1, max(len(items), 1)),
                codes="tool_codes",
                notes=["ranking: each item's value is its rank (1 = first)"],
            )
        )
        built.decoders.append(dec.ranking(qid, group.columns, lookup))
        return
    subs = q.subs(0)
    rows = [Choice(identifier(f"{qid}_{s.code}", qid), s.label) for s in subs]
    row_of = {s.code: r.code for s, r in zip(subs, rows, strict=True)}
    if t in ("A", "B"):
        high = 5 if t == "A" else 10
        values = {str(n): n for n in range(1, high + 1)}
    else:
        answers = q.options(0)
        high = max(len(answers), 1)
        values = {
            **{(a.code if long else a.label): n for n, a in enumerate(answers, start=1)},
            **{(a.label if long else a.code): n for n, a in enumerate(answers, start=1)},
        }
    notes = (
        [] if t in ("A", "B") else ["array: each row's value is its answer's position (1 = first)"]
    )
    built.questions.append(
        ImportedQuestion(
            qid,
            group.text,
            "matrix",
            source,
            rows=rows,
            scale=(1, high),
            codes="tool_codes",
            notes=notes,
        )
    )
    built.decoders.append(dec.matrix(qid, group.columns, row_of, values))


# ---------------------------------------------------------------- without the .lss


def _inferred(
    built: Built, qid: str, group: Group, rows: list[Cells], long: bool, undecoded: list[str]
) -> None:
    source = f"{group.code or 'column ' + str(group.columns[0].index + 1)}"
    text = group.text
    values = {c.index: values_of(rows, c) for c in group.columns}
    if len(group.columns) == 1:
        column = group.columns[0]
        _single_column(built, qid, text, source, column, values[column.index], undecoded)
        return
    others = [c for c in group.columns if is_other(c)]
    main = [c for c in group.columns if c not in others and not is_comment(c)]
    main_values = [v for c in main for v in values[c.index]]
    if len(main) == 1 and (main[0].sub is None and not main[0].subtext):
        _single_column(built, qid, text, source, main[0], values[main[0].index], undecoded, others)
        return
    if main_values and all(v == "Y" or v.casefold() in YES | NO | NOT_SHOWN for v in main_values):
        choices = [Choice(c.sub or c.subtext, c.subtext or c.sub or "") for c in main]
        if others:
            choices.append(Choice("other", others[0].subtext or "Other", other=True))
        built.questions.append(ImportedQuestion(qid, text, "multiple", source, options=choices))
        built.decoders.append(dec.multiple(qid, list(zip(main + others[:1], choices, strict=True))))
        return
    ints = [n for n in (number(v) for v in main_values) if n is not None]
    if (
        main_values
        and len(ints) == len(main_values)
        and all(n.is_integer() and 1 <= n <= 10 for n in ints)
    ):
        high = 5 if max(ints) <= 5 else 7 if max(ints) <= 7 else 10
        row_list = [
            Choice(identifier(f"{qid}_{c.sub or n}", qid), c.subtext or c.sub or str(n))
            for n, c in enumerate(main, start=1)
        ]
        built.questions.append(
            ImportedQuestion(qid, text, "matrix", source, rows=row_list, scale=(1, high))
        )
        row_of = {(c.sub or c.subtext): r.code for c, r in zip(main, row_list, strict=True)}
        scale = {str(n): n for n in range(1, high + 1)}
        built.decoders.append(dec.matrix(qid, main, row_of, scale))
        return
    # a label-scale array (Zeer tevreden … Ontevreden) without the .lss: one single question per
    # row, each offered every label the rows share (few rows hold too few answers to tell alone)
    pool = None if looks_like_free_text(main_values) else main_values
    for n, column in enumerate(main, start=1):
        cid = identifier(f"{qid}_{column.sub or n}", f"{qid}_{n}")
        label = f"{text} [{column.subtext or column.sub}]"
        _single_column(
            built, cid, label, source, column, values[column.index], undecoded, pool=pool
        )
    for column in group.columns:
        if column not in main:
            built.decoders.append(
                dec.kept(identifier(f"{qid}_{column.sub or 'other'}", qid), column)
            )


def _single_column(
    built: Built,
    qid: str,
    text: str,
    source: str,
    column: Column,
    values: list[str],
    undecoded: list[str],
    others: list[Column] | None = None,
    pool: list[str] | None = None,
) -> None:
    """A scale, a choice or free text, from one column's answers (``pool``: the answers of
    every row of its array, whose labels each row may use)."""
    nums = [n for n in (number(v) for v in values) if n is not None]
    if values and len(nums) == len(values) and all(n.is_integer() for n in nums) and not others:
        low, high = int(min(nums)), int(max(nums))
        scale = (
            (0, 10)
            if low >= 0 and high <= 10 and (low == 0 or high > 7)
            else ((1, 5) if low >= 1 and high <= 5 else (1, 7) if low >= 1 and high <= 7 else None)
        )
        if scale:
            kind = coded_kind(text, scale)
            built.questions.append(ImportedQuestion(qid, text, kind, source, scale=scale))
            built.decoders.append(dec.scored(qid, column, scale, None, None))
            return
    seen = pool or values
    distinct = list(dict.fromkeys(seen))
    coded = bool(values) and all(dec.CODE_LIKE.match(v) for v in values)
    repeats = len(distinct) <= max(2, len(seen) // 2) or (
        pool is not None and len(seen) > len(distinct)
    )
    chosen = repeats and len(distinct) <= 15
    if coded or (values and chosen and not looks_like_free_text(values)):
        choices = [Choice(v, v) for v in distinct if v.casefold() not in OTHER and v != "-oth-"]
        if others or any(v.casefold() in OTHER or v == "-oth-" for v in distinct):
            choices.append(Choice("-oth-", "Other", other=True))
        question = ImportedQuestion(
            qid,
            text,
            "single",
            source,
            options=choices,
            codes="tool_codes" if coded else "labels",
            decoded=not coded,
        )
        built.questions.append(question)
        if coded:
            undecoded.append(qid)
        built.decoders.append(
            dec.single(qid, column, choices, not coded, others[0] if others else None)
        )
        return
    built.questions.append(ImportedQuestion(qid, text, "text", source))
    built.decoders.append(dec.text(qid, column))
