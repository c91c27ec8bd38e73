"""POST /api/v1/surveys/events and /api/v1/surveys/triggers: other systems tell cxloop what
happened, triggers turn it into scheduled invitations once, roles decide who may do what."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from cxloop.surveys.models import Invitation, Survey, SurveyVersion
from tests.web.support import Api

DEFINITION: dict[str, Any] = {
    "id": "app-review",
    "title": {"zh": "应用评价", "en": "App review"},
    "default_language": "en",
    "questions": [{"id": "csat", "type": "csat", "required": True, "text": "How was it?"}],
}


def _survey(api: Api) -> None:
    with api.store.sessions() as session:
        session.add(Survey(survey_id="app-review", title=DEFINITION["title"], current_version=1))
        session.add(
            SurveyVersion(
                survey_id="app-review", version=1, definition=DEFINITION, definition_hash="x"
            )
        )
        session.commit()


def _trigger(api: Api, role: str = "analyst", **body: Any) -> Any:
    payload = {"survey_id": "app-review", "event": "api:app_review", "delay_hours": 2, **body}
    return api.client.post("/api/v1/surveys/triggers", json=payload, headers=api.auth(role))


def test_an_event_posted_twice_schedules_one_invitation(fresh_api: Api) -> None:
    _survey(fresh_api)
    made = _trigger(fresh_api)
    assert made.status_code == 201, made.text
    event = {
        "event": "app_review",
        "event_id": "review-881",
        "email": "Li.Na@example.com",
        "context": {"rating": 2, "version": "5.1.0"},
    }

    first = fresh_api.client.post(
        "/api/v1/surveys/events", json=event, headers=fresh_api.auth("analyst")
    )
    again = fresh_api.client.post(
        "/api/v1/surveys/events", json=event, headers=fresh_api.auth("admin")
    )

    assert first.status_code == 202, first.text
    assert first.json()["event_key"] == "api:app_review:review-881"
    assert [d["outcome"] for d in first.json()["distributions"]] == ["scheduled"]
    assert [d["outcome"] for d in again.json()["distributions"]] == ["duplicate"]
    with fresh_api.store.sessions() as session:
        (invited,) = session.scalars(select(Invitation)).all()
    assert invited.customer_id == "c-1" and invited.email == "li.na@example.com"
    assert invited.status == "scheduled" and invited.language == "en"
    assert invited.context["rating"] == 2
    listed = fresh_api.client.get("/api/v1/surveys/triggers", headers=fresh_api.auth("viewer"))
    assert listed.status_code == 200
    (trigger,) = listed.json()
    assert trigger["events"] == 1 and trigger["invitations"] == {"scheduled": 1}
    assert trigger["event"] == "api:app_review" and trigger["delay_hours"] == 2


def test_viewers_read_triggers_but_neither_create_them_nor_post_events(fresh_api: Api) -> None:
    _survey(fresh_api)
    assert _trigger(fresh_api, "viewer").status_code == 403
    posted = fresh_api.client.post(
        "/api/v1/surveys/events",
        json={"event": "app_review", "customer_id": "c-1"},
        headers=fresh_api.auth("viewer"),
    )
    assert posted.status_code == 403
    assert fresh_api.client.post("/api/v1/surveys/events", json={}).status_code == 401


def test_bad_events_and_triggers_are_refused_by_field(fresh_api: Api) -> None:
    _survey(fresh_api)
    auth = fresh_api.auth("analyst")
    nobody = fresh_api.client.post(
        "/api/v1/surveys/events", json={"event": "app_review"}, headers=auth
    )
    bad_name = fresh_api.client.post(
        "/api/v1/surveys/events", json={"event": "App Review!", "customer_id": "c-1"}, headers=auth
    )
    unknown_event = _trigger(fresh_api, event="order_shipped")
    unknown_survey = _trigger(fresh_api, survey_id="nope")
    no_listener = fresh_api.client.post(
        "/api/v1/surveys/events", json={"event": "app_review", "customer_id": "c-1"}, headers=auth
    )

    assert nobody.status_code == 422 and "customer_id, contact_id or email" in nobody.text
    assert bad_name.status_code == 422 and "event" in bad_name.text
    assert unknown_event.status_code == 422 and "order_delivered" in unknown_event.text
    assert unknown_survey.status_code == 404
    assert no_listener.status_code == 202 and no_listener.json()["distributions"] == []


def test_unstorable_text_and_dates_out_of_range_are_refused_not_500(fresh_api: Api) -> None:
    _survey(fresh_api)
    assert _trigger(fresh_api).status_code == 201
    auth = fresh_api.auth("analyst")
    bodies = [
        {"event": "app_review", "customer_id": "c\x00-1"},
        {"event": "app_review", "email": "li.na@example.com", "context": {"note": "\ud800"}},
        {"event": "app_review", "customer_id": "c-1", "occurred_at": "0001-01-01T00:00:00"},
        {"event": "app_review", "customer_id": "c-1", "occurred_at": "9999-12-31T23:59:59-12:00"},
        {"event": "app_review", "customer_id": "c-1", "occurred_at": "2999-01-01T00:00:00Z"},
    ]
    headers = {**auth, "Content-Type": "application/json"}
    answers = [  # json.dumps escapes the lone surrogate, as a client's JSON may
        fresh_api.client.post("/api/v1/surveys/events", content=json.dumps(body), headers=headers)
        for body in bodies
    ]
    assert [a.status_code for a in answers] == [422, 422, 422, 422, 422], [a.text for a in answers]
    assert "occurred_at" in answers[2].text and "future" in answers[4].text
