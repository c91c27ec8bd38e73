"""Findings of the new-user trial on the respondent side: values JSON cannot carry echoed in an
error, unknown answer keys named with every other problem, ``remaining`` once complete, a stale
repeat that changed an answer, progress and the button while a later question may still show."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from cxloop.feedback import service as feedback_service
from cxloop.surveys import responses as responses_service
from cxloop.surveys.models import SurveyResponse
from tests.surveys.respond_support import EVERY_TYPE, World, make_world
from tests.web.support import build_api


@pytest.fixture
def world(tmp_path: Path) -> World:
    return make_world(tmp_path, drain=False)


def _post_raw(world: World, path: str, body: str) -> Any:
    return world.client.post(path, content=body, headers={"Content-Type": "application/json"})


@pytest.mark.parametrize("number", ["1e400", "-1e400", "NaN", "Infinity", "-Infinity"])
def test_a_number_json_cannot_carry_is_a_422_naming_the_answer(world: World, number: str) -> None:
    made = world.link()
    sent = _post_raw(world, f"/api/v1/respond/{made.token}", '{"answers": {"nps": ' + number + "}}")
    assert sent.status_code == 422, sent.text
    (problem,) = sent.json()["detail"]
    assert problem["field"] == "nps"
    assert problem["reason"] == "is not a whole number from 0 to 10"
    assert isinstance(problem["value"], str)  # "inf" / "nan": text, never a bare NaN
    assert world.count(SurveyResponse) == 0


FUZZ_BODIES = [
    '{"answers": {"nps": 1e400, "channel": NaN, "why": -Infinity}}',
    '{"answers": {"nps": [NaN, 1e400]}, "complete": false}',
    '{"answers": {"nps": {"x": Infinity}}}',
    '{"answers": {"nps": 3}, "rev": 1e400}',
    '{"answers": NaN}',
    '{"answers": {"nps": 3}, "language": NaN}',
]


SURVEY_FUZZ = [
    '{"id": "x", "title": NaN, "questions": [{"id": "q", "type": "nps", "text": 1e400}]}',
    '{"id": Infinity, "title": "t", "questions": NaN}',
    '{"id": "x", "title": "t", "questions": [{"id": "q", "type": "rating", "scale": 1e400,'
    ' "text": "a"}]}',
]


@pytest.mark.parametrize("body", FUZZ_BODIES + SURVEY_FUZZ)
def test_non_finite_numbers_anywhere_never_make_a_server_error(
    world: World, tmp_path: Path, body: str
) -> None:
    made = world.link()
    admin = build_api(tmp_path / "api.db")
    sends = [
        (world.client, f"/api/v1/respond/{made.token}", {}),
        (admin.client, "/api/v1/surveys/validate", admin.auth("admin")),
        (admin.client, "/api/v1/surveys", admin.auth("admin")),
        (admin.client, "/api/v1/surveys/events", admin.auth("admin")),
        (admin.client, "/api/v1/feedback", admin.auth("admin")),
    ]
    for client, path, headers in sends:
        sent = client.post(
            path, content=body, headers={**headers, "Content-Type": "application/json"}
        )
        assert sent.status_code < 500, (path, body, sent.text)
        assert sent.status_code not in (401, 403), (path, sent.text)  # the body was read
        assert "NaN" not in sent.text and "Infinity" not in sent.text, sent.text


def test_an_unknown_answer_key_is_named_beside_every_other_problem(world: World) -> None:
    made = world.link()
    path = f"/api/v1/respond/{made.token}"
    for complete in (True, False):
        sent = world.client.post(
            path, json={"answers": {"zzz": 1, "nps": 11, "channel": "fax"}, "complete": complete}
        )
        assert sent.status_code == 422, sent.text
        fields = {p["field"]: p for p in sent.json()["detail"]}
        assert set(fields) == {"answers.zzz", "nps", "channel"}, fields
        assert fields["answers.zzz"]["value"] == "zzz"
        assert world.count(SurveyResponse) == 0
    # an unknown key alone is refused too, and nothing is stored
    alone = world.client.post(path, json={"answers": {"nps": 3, "zzz": "x"}})
    assert alone.status_code == 422
    assert [p["field"] for p in alone.json()["detail"]] == ["answers.zzz"]
    assert world.count(SurveyResponse) == 0


def test_remaining_is_empty_once_complete_though_optional_questions_were_skipped(
    tmp_path: Path,
) -> None:
    world = make_world(tmp_path, EVERY_TYPE, drain=False)
    made = world.link()
    sent = world.client.post(f"/api/v1/respond/{made.token}", json={"answers": {"nps": 9}})
    assert sent.status_code == 200, sent.text
    assert sent.json()["completed"] is True
    assert sent.json()["remaining"] == []
    partial = world.link(customer_id="c-2")
    saved = world.client.post(
        f"/api/v1/respond/{partial.token}", json={"answers": {"nps": 9}, "complete": False}
    )
    assert saved.json()["completed"] is False
    assert "effort" in saved.json()["remaining"] and "nps" not in saved.json()["remaining"]


def _rev(html: str) -> str:
    found = re.search(r'name="_rev" value="(\d+)"', html)
    assert found, html
    return found.group(1)


@pytest.mark.parametrize(
    ("lang", "said"),
    [("zh", "您之前已经提交过这份问卷"), ("en", "You already submitted this survey")],
)
def test_a_stale_repeat_that_changed_an_answer_says_the_change_was_not_saved(
    world: World, lang: str, said: str
) -> None:
    link = world.link(language=lang)
    first = world.client.get(link.path)
    data = {"_rev": _rev(first.text), "_page": ["nps"], "nps": "9"}
    second = world.client.post(link.path, data=data)
    last = {"_rev": _rev(second.text), "_page": ["channel"], "channel": "web"}
    done = world.client.post(link.path, data=last)
    assert done.status_code == 200 and said not in done.text
    same = world.client.post(link.path, data=last)  # a double click: thanks again
    assert same.status_code == 200 and said not in same.text
    changed = world.client.post(link.path, data={**last, "channel": "app"})
    assert changed.status_code == 200
    assert said in changed.text
    assert "已保存" not in changed.text and "have been saved" not in changed.text
    assert world.responses()[0].answers == {"nps": 9, "channel": "web"}
    earlier = world.client.post(link.path, data={**data, "nps": "10"})  # the first page again
    assert said in earlier.text
    assert world.responses()[0].answers == {"nps": 9, "channel": "web"}


def test_progress_counts_a_question_that_may_still_show_and_the_button_says_next(
    world: World,
) -> None:
    zh = world.client.get(world.link().path)
    assert "1 / 3" in zh.text  # nps, why (if nps <= 6), channel
    assert "下一题" in zh.text and "提交" not in zh.text  # Next
    en = world.client.get(world.link(language="en").path)
    assert "Next" in en.text and "Submit" not in en.text


NPS_WHY = """\
id: nps-why
title: {zh: 推荐, en: Recommend}
questions:
  - {id: nps, type: nps, required: true, text: {zh: 推荐度, en: Recommend}}
  - {id: why, type: text, show_if: "nps <= 6", text: {zh: 为什么？, en: Why?}}
