"""A Qualtrics survey definition (``.qsf``, JSON) read into what decoding an export needs.

Numeric exports hold the author's *recode values* (not 1..n, not the digit in a label), so only
the survey's own definition says what ``2`` meant. Pure: reads bytes, touches no store.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from cxloop.errors import Invalid

_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class QsfChoice:
    """A choice (or a matrix statement / scale point): its id in the survey, the label shown,
    the recode value a numeric export writes, and whether it takes typed text ("other")."""

    id: str
    label: str
    recode: str
    text_entry: bool = False
    export_tag: str | None = None


@dataclass(frozen=True)
class QsfQuestion:
    """One ``SQ`` element: ``qid`` (``QID7``), export tag (``Q7``), type and selector as
    Qualtrics names them, its plain text, choices in display order and a matrix's scale."""

    qid: str
    tag: str
    type: str
    selector: str
    sub_selector: str
    text: str
    choices: list[QsfChoice] = field(default_factory=list)
    answers: list[QsfChoice] = field(default_factory=list)
    slider: tuple[int, int] | None = None

    @property
    def multiple(self) -> bool:
        return self.type == "MC" and self.selector in ("MAVR", "MAHR", "MACOL", "MSB")


@dataclass(frozen=True)
class Qsf:
    """The parts of a ``.qsf`` an import uses."""

    survey_id: str | None
    name: str | None
    questions: dict[str, QsfQuestion]
    """By QID."""

    def by_tag(self) -> dict[str, QsfQuestion]:
        return {q.tag: q for q in self.questions.values()}


class _Text(HTMLParser):
    """Plain text of a question's HTML (the export's row 2 shows it without markup); the
    standard library's parser suffices for the few tags Qualtrics writes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("br", "p", "div", "li"):
            self.parts.append(" ")


def plain(html: Any) -> str:
    """``<p>How <b>likely</b>&nbsp;…</p>`` → ``How likely …`` (spaces collapsed)."""
    parser = _Text()
    parser.feed(str(html or ""))
    parser.close()
    return _SPACE.sub(" ", "".join(parts for parts in parser.parts).replace("\xa0", " ")).strip()


def read_qsf(name: str, data: bytes) -> Qsf:
    """The survey in a ``.qsf``; ``Invalid`` naming the file and what is wrong when it is not
    one (not JSON, no ``SurveyElements``)."""
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise Invalid(f"is not a Qualtrics .qsf (not JSON: {exc})", "--definition", name) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("SurveyElements"), list):
        raise Invalid(
            "is not a Qualtrics .qsf (no SurveyElements list: export it from Tools → "
            "Import/Export → Export Survey)",
            "--definition",
            name,
        )
    entry: dict[str, Any] = doc["SurveyEntry"] if isinstance(doc.get("SurveyEntry"), dict) else {}
    questions: dict[str, QsfQuestion] = {}
    for element in doc["SurveyElements"]:
        if not isinstance(element, dict) or element.get("Element") != "SQ":
            continue
        payload = element.get("Payload")
        if not isinstance(payload, dict):
            continue
        question = _question(element, payload)
        if question is not None:
            questions[question.qid] = question
    return Qsf(
        survey_id=_text(entry.get("SurveyID")) or None,
        name=_text(entry.get("SurveyName")) or None,
        questions=questions,
    )


def _question(element: dict[str, Any], payload: dict[str, Any]) -> QsfQuestion | None:
    qid = _text(payload.get("QuestionID") or element.get("PrimaryAttribute"))
    if not qid:
        return None
    recodes: dict[str, Any] = _object(payload.get("RecodeValues"))
    tags = _object(payload.get("ChoiceDataExportTags"))
    kind = _text(payload.get("QuestionType"))
    # A matrix's recodes belong to its scale (Answers); its Choices are the statements.
    choice_recodes: dict[str, Any] = {} if kind == "Matrix" else recodes
    choices = _choices(payload.get("Choices"), payload.get("ChoiceOrder"), choice_recodes, tags)
    answers = (
        _choices(payload.get("Answers"), payload.get("AnswerOrder"), recodes, {})
        if kind == "Matrix"
        else []
    )
    config = _object(payload.get("Configuration"))
    slider = None
    if kind == "Slider":
        low, high = config.get("CSSliderMin", 0), config.get("CSSliderMax", 100)
        if isinstance(low, int | float) and isinstance(high, int | float):
            slider = (int(low), int(high))
    return QsfQuestion(
        qid=qid,
        tag=_text(payload.get("DataExportTag")) or qid,
        type=kind,
        selector=_text(payload.get("Selector")),
        sub_selector=_text(payload.get("SubSelector")),
        text=plain(payload.get("QuestionText")) or _text(payload.get("QuestionDescription")),
        choices=choices,
        answers=answers,
        slider=slider,
    )


def _choices(
    raw: Any, order: Any, recodes: dict[str, Any], tags: dict[str, Any]
) -> list[QsfChoice]:
    """Choices in display order: ``Choices`` is an object keyed by id (a list in some files),
    ``ChoiceOrder`` their order; ids missing from the order come last."""
    if isinstance(raw, list):
        items = {str(i): value for i, value in enumerate(raw, start=1) if value}
    elif isinstance(raw, dict):
        items = {str(k): v for k, v in raw.items()}
    else:
        return []
    ids = [str(i) for i in order if str(i) in items] if isinstance(order, list) else []
    ids += [i for i in items if i not in ids]
    out = []
    for cid in ids:
        value = items[cid] if isinstance(items[cid], dict) else {}
        entry = value.get("TextEntry")
        tag = tags.get(cid)
        out.append(
            QsfChoice(
                id=cid,
                label=plain(value.get("Display")),
                recode=_text(recodes.get(cid)) or cid,
                text_entry=entry in (True, "true", "on", 1),
                export_tag=_text(tag) or None,
            )
        )
    return out


def _object(value: Any) -> dict[str, Any]:
    return {str(k): v for k, v in value.items()} if isinstance(value, dict) else {}


def _text(value: Any) -> str:
    return "" if value is None or value is False else str(value).strip()
