"""Stored surveys on a real store: an edit is a new version, the same definition again is none,
and an answer keeps the version it was given against."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select

from cxloop.api import Store
from cxloop.db.session import session_scope
from cxloop.errors import NotFound
from cxloop.surveys import service as surveys_service
from cxloop.surveys.definitions import parse_definition
from cxloop.surveys.models import SurveyResponse, SurveyVersion


def _data(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": "post-delivery",
        "title": {"zh": "配送体验调查", "en": "Delivery survey"},
        "questions": [
            {
                "id": "nps",
                "type": "nps",
                "required": True,
                "text": {"zh": "推荐吗？", "en": "Recommend?"},
            },
            {"id": "why", "type": "text", "show_if": "nps <= 6", "text": "Why?"},
        ],
    }
    data.update(changes)
    return data


def _create(store: Store, data: dict[str, Any], by: str = "tests") -> Any:
    with session_scope(store.sessions) as session:
        return surveys_service.create(
            session=session, definition=parse_definition(data), created_by=by
        )


def _versions(store: Store) -> int:
    with session_scope(store.sessions) as session:
        return int(session.scalar(select(func.count()).select_from(SurveyVersion)) or 0)


def test_the_same_definition_twice_stores_one_version(store: Store) -> None:
    first = _create(store, _data())
    assert (first.current_version, first.changed, first.versions, first.questions) == (
        1,
        True,
        1,
        2,
    )
    assert first.status == "active" and first.created_by == "tests"
    # written differently (key order, {zh, en} spelled out for a plain string): the same content
    same = _data()
    same["questions"][1] = {
        "text": {"zh": "Why?", "en": "Why?"},
        "show_if": "nps <= 6",
        "type": "text",
        "id": "why",
    }
    again = _create(store, same)
    assert (again.current_version, again.changed) == (1, False)
    assert _versions(store) == 1


def test_an_edit_is_a_new_version_and_old_answers_keep_theirs(store: Store) -> None:
    _create(store, _data())
    with session_scope(store.sessions) as session:
        answered = SurveyResponse(
            survey_id="post-delivery",
            version=1,
            language="zh",
            answers={"nps": 3, "why": "慢"},
            status="completed",
            started_at=dt.datetime(2026, 12, 1),
            updated_at=dt.datetime(2026, 12, 1),
        )
        session.add(answered)
        session.flush()
        response_id = answered.id
    edited = _data()
    edited["questions"][1]["text"] = {"zh": "我们哪里做得不好？", "en": "What went wrong?"}
    edited["questions"].append({"id": "csat", "type": "csat", "text": "CSAT"})
    saved = _create(store, edited, by="ana")
    assert (saved.current_version, saved.changed, saved.versions, saved.questions) == (
        2,
        True,
        2,
        3,
    )
    with session_scope(store.sessions) as session:
        response = session.get(SurveyResponse, response_id)
        assert response is not None and response.version == 1
        old = surveys_service.get_version(
            session=session, survey_id="post-delivery", version=response.version
        )
        new = surveys_service.get_version(session=session, survey_id="post-delivery")
        history = surveys_service.versions(session=session, survey_id="post-delivery")
    assert [q.id for q in old.questions] == ["nps", "why"] and old.questions[1].text.get(
        "en"
    ) == "Why?"
    assert [q.id for q in new.questions] == ["nps", "why", "csat"]
    assert [(v.version, v.current, v.created_by) for v in history] == [
        (1, False, "tests"),
        (2, True, "ana"),
    ]
    assert history[0].definition_hash != history[1].definition_hash
    # going back to the first text is an edit too: a third version, never a rewrite of the first
    assert _create(store, _data()).current_version == 3


def test_list_archive_and_create_again(store: Store) -> None:
    _create(store, _data())
    _create(store, _data(id="another", title="Another"))
    with session_scope(store.sessions) as session:
        assert [s.survey_id for s in surveys_service.list_all(session=session)] == [
            "another",
            "post-delivery",
        ]
        archived = surveys_service.archive(session=session, survey_id="another")
        assert archived.status == "archived"
        active = surveys_service.list_all(session=session, include_archived=False)
        assert [s.survey_id for s in active] == ["post-delivery"]
    back = _create(store, _data(id="another", title="Another"))
    assert (back.status, back.changed, back.current_version) == ("active", False, 1)


def test_unknown_surveys_and_versions_name_what_is_stored(store: Store) -> None:
    _create(store, _data())
    with session_scope(store.sessions) as session:
        with pytest.raises(NotFound, match=r"no survey 'nosuch' \(stored: post-delivery\)"):
            surveys_service.get(session=session, survey_id="nosuch")
        with pytest.raises(NotFound, match=r"has no version 4 \(versions: 1\)"):
            surveys_service.get_version(session=session, survey_id="post-delivery", version=4)
        with pytest.raises(NotFound, match="no survey 'nosuch'"):
            surveys_service.archive(session=session, survey_id="nosuch")
        huge = 10**20  # beyond a 64-bit integer: not found, not an overflow in the driver
        with pytest.raises(NotFound, match=rf"has no version {huge} \(versions: 1\)"):
            surveys_service.version_info(session=session, survey_id="post-delivery", version=huge)


def test_check_reports_problems_or_warnings_without_storing(store: Store) -> None:
    bad = surveys_service.check(
        _data(questions=[{"id": "nps", "type": "nps", "text": "x", "show_if": "nps > 1"}])
    )
    assert bad.valid is False
    assert [(p.field, p.reason) for p in bad.problems] == [
        ("questions[0].show_if", "'nps' is this question: show_if can only use earlier answers")
    ]
    good = surveys_service.check(_data(intro="{customer.name} {foo.bar}"))
    assert good.valid and good.survey_id == "post-delivery" and good.questions == 2
    assert [w.value for w in good.warnings] == ["{foo.bar}"]
    assert _versions(store) == 0
