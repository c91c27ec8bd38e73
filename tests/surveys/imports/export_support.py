"""A store filled by hand with what an export must show: two versions of a survey (an option
renamed, a question added), imported and cxloop-collected responses, a partial, an "other" text,
a matrix, a quoted newline and comma, and a phone number inside a text answer."""

from __future__ import annotations

import datetime as dt
from typing import Any

from cxloop import api
from cxloop.config import Settings
from cxloop.surveys import definitions
from cxloop.surveys import service as surveys_service
from cxloop.surveys.models import SurveyResponse

SURVEY = "store-visit"
V1 = {
    "id": "store-visit",
    "title": {"zh": "门店回访", "en": "Store visit"},
    "questions": [
        {"id": "nps", "type": "nps", "text": {"zh": "推荐的可能性？", "en": "Recommend us?"}},
        {
            "id": "channel",
            "type": "single",
            "text": "您通过哪个渠道下单？",
            "options": [
                {"id": "app", "text": "手机应用"},
                {"id": "web", "text": "网站"},
                {"id": "other", "text": "其他", "other": True},
            ],
        },
        {
            "id": "liked",
            "type": "multiple",
            "text": "您喜欢什么？",
            "options": [
                {"id": "price", "text": "价格"},
                {"id": "staff", "text": "店员, 服务"},
                {"id": "speed", "text": "速度"},
            ],
        },
        {
            "id": "rate",
            "type": "matrix",
            "text": "请评价",
            "rows": [{"id": "clean", "text": "整洁"}, {"id": "queue", "text": "排队"}],
        },
        {"id": "why", "type": "text", "text": "还有什么想说的？"},
    ],
}


def _v2() -> dict[str, Any]:
    """Version 2: 'web' renamed, a CSAT question added after nps."""
    v2: dict[str, Any] = {**V1, "questions": [dict(q) for q in V1["questions"]]}
    v2["questions"][1]["options"] = [
        {"id": "app", "text": "手机应用"},
        {"id": "web", "text": "官网"},
        {"id": "other", "text": "其他", "other": True},
    ]
    v2["questions"].insert(1, {"id": "sat", "type": "csat", "text": "满意吗？"})
    return v2


def _at(day: int, hour: int = 8) -> dt.datetime:
    return dt.datetime(2025, 3, day, hour, 30)


RESPONSES: list[dict[str, Any]] = [
    {  # imported, version 1, every kind of answer; numbers stored as floats
        "version": 1,
        "external_id": "qualtrics:R_2b",
        "origin": "qualtrics",
        "status": "completed",
        "completed_at": _at(2),
        "answers": {
            "nps": 9.0,
            "channel": "other",
            "channel.other": "小程序",
            "liked": ["speed", "price"],
            "rate": {"queue": 2.0, "clean": 5},
            "why": "店员很好，电话 13812345678 回访我",
        },
    },
    {  # collected by cxloop, version 2
        "version": 2,
        "status": "completed",
        "completed_at": _at(3),
        "answers": {"nps": 3, "sat": 2, "channel": "web", "why": "排队太久, \n下次再说"},
    },
    {  # imported partial: no completed_at, updated_at is the tool's last time
        "version": 1,
        "external_id": "qualtrics:R_1a",
        "origin": "qualtrics",
        "status": "partial",
        "updated_at": _at(1),
        "answers": {"nps": 10},
    },
    {  # same time as R_2b: ordered by response id next
        "version": 1,
        "external_id": "qualtrics:R_0z",
        "origin": "qualtrics",
        "status": "completed",
        "completed_at": _at(2),
        "answers": {"nps": 7.5, "liked": ["staff"]},
    },
]


def fill(settings: Settings) -> None:
    """Store both versions and every response of ``RESPONSES`` in the store of ``settings``."""
    connected = api.connect(settings=settings)
    try:
        with connected.sessions() as session:
            for data in (V1, _v2()):
                surveys_service.create(
                    session=session, definition=definitions.parse_definition(data)
                )
            for n, r in enumerate(RESPONSES):
                when = r.get("completed_at") or r["updated_at"]
                session.add(
                    SurveyResponse(
                        survey_id=SURVEY,
                        language="zh",
                        step=0,
                        started_at=when - dt.timedelta(minutes=5 + n),
                        updated_at=when,
                        **{k: v for k, v in r.items() if k != "updated_at"},
                    )
                )
            session.commit()
    finally:
        connected.close()
