"""The distributions API: analysts and admins send (or dry-run), viewers read the counts, only
admins run the tick; bad audiences are 422 naming the field, never a 500."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.web.support import Api, build_api

SURVEY = {
    "id": "quick",
    "title": {"zh": "快速调查", "en": "Quick survey"},
    "questions": [{"id": "nps", "type": "nps", "required": True, "text": "推荐我们吗？"}],
}
GOLD = {"audience": {"kind": "where", "where": ["segment=gold"]}, "channel": "csv"}


@pytest.fixture
def api(tmp_path: Path) -> Api:
    built = build_api(tmp_path / "api.db")
    made = built.client.post("/api/v1/surveys", json=SURVEY, headers=built.auth("admin"))
    assert made.status_code == 201, made.text
    return built


def _send(api: Api, body: dict[str, Any], role: str = "analyst") -> Any:
    return api.client.post("/api/v1/surveys/quick/distributions", json=body, headers=api.auth(role))


def test_an_analyst_sends_csv_links_and_a_viewer_reads_the_counts(api: Api) -> None:
    sent = _send(api, GOLD)
    assert sent.status_code == 201, sent.text
    body = sent.json()
    assert (body["recipients"], body["sent"], body["skipped"]) == (1, 1, {})
    assert body["links"][0]["link"].startswith("http://127.0.0.1:8000/s/")
    listed = api.client.get("/api/v1/surveys/quick/distributions", headers=api.auth("viewer"))
    assert listed.status_code == 200
    (read,) = listed.json()
    assert read["by_status"] == {"sent": 1} and read["created_by"] == "analyst"
    one = api.client.get(f"/api/v1/distributions/{read['id']}", headers=api.auth("viewer"))
    assert one.status_code == 200 and one.json()["invitations"] == 1


def test_viewers_and_agents_may_not_send(api: Api) -> None:
    for role in ("viewer", "agent"):
        assert _send(api, GOLD, role).status_code == 403


def test_a_dry_run_counts_and_stores_nothing(api: Api) -> None:
    dry = _send(api, {**GOLD, "dry_run": True})
    assert dry.status_code == 201 and dry.json()["distribution_id"] is None
    listed = api.client.get("/api/v1/surveys/quick/distributions", headers=api.auth("viewer"))
    assert listed.json() == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            {"audience": {"kind": "where", "where": ["segment=platinum"]}, "channel": "csv"},
            "where.segment",
        ),
        ({"audience": {"kind": "where", "where": ["segment=gold"]}}, "channel"),
        ({"audience": {"kind": "list"}, "channel": "csv"}, "audience"),
        ({"audience": {"kind": "where", "where": ["x"]}, "channel": "webhook"}, "webhook_url"),
    ],
)
def test_bad_sends_are_422_naming_the_field(api: Api, body: dict[str, Any], field: str) -> None:
    refused = _send(api, body)
    assert refused.status_code == 422, refused.text
    assert field in refused.text


def test_unknown_survey_and_distribution_are_404(api: Api) -> None:
    missing = api.client.post(
        "/api/v1/surveys/nope/distributions", json=GOLD, headers=api.auth("admin")
    )
    assert missing.status_code == 404
    assert api.client.get("/api/v1/distributions/99", headers=api.auth("viewer")).status_code == 404


def test_named_recipients_are_counted_not_stored_on_the_distribution(api: Api) -> None:
    body = {
        "audience": {
            "kind": "recipients",
            "recipients": [{"email": "x@example.com"}, {"customer_id": "c-1"}],
        },
        "channel": "csv",
    }
    sent = _send(api, body)
    assert sent.status_code == 201 and sent.json()["sent"] == 2
    read = api.client.get("/api/v1/surveys/quick/distributions", headers=api.auth("viewer"))
    assert read.json()[0]["audience"] == {"kind": "recipients", "recipients": 2}
    assert "x@example.com" not in read.text


def test_only_admins_run_the_tick(api: Api) -> None:
    assert api.client.post("/api/v1/surveys/tick", headers=api.auth("analyst")).status_code == 403
    ran = api.client.post(
        "/api/v1/surveys/tick",
        json={"jobs": ["surveys.expire", "surveys.remind"]},
        headers=api.auth("admin"),
    )
    assert ran.status_code == 200, ran.text
    assert ran.json()["surveys.expire"]["counts"] == {"expired": 0}
    assert set(ran.json()) == {"surveys.expire", "surveys.remind"}
    unknown = api.client.post(
        "/api/v1/surveys/tick", json={"jobs": ["nope"]}, headers=api.auth("admin")
    )
    assert unknown.status_code == 422
