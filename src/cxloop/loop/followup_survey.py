"""The built-in one-question survey a resolved case's customer gets: "Was your problem solved?"
answered 0–10, in Chinese and English.

A normal stored survey (``case-followup``, created through ``surveys.service`` on first use), so
it shows in ``cxloop surveys list`` and its answers become feedback like any survey's. The
question is a single choice of the options ``0`` … ``10``, not an ``nps`` question: its answer
must never count as an NPS answer (nor make a detractor for the alert rules), and a ``rating``
starts at 1. Its feedback rows carry the answer as ``answer.solved`` and touchpoint
``case_followup``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from cxloop.errors import NotFound
from cxloop.surveys import service as surveys_service
from cxloop.surveys.definitions import SurveyDefinition, parse_definition

SURVEY_ID = "case-followup"
QUESTION_ID = "solved"
TOUCHPOINT = "case_followup"
CREATED_BY = "cxloop"
LOWEST, HIGHEST = 0, 10


def _option(number: int) -> dict[str, Any]:
    words = {
        LOWEST: {"zh": "0 = 完全没有", "en": "0 = not at all"},
        HIGHEST: {"zh": "10 = 完全解决", "en": "10 = completely"},
    }
    return {"id": str(number), "text": words.get(number, str(number))}


DEFINITION: dict[str, Any] = {
    "id": SURVEY_ID,
    "title": {"zh": "您的问题解决了吗？", "en": "Was your problem solved?"},
    "intro": {
        "zh": "您之前向我们反映的问题已处理完毕。请告诉我们，问题是否真正得到了解决。",
        "en": "We have worked on the problem you told us about. "
        "Please tell us whether it is really solved.",
    },
    "thanks": {
        "zh": "感谢您的回答！如果问题仍未解决，负责的同事会再次与您联系。",
        "en": "Thank you! If the problem is not solved, the person handling it will contact "
        "you again.",
    },
    "layout": "all_on_one",
    "default_language": "zh",
    "touchpoint": TOUCHPOINT,
    "journey_stage": "service_recovery",
    "reminders": {"max": 0},
    "questions": [
        {
            "id": QUESTION_ID,
            "type": "single",
            "required": True,
            "text": {
                "zh": "您的问题解决了吗？请打分 0–10（0 = 完全没有，10 = 完全解决）",
                "en": "Was your problem solved? Rate 0–10 (0 = not at all, 10 = completely)",
            },
            "options": [_option(n) for n in range(LOWEST, HIGHEST + 1)],
        }
    ],
}
"""The definition as a user would write it in YAML (checked by ``parse_definition``)."""


def definition() -> SurveyDefinition:
    return parse_definition(DEFINITION)


def ensure(session: Session) -> bool:
    """Store the survey when missing (or when this release changed it: a new version); False
    when someone archived it, which stops follow-ups until it is created again."""
    try:
        stored = surveys_service.get(session=session, survey_id=SURVEY_ID)
    except NotFound:
        stored = None
    if stored is not None and stored.status != "active":
        return False
    surveys_service.create(session=session, definition=definition(), created_by=CREATED_BY)
    return True


def score_of(answers: dict[str, Any] | None) -> int | None:
    """The 0–10 answer of a completed follow-up, or None when it holds none."""
    value = (answers or {}).get(QUESTION_ID)
    try:
        number = int(str(value).strip())
    except ValueError:
        return None
    return number if LOWEST <= number <= HIGHEST else None
