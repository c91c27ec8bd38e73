"""A LimeSurvey survey structure (``.lss``, or the ``.lss`` inside an ``.lsa`` archive) read into
the questions, subquestions and answer options that decode a response export's codes.

Why our own reader: the ``.lss`` is a plain XML table dump (``<questions><rows><row>…``) that no
maintained Python library reads; the stdlib parser is enough. Two generations are read alike:
texts inline (``<question>``/``<answer>`` in the rows, before LimeSurvey 4) or in the
``question_l10ns``/``answer_l10ns``/``group_l10ns`` tables (4 and later). The ``.lsr`` responses
table of an archive reads into the same grid an SGQA-headed CSV gives. Pure: no database.
"""

from __future__ import annotations

import html
import io
import re
import xml.etree.ElementTree as ET
import zipfile
import zlib
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from cxloop.errors import Invalid
from cxloop.surveys.importers.model import Grid

_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")


def flat(text: str) -> str:
    """Question and answer texts as LimeSurvey writes them into export headings and long
    answers: HTML tags dropped, entities decoded, whitespace collapsed."""
    return _SPACE.sub(" ", html.unescape(_TAG.sub(" ", text or ""))).strip()


@dataclass
class LssChoice:
    """An answer option (``code`` → ``label``) or a subquestion (``code`` → its text)."""

    code: str
    label: str
    order: int = 0


@dataclass
class LssQuestion:
    """One question: LimeSurvey type letter, code (``title``), its texts by language, the
    subquestions by scale (arrays: scale 1 = the columns of ``;``/``:``) and answers by scale."""

    qid: str
    gid: str
    code: str
    type: str
    texts: dict[str, str]
    other: bool = False
    subquestions: dict[int, list[LssChoice]] = field(default_factory=dict)
    answers: dict[int, list[LssChoice]] = field(default_factory=dict)

    def text(self, language: str) -> str:
        return self.texts.get(language) or next(iter(self.texts.values()), self.code)

    def subs(self, scale: int = 0) -> list[LssChoice]:
        return self.subquestions.get(scale, [])

    def options(self, scale: int = 0) -> list[LssChoice]:
        return self.answers.get(scale, [])


@dataclass
class LssSurvey:
    """The survey: id, title, base language and the questions in survey order."""

    sid: str
    title: str
    language: str
    languages: list[str]
    questions: list[LssQuestion]

    def by_code(self) -> dict[str, LssQuestion]:
        return {q.code: q for q in self.questions}

    def by_qid(self) -> dict[str, LssQuestion]:
        return {q.qid: q for q in self.questions}


def read_definition(name: str, data: bytes, language: str | None = None) -> LssSurvey:
    """The survey in a ``.lss`` (XML) or ``.lsa`` (zip holding one ``.lss``); ``Invalid``
    naming the file and why when it is neither."""
    if data[:4] == b"PK\x03\x04":
        data = _lss_in_archive(name, data)
    return parse_lss(data, name, language)


def _lss_in_archive(name: str, data: bytes) -> bytes:
    missing = "is a zip without a .lss survey structure inside (an .lsa holds survey_<sid>.lss)"
    return _member(name, data, ".lss", "--definition", missing)


_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    ValueError,
    NotImplementedError,
    RuntimeError,
)
"""What reading a damaged, encrypted or oddly compressed zip raises (not only BadZipFile)."""


