"""Completed answers into feedback (the outbox, through the one ingest door, idempotent, refused
rows kept and retried), in the metrics within a second of the submit, and the JSON API that
apps drawing their own form use."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from cxloop.feedback import service as feedback_service
from cxloop.feedback.schemas import FeedbackFilter
from cxloop.metrics import service as metrics_service
from cxloop.surveys import responses as responses_service
from cxloop.surveys.models import SurveyResponse
from tests.surveys.respond_support import World, make_world


@pytest.fixture
def world(tmp_path: Path) -> World:
    return make_world(tmp_path, drain=False)  # each test drains the outbox itself


def answer(world: World, answers: dict[str, Any], **link: Any) -> int:
    """Complete one response through the JSON API; its id."""
    made = world.link(**link)
    sent = world.client.post(f"/api/v1/respond/{made.token}", json={"answers": answers})
    assert sent.status_code == 200, sent.text
    assert sent.json()["status"] == "completed"
    return int(sent.json()["response_id"])


def drain(world: World) -> int:
    with world.store.sessions() as session:
        stored = responses_service.ingest_pending(session=session, settings=world.settings)
        session.commit()
    return stored


def feedback(world: World, response_id: int) -> Any:
    with world.store.sessions() as session:
        return feedback_service.get_feedback(
            session=session, feedback_id=f"survey:{response_id}", reveal_pii=True
        )


def test_completed_responses_become_enriched_feedback_once(world: World) -> None:
    detractor = answer(
        world, {"nps": 2, "why": "配送太慢了，客服也不回复", "channel": "app"}, customer_id="c-7"
    )
    promoter = answer(world, {"nps": 10, "channel": "web"}, language="en", customer_id=None)
    assert drain(world) == 2
    row = feedback(world, detractor)
    assert row.channel == "survey"
    assert row.nps == 2
    assert row.text == "配送太慢了，客服也不回复"
    assert row.customer_id == "c-7"
    assert row.touchpoint == "delivery" and row.journey_stage == "fulfilment"
    attributes = row.attributes
    assert attributes["survey"] == "delivery" and str(attributes["survey_version"]) == "1"
    assert attributes["answer.channel"] == "app" and attributes["answer.nps"] == "2"
    assert row.features is not None  # enriched by the same import as a file's rows
    assert feedback(world, promoter).nps == 10
    assert [r.feedback_id for r in world.responses()] == [
        f"survey:{detractor}",
        f"survey:{promoter}",
    ]
    assert drain(world) == 0  # nothing pending: nothing imported twice


def test_an_edited_response_updates_its_feedback_row(world: World) -> None:
    world.set_distribution(allow_edits=True)
    made = world.link()
    path = f"/api/v1/respond/{made.token}"
    assert world.client.post(path, json={"answers": {"nps": 9, "channel": "app"}}).status_code
    drain(world)
    form = world.client.get(path).json()
    edited = world.client.post(
        path, json={"answers": {"nps": 4, "why": "改主意了"}, "rev": form["rev"]}
    )
    assert edited.json()["status"] == "completed", edited.text
    assert drain(world) == 1
    (response,) = world.responses()
    row = feedback(world, response.id)
    assert row.nps == 4 and row.text == "改主意了"
    with world.store.sessions() as session:
        listed = feedback_service.list_feedback(
            session=session, filters=FeedbackFilter(channel=("survey",))
        )
    assert listed.total == 1


def test_a_refused_row_keeps_its_reason_and_is_retried(world: World) -> None:
    good = answer(world, {"nps": 8, "channel": "app"})
    broken = answer(world, {"nps": 7, "channel": "web"})
    with world.store.sessions() as session:  # a row the form never makes, as a broken import
        row = session.get(SurveyResponse, broken)
        assert row is not None
        row.language = "x" * 40  # longer than feedback.language allows
        session.commit()
    assert drain(world) == 1
    by_id = {r.id: r for r in world.responses()}
    assert by_id[good].feedback_id == f"survey:{good}"
    assert by_id[broken].feedback_id is None
    assert "language" in (by_id[broken].ingest_error or "")
    with world.store.sessions() as session:
        row = session.get(SurveyResponse, broken)
        assert row is not None
        row.language = "zh"
        session.commit()
    assert drain(world) == 1
    fixed = {r.id: r for r in world.responses()}[broken]
    assert fixed.feedback_id == f"survey:{broken}" and fixed.ingest_error is None


def test_a_failed_import_keeps_every_row_pending(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = answer(world, {"nps": 6, "channel": "app"})
    from cxloop.ingest import service as ingest_service

    def store_down(**_: Any) -> Any:
        raise OSError("disk full")

    monkeypatch.setattr(ingest_service, "import_records", store_down)
    assert drain(world) == 0
    (row,) = world.responses()
    assert row.feedback_id is None and row.ingest_error == "OSError: disk full"
    monkeypatch.undo()
    assert drain(world) == 1
    assert world.responses()[0].feedback_id == f"survey:{first}"


def test_a_submitted_answer_is_in_the_nps_within_one_second(tmp_path: Path) -> None:
    """Through the HTML form and the app's own drain thread; the text engine warms at start."""
    world = make_world(tmp_path, background_jobs=True)
    drain_thread = world.app.state.survey_drain
    try:
        assert drain_thread.ready.wait(60), "the text engine did not load"
        link = world.link()
        world.client.get(link.path)
        world.client.post(link.path, data={"_rev": "0", "_page": "nps", "nps": "3"})
        world.client.post(link.path, data={"_rev": "1", "_page": "why", "why": "等了三天才到"})
        submitted = time.perf_counter()
        done = world.client.post(
            link.path, data={"_rev": "2", "_page": "channel", "channel": "app"}
        )
        assert done.status_code == 200 and "感谢" in done.text
        elapsed = None
        while time.perf_counter() - submitted < 5:
            (response,) = world.responses()
            if response.feedback_id:
                elapsed = time.perf_counter() - submitted
                break
            time.sleep(0.02)
        assert elapsed is not None, "the answer never reached feedback"
        frame = metrics_service.compute(settings=world.settings, name="nps", min_n=1)
        assert int(frame["n"].iloc[0]) == 1 and float(frame["score"].iloc[0]) == -100.0
        assert elapsed < 1.0, f"{elapsed:.2f} s from submit to feedback"
    finally:
        drain_thread.close()