"""


def test_a_two_question_survey_counts_the_conditional_page_and_submits_on_the_last(
    tmp_path: Path,
) -> None:
    world = make_world(tmp_path, NPS_WHY, drain=False)
    link = world.link(language="en")
    first = world.client.get(link.path)
    assert "1 / 2" in first.text and "Next" in first.text and "Submit" not in first.text
    promoter = world.client.post(
        link.path, data={"_rev": _rev(first.text), "_page": "nps", "nps": "9"}
    )
    assert "Thank you" in promoter.text  # "why" stays hidden: done at once
    other = world.link(language="en", customer_id="c-2")
    page = world.client.get(other.path)
    second = world.client.post(
        other.path, data={"_rev": _rev(page.text), "_page": "nps", "nps": "3"}
    )
    assert "2 / 2" in second.text and "Submit" in second.text


def _feedback(world: World, response_id: int) -> Any:
    with world.store.sessions() as session:
        responses_service.ingest_pending(session=session, settings=world.settings)
        session.commit()
        return feedback_service.get_feedback(
            session=session, feedback_id=f"survey:{response_id}", reveal_pii=True
        )


def test_other_text_is_feedback_text_and_answers_are_attributes_not_json_strings(
    tmp_path: Path,
) -> None:
    world = make_world(tmp_path, EVERY_TYPE, drain=False)
    answers = {
        "nps": 4,
        "liked": ["speed", "other"],
        "liked.other": "Slack 群里回复很快",
        "aspects": {"courier_speed": 2, "packaging": 5},
        "comment": "包装破了",
    }
    sent = world.client.post(f"/api/v1/respond/{world.link().token}", json={"answers": answers})
    assert sent.status_code == 200, sent.text
    row = _feedback(world, sent.json()["response_id"])
    assert row.text == "liked: Slack 群里回复很快\n包装破了"
    attributes = row.attributes
    assert "answers" not in attributes
    assert attributes["answer.nps"] == "4"
    assert attributes["answer.liked"] == "speed,other"
    assert attributes["answer.liked.other"] == "Slack 群里回复很快"
    assert attributes["answer.aspects.courier_speed"] == "2"
    assert attributes["answer.aspects.packaging"] == "5"


def test_validate_answers_bad_yaml_with_the_documented_shape(tmp_path: Path) -> None:
    admin = build_api(tmp_path / "api.db")
    text = "id: x\ntitle: t\nquestions:\n\t- {id: q, type: nps, text: a}\n"
    sent = admin.client.post(
        "/api/v1/surveys/validate",
        content=text.encode(),
        headers={**admin.auth("viewer"), "Content-Type": "application/yaml"},
    )
    assert sent.status_code == 200, sent.text
    body = sent.json()
    assert body["valid"] is False
    (problem,) = body["problems"]
    assert problem["field"] == "line 4, column 1"
    assert problem["reason"].startswith("is not valid YAML")
    broken = admin.client.post(
        "/api/v1/surveys/validate",
        content=b'{"id": ',
        headers={**admin.auth("viewer"), "Content-Type": "application/json"},
    )
    assert broken.status_code == 200 and broken.json()["valid"] is False
    assert broken.json()["problems"][0]["field"] == "body"
    # storing it is still refused with 422
    stored = admin.client.post(
        "/api/v1/surveys",
        content=text.encode(),
        headers={**admin.auth("admin"), "Content-Type": "application/yaml"},
    )
    assert stored.status_code == 422


def test_survey_api_times_carry_their_offset_like_the_rest_of_the_api(tmp_path: Path) -> None:
    admin = build_api(tmp_path / "api.db")
    text = (Path(__file__).parents[2] / "examples" / "surveys" / "post-delivery.yaml").read_bytes()
    made = admin.client.post(
        "/api/v1/surveys",
        content=text,
        headers={**admin.auth("admin"), "Content-Type": "application/yaml"},
    )
    assert made.status_code == 201, made.text
    for body in (
        made.json(),
        admin.client.get("/api/v1/surveys", headers=admin.auth("viewer")).json()[0],
    ):
        assert body["created_at"].endswith("Z") and body["updated_at"].endswith("Z"), body
    versions = admin.client.get(
        "/api/v1/surveys/post-delivery/versions", headers=admin.auth("viewer")
    )
    assert versions.json()[0]["created_at"].endswith("Z")


def test_an_id_too_large_for_the_store_is_a_422_not_a_server_error(tmp_path: Path) -> None:
    admin = build_api(tmp_path / "api.db")
    for path in (
        "/api/v1/distributions/-181238089781920688766976",
        "/api/v1/surveys/post-delivery/versions/181238089781920688766976",
    ):
        sent = admin.client.get(path, headers=admin.auth("admin"))
        assert sent.status_code in (404, 422), (path, sent.text)
