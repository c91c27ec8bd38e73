"""/api/v1/surveys: definitions stored and versioned over HTTP, as JSON or as the YAML file,
with every problem named by its path; analysts and admins manage, viewers and agents read."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.support import Api

YAML = """\
id: post-delivery
title: {zh: 配送体验调查, en: Delivery survey}
questions:
  - {id: nps, type: nps, required: true,
     text: {zh: 您向朋友推荐我们的可能性有多大？, en: How likely are you to recommend us?}}
  - {id: why, type: text, show_if: "nps <= 6",
     text: {zh: 我们哪里做得不好？, en: What went wrong?}}
"""


def _definition(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": "api-survey",
        "title": {"zh": "调查", "en": "Survey"},
        "questions": [
            {"id": "csat", "type": "csat", "text": "满意吗? / Satisfied?", "required": True},
            {
                "id": "reason",
                "type": "single",
                "text": {"zh": "原因", "en": "Reason"},
                "show_if": "csat <= 3",
                "options": [
                    {"id": "price", "text": {"zh": "价格", "en": "Price"}},
                    {"id": "other", "text": {"zh": "其他", "en": "Other"}, "other": True},
                ],
            },
        ],
    }
    data.update(changes)
    return data


def test_an_analyst_stores_a_survey_and_an_edit_makes_a_new_version(fresh_api: Api) -> None:
    client, analyst = fresh_api.client, fresh_api.auth("analyst")
    first = client.post("/api/v1/surveys", json=_definition(), headers=analyst)
    assert first.status_code == 201, first.text
    assert first.json()["current_version"] == 1 and first.json()["changed"] is True
    again = client.post("/api/v1/surveys", json=_definition(), headers=analyst)
    assert again.status_code == 200
    assert again.json()["current_version"] == 1 and again.json()["changed"] is False
    edited = client.post(
        "/api/v1/surveys", json=_definition(title={"zh": "新", "en": "New"}), headers=analyst
    )
    assert edited.status_code == 201 and edited.json()["current_version"] == 2
    old = client.get("/api/v1/surveys/api-survey/versions/1", headers=fresh_api.auth("viewer"))
    assert old.status_code == 200
    assert old.json()["definition"]["title"] == {"zh": "调查", "en": "Survey"}
    assert old.json()["current"] is False and old.json()["created_by"] == "analyst"
    listed = client.get("/api/v1/surveys/api-survey/versions", headers=fresh_api.auth("viewer"))
    assert [v["version"] for v in listed.json()] == [1, 2]


def test_the_yaml_file_itself_is_accepted(fresh_api: Api) -> None:
    response = fresh_api.client.post(
        "/api/v1/surveys",
        content=YAML.encode(),
        headers={**fresh_api.auth("admin"), "Content-Type": "application/yaml"},
    )
    assert response.status_code == 201, response.text
    read = fresh_api.client.get("/api/v1/surveys/post-delivery", headers=fresh_api.auth("viewer"))
    assert read.json()["title"] == {"zh": "配送体验调查", "en": "Delivery survey"}
    assert read.json()["questions"] == 2


def test_every_problem_is_named_by_its_path(fresh_api: Api) -> None:
    bad = _definition()
    bad["questions"][1]["show_if"] = "csat <== 3"
    bad["questions"][0]["scale"] = 7
    bad["languages"] = ["zh", "fr"]
    response = fresh_api.client.post("/api/v1/surveys", json=bad, headers=fresh_api.auth("admin"))
    assert response.status_code == 422
    fields = {p["field"]: p for p in response.json()["detail"]}
    assert set(fields) == {"questions[0].scale", "questions[1].show_if", "languages[1]"}
    assert fields["questions[1].show_if"]["value"] == "csat <== 3"
    assert "'<=='" in fields["questions[1].show_if"]["reason"]
    assert fresh_api.client.get("/api/v1/surveys", headers=fresh_api.auth("admin")).json() == []


def test_validate_stores_nothing_and_reports_warnings(fresh_api: Api) -> None:
    client, viewer = fresh_api.client, fresh_api.auth("viewer")
    intro = {"zh": "{customer.name}，您好 {shop.name}", "en": "Hi {customer.name}"}
    piped = _definition(intro=intro)
    ok = client.post("/api/v1/surveys/validate", json=piped, headers=viewer)
    assert ok.status_code == 200
    body = ok.json()
    assert body["valid"] is True and body["survey_id"] == "api-survey" and body["questions"] == 2
    assert [w["value"] for w in body["warnings"]] == ["{shop.name}"]
    broken = client.post("/api/v1/surveys/validate", json={"id": "x"}, headers=viewer)
    assert broken.json()["valid"] is False
    assert {p["field"] for p in broken.json()["problems"]} == {"title", "questions"}
    assert client.get("/api/v1/surveys", headers=viewer).json() == []


@pytest.mark.parametrize("role", ["viewer", "agent"])
def test_readers_cannot_store_or_archive(fresh_api: Api, role: str) -> None:
    client = fresh_api.client
    denied = client.post("/api/v1/surveys", json=_definition(), headers=fresh_api.auth(role))
    assert denied.status_code == 403
    client.post("/api/v1/surveys", json=_definition(), headers=fresh_api.auth("analyst"))
    archive = client.post("/api/v1/surveys/api-survey/archive", headers=fresh_api.auth(role))
    assert archive.status_code == 403
    assert client.get("/api/v1/surveys/api-survey", headers=fresh_api.auth(role)).status_code == 200


def test_archive_and_unknown_surveys(fresh_api: Api) -> None:
    client, analyst = fresh_api.client, fresh_api.auth("analyst")
    client.post("/api/v1/surveys", json=_definition(), headers=analyst)
    archived = client.post("/api/v1/surveys/api-survey/archive", headers=analyst)
    assert archived.json()["status"] == "archived"
    missing = client.get("/api/v1/surveys/nosuch", headers=analyst)
    assert missing.status_code == 404
    assert "api-survey" in missing.json()["detail"][0]["reason"]
    no_version = client.get("/api/v1/surveys/api-survey/versions/9", headers=analyst)
    assert no_version.status_code == 404
    assert "versions: 1" in no_version.json()["detail"][0]["reason"]
    huge = client.get(f"/api/v1/surveys/api-survey/versions/{10**20}", headers=analyst)
    assert huge.status_code == 404, huge.text  # not an overflow in the database driver


def test_bad_bodies_are_named(fresh_api: Api) -> None:
    headers = {**fresh_api.auth("admin"), "Content-Type": "application/yaml"}
    yaml = fresh_api.client.post("/api/v1/surveys", content=b"id: [x\n", headers=headers)
    assert yaml.status_code == 422
    assert yaml.json()["detail"][0]["field"].startswith("line ")
    headers["Content-Type"] = "application/json"
    broken = fresh_api.client.post("/api/v1/surveys", content=b"{", headers=headers)
    assert broken.status_code == 422 and broken.json()["detail"][0]["field"] == "body"
    deep = fresh_api.client.post("/api/v1/surveys", content=b"[" * 100_000, headers=headers)
    assert deep.status_code == 422 and "nested too deeply" in deep.json()["detail"][0]["reason"]
    listed = fresh_api.client.post("/api/v1/surveys", json=[1, 2], headers=headers)
    assert listed.status_code == 422
    assert listed.json()["detail"][0]["field"] == "definition"


def test_no_token_is_refused(fresh_api: Api) -> None:
    assert fresh_api.client.get("/api/v1/surveys").status_code == 401