def test_api_reads_the_survey_in_the_respondents_language_with_its_logic(world: World) -> None:
    made = world.link(language="en")
    form = world.client.get(f"/api/v1/respond/{made.token}")
    assert form.status_code == 200
    body = form.json()
    assert body["language"] == "en" and body["title"] == "Delivery survey"
    by_id = {q["id"]: q for q in body["questions"]}
    assert by_id["why"]["text"] == "What went wrong with order O-778?"
    assert by_id["why"]["show_if"] == "nps <= 6" and by_id["why"]["visible"] is False
    assert (by_id["nps"]["min"], by_id["nps"]["max"]) == (0, 10)
    assert [o["id"] for o in by_id["channel"]["options"]] == ["app", "web", "other"]
    assert world.invitation(made).status == "opened"
    zh = world.client.get(f"/api/v1/respond/{made.token}?lang=zh").json()
    assert zh["title"] == "配送体验调查"


def test_api_partial_then_complete_and_a_repeat_is_stale(world: World) -> None:
    made = world.link()
    path = f"/api/v1/respond/{made.token}"
    partial = world.client.post(path, json={"answers": {"nps": 5}, "complete": False, "rev": 0})
    assert partial.json() == {
        "status": "saved",
        "completed": False,
        "response_id": partial.json()["response_id"],
        "remaining": ["why", "channel"],
    }
    second = {"answers": {"why": "慢", "channel": "app"}, "rev": 1}
    done = world.client.post(path, json=second)
    assert done.json()["status"] == "completed"  # the saved nps counts with these two
    again = world.client.post(path, json=second)
    assert again.status_code == 200 and again.json()["status"] == "stale"
    assert world.responses()[0].answers == {"nps": 5, "channel": "app", "why": "慢"}
    assert world.client.get(path).status_code == 409


@pytest.mark.parametrize(
    ("answers", "field", "reason"),
    [
        ({"nps": 11}, "nps", "is outside 0–10"),
        ({"nps": 9, "channel": "fax"}, "channel", "is not an option"),
        ({"nps": 9, "channel": "other"}, "channel.other", "please specify"),
        ({"channel": "app"}, "nps", "is required"),
    ],
)
def test_api_refuses_bad_answers_naming_them_and_stores_nothing(
    world: World, answers: dict[str, Any], field: str, reason: str
) -> None:
    made = world.link()
    refused = world.client.post(f"/api/v1/respond/{made.token}", json={"answers": answers})
    assert refused.status_code == 422
    problems = refused.json()["detail"]
    assert any(p["field"] == field and reason in p["reason"] for p in problems), problems
    assert world.responses() == []


def test_api_refuses_bad_links_with_their_status(world: World) -> None:
    expired = world.link(expires_in=dt.timedelta(seconds=-1))
    assert world.client.get(f"/api/v1/respond/{expired.token}").status_code == 410
    assert world.client.get("/api/v1/respond/nonsense").status_code == 400
    token = world.link().token
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    posted = world.client.post(f"/api/v1/respond/{forged}", json={"answers": {"nps": 1}})
    assert posted.status_code == 400
    assert world.responses() == []


def test_open_does_not_move_a_started_invitation_back(world: World) -> None:
    made = world.link()
    path = f"/api/v1/respond/{made.token}"
    world.client.post(path, json={"answers": {"nps": 9}, "complete": False})
    world.client.get(path)
    assert world.invitation(made).status == "started"
    with world.store.sessions() as session:
        rows = session.scalars(select(SurveyResponse)).all()
        assert [r.status for r in rows] == ["partial"]