def _member(name: str, data: bytes, suffix: str, field: str, missing: str) -> bytes:
    """The first member of the ``.lsa`` zip whose name ends ``suffix``; ``Invalid`` (``missing``
    when there is none) rather than zipfile's or zlib's own exceptions."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = [m for m in archive.namelist() if m.lower().endswith(suffix)]
            if not members:
                raise Invalid(missing, field, name)
            return archive.read(members[0])
    except _ZIP_ERRORS as exc:
        raise Invalid(f"is not a readable .lsa archive ({exc})", field, name) from None


def parse_lss(data: bytes, name: str = "", language: str | None = None) -> LssSurvey:
    """Read the XML; texts in ``language`` when given (else the survey's base language)."""
    head = data[:4096].lower()
    if b"<!doctype" in head or b"<!entity" in head:
        raise Invalid("has a DOCTYPE/ENTITY declaration; a .lss never does", "--definition", name)
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise Invalid(f"is not a LimeSurvey .lss (XML: {exc})", "--definition", name) from None
    if root.tag != "document" or (root.findtext("LimeSurveyDocType") or "").strip() != "Survey":
        raise Invalid(
            "is not a LimeSurvey survey structure (.lss: <document> with "
            "<LimeSurveyDocType>Survey</LimeSurveyDocType>)",
            "--definition",
            name,
        )
    survey = _rows(root, "surveys")
    settings = _rows(root, "surveys_languagesettings")
    base = (survey[0].get("language") if survey else "") or (
        root.findtext("languages/language") or "en"
    )
    languages = [(e.text or "").strip() for e in root.findall("languages/language") if e.text]
    lang = language if language and language in (languages or [base]) else base
    sid = (survey[0].get("sid") if survey else "") or (
        settings[0].get("surveyls_survey_id", "") if settings else ""
    )
    title = next(
        (s.get("surveyls_title", "") for s in settings if s.get("surveyls_language") == lang),
        settings[0].get("surveyls_title", "") if settings else "",
    )
    return LssSurvey(
        sid=sid,
        title=flat(title) or f"LimeSurvey {sid}",
        language=lang,
        languages=languages or [base],
        questions=_questions(root, lang),
    )


def _rows(root: ET.Element, table: str) -> list[dict[str, str]]:
    return [
        {child.tag: (child.text or "") for child in row}
        for row in root.findall(f"{table}/rows/row")
    ]


def _number(text: Any) -> int:
    try:
        return int(str(text).strip() or 0)
    except ValueError:
        return 0


def _questions(root: ET.Element, lang: str) -> list[LssQuestion]:
    q_texts = _l10n(_rows(root, "question_l10ns"), "qid", "question")
    a_texts = _l10n(_rows(root, "answer_l10ns"), "aid", "answer")
    group_order = {g["gid"]: _number(g.get("group_order")) for g in _rows(root, "groups")}
    rows = _rows(root, "questions")
    parents: dict[str, LssQuestion] = {}
    order: dict[str, tuple[int, int]] = {}
    for row in rows:
        qid = row.get("qid", "")
        texts = q_texts.get(qid) or {}
        if "question" in row:
            texts = {**texts, row.get("language") or lang: flat(row["question"])}
        if qid in parents:
            parents[qid].texts.update(texts)
            continue
        if row.get("parent_qid", "0") not in ("", "0"):
            continue
        parents[qid] = LssQuestion(
            qid=qid,
            gid=row.get("gid", ""),
            code=row.get("title", "").strip(),
            type=row.get("type", "").strip(),
            texts={k: v for k, v in texts.items() if v},
            other=row.get("other", "N").strip().upper() == "Y",
        )
        order[qid] = (group_order.get(row.get("gid", ""), 0), _number(row.get("question_order")))
    subs: dict[str, dict[int, dict[str, LssChoice]]] = defaultdict(lambda: defaultdict(dict))
    for row in _rows(root, "subquestions") + [r for r in rows if r.get("parent_qid", "0") != "0"]:
        parent = row.get("parent_qid", "")
        if parent not in parents:
            continue
        texts = q_texts.get(row.get("qid", "")) or {}
        text = flat(row.get("question", "")) if "question" in row else ""
        label = (text if row.get("language", lang) == lang else "") or _pick(texts, lang)
        code = row.get("title", "").strip()
        known = subs[parent][_number(row.get("scale_id"))].get(code)
        if known is None or (label and row.get("language") == lang):
            subs[parent][_number(row.get("scale_id"))][code] = LssChoice(
                code, label or (known.label if known else code), _number(row.get("question_order"))
            )
    answers: dict[str, dict[int, dict[str, LssChoice]]] = defaultdict(lambda: defaultdict(dict))
    for row in _rows(root, "answers"):
        qid = row.get("qid", "")
        if qid not in parents:
            continue
        code = row.get("code", "").strip()
        label = (
            flat(row["answer"])
            if "answer" in row
            else _pick(a_texts.get(row.get("aid", "")) or {}, lang)
        )
        scale = _number(row.get("scale_id"))
        known = answers[qid][scale].get(code)
        if known is None or row.get("language", lang) == lang:
            answers[qid][scale][code] = LssChoice(
                code, label or code, _number(row.get("sortorder"))
            )
    for qid, question in parents.items():
        question.subquestions = {
            s: sorted(c.values(), key=lambda c: c.order) for s, c in sorted(subs[qid].items())
        }
        question.answers = {
            s: sorted(c.values(), key=lambda c: c.order) for s, c in sorted(answers[qid].items())
        }
        if lang in question.texts:
            question.texts = {lang: question.texts[lang], **question.texts}
    return sorted(parents.values(), key=lambda q: order[q.qid])


def _l10n(rows: list[dict[str, str]], key: str, text: str) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = defaultdict(dict)
    for row in rows:
        out[row.get(key, "")][row.get("language", "")] = flat(row.get(text, ""))
    return out


def _pick(texts: dict[str, str], lang: str) -> str:
    return texts.get(lang) or next((t for t in texts.values() if t), "")


def responses_grid(name: str, data: bytes) -> Grid:
    """The responses of an ``.lsr`` (or of the ``.lsr`` inside an ``.lsa``) as the grid an old
    SGQA-headed CSV export gives: one header row (``id``, ``submitdate``…, ``482913X10X101``)
    and one row per response, so the same reader (with the ``.lss``) decodes them.

    Element names cannot start with a digit, so LimeSurvey writes ``<_482913X10X101>``; the
    ``<fields>`` list keeps the real names and their order."""
    if data[:4] == b"PK\x03\x04":
        data = _member(name, data, ".lsr", "file", "holds no .lsr responses")
    if b"<!doctype" in data[:4096].lower() or b"<!entity" in data[:4096].lower():
        raise Invalid("has a DOCTYPE/ENTITY declaration; an .lsr never does", "file", name)
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise Invalid(f"is not a LimeSurvey .lsr (XML: {exc})", "file", name) from None
    fields = [(f.text or "").strip() for f in root.findall("responses/fields/fieldname")]
    if not fields or "id" not in fields:
        raise Invalid("is not a LimeSurvey .lsr (no responses/fields)", "file", name)
    rows = [fields]
    for row in root.findall("responses/rows/row"):
        cells = {child.tag.lstrip("_"): child.text or "" for child in row}
        rows.append([cells.get(f, "") for f in fields])
    return Grid(rows, "csv", encoding="utf-8", delimiter=None, name=name)
