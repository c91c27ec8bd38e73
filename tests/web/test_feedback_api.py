"""``GET /api/v1/feedback``: the same filters as ``cxloop feedback list`` as query parameters,
the same rows as the service, personal data masked for analysts and viewers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from cxloop.feedback import service as feedback_service
from cxloop.feedback.schemas import FeedbackFilter
from tests.feedback.search_data import PHONE, build_store
from tests.web.support import ROLES, Api, build_api

PII_ROLES = {"admin", "agent"}


@pytest.fixture(scope="module")
def feedback_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    built = build_api(build_store(tmp_path_factory.mktemp("feedback-api")), seed=False)
    with built.client:
        yield built
    built.store.close()
    built.app.state.engine.dispose()


def get(api: Api, url: str, role: str = "viewer", **params: Any) -> Any:
    response = api.client.get(url, params=params, headers=api.auth(role))
    assert response.status_code == 200, response.text
    return response.json()


def service_ids(api: Api, **filters: Any) -> list[str]:
    with api.store.sessions() as session:
        page = feedback_service.list_feedback(
            session=session, filters=FeedbackFilter(**filters), limit=1000
        )
    return [i.feedback_id for i in page.items]


@pytest.mark.parametrize(
    ("params", "filters"),
    [
        ({"topic": "物流"}, {"topic": ("delivery",)}),
        ({"aspect": "delivery:negative"}, {"aspect": ("delivery:negative",)}),
        ({"channel": ["app", "review"]}, {"channel": ("app", "review")}),
        ({"where": "segment=VIP"}, {"segment": ("VIP",)}),
        (
            {"segment": "VIP", "sentiment": "negative"},
            {"segment": ("VIP",), "sentiment": ("negative",)},
        ),
        ({"flag": "churn_intent"}, {"flag": ("churn_intent",)}),
        ({"search": "物流", "min_score": 0, "max_score": 3}, {"search": "物流", "max_score": 3}),
    ],
)
def test_query_parameters_select_what_the_service_selects(
    feedback_api: Api, params: dict[str, Any], filters: dict[str, Any]
) -> None:
    page = get(feedback_api, "/api/v1/feedback", limit=1000, **params)
    expected = service_ids(feedback_api, **filters)
    assert expected and [i["feedback_id"] for i in page["items"]] == expected
    assert page["total"] == len(expected)


def test_last_is_the_window_before_until(feedback_api: Api) -> None:
    # until=2026-03-05 keeps all of 5 March (UTC); last=3d starts 3 days before that end
    everything = get(feedback_api, "/api/v1/feedback", limit=1000)["items"]
    inside = [
        i["feedback_id"] for i in everything if "2026-03-03" <= i["created_at"] < "2026-03-06"
    ]
    page = get(feedback_api, "/api/v1/feedback", until="2026-03-05", last="3d", limit=1000)
    assert inside and [i["feedback_id"] for i in page["items"]] == inside
    assert page["total"] == len(inside)


def test_items_carry_features(feedback_api: Api) -> None:
    item = get(feedback_api, "/api/v1/feedback/shop:R3")
    features = item["features"]
    assert features["language"] == "en" and "churn_intent" in features["flags"]
    assert {"topic", "sentiment", "score", "mentions"} <= set(features["topics"][0])
    assert item["segment"] == "VIP"


@pytest.mark.parametrize("role", ROLES)
def test_personal_data_in_text_and_author_is_masked_by_role(feedback_api: Api, role: str) -> None:
    [item] = get(feedback_api, "/api/v1/feedback", role, search=PHONE[-4:])["items"]
    single = get(feedback_api, f"/api/v1/feedback/{item['feedback_id']}", role)
    for shown in (item, single):
        if role in PII_ROLES:
            assert PHONE in shown["text"] and shown["author_phone"].endswith("0005")
            assert "*" not in shown["author_phone"]
        else:
            assert PHONE not in shown["text"] and "138****8000" in shown["text"]
            assert "*" in shown["author_phone"]


def test_a_search_for_a_masked_value_still_finds_it_only_by_its_clear_text(
    feedback_api: Api,
) -> None:
    assert get(feedback_api, "/api/v1/feedback", search="138****8000")["total"] == 0


@pytest.mark.parametrize(
    ("params", "field", "reason"),
    [
        ({"topic": "delivry"}, "topic", "close matches: delivery"),
        ({"aspect": "delivery"}, "aspect", "topic:sentiment"),
        ({"sentiment": "happy"}, "query.sentiment.0", ""),
        ({"min_score": 9, "max_score": 1}, "query.max_score", "below min_score"),
        ({"last": "30x"}, "last", "30d"),
        ({"since": "2026-03-05", "last": "3d"}, "last", "cannot be combined"),
        ({"where": "colour=red"}, "where", "not a field"),
        ({"score_field": "stars"}, "query.score_field", ""),
        ({"bogus": "1"}, "query.bogus", ""),
    ],
)
def test_bad_parameters_are_422_naming_field_value_and_reason(
    feedback_api: Api, params: dict[str, Any], field: str, reason: str
) -> None:
    response = feedback_api.client.get(
        "/api/v1/feedback", params=params, headers=feedback_api.auth("viewer")
    )
    assert response.status_code == 422, response.text
    problems = response.json()["detail"]
    assert any(p["field"] == field and reason in p["reason"] for p in problems), problems


def test_channels_endpoint_counts_stored_values(feedback_api: Api) -> None:
    counts = get(feedback_api, "/api/v1/feedback/channels")
    assert sum(c["n"] for c in counts) == get(feedback_api, "/api/v1/feedback")["total"]
    assert counts[0]["n"] >= counts[-1]["n"]
    vip = get(feedback_api, "/api/v1/feedback/channels", where="segment=VIP")
    assert sum(c["n"] for c in vip) == len(service_ids(feedback_api, segment=("VIP",)))


def test_a_missing_feedback_is_404(feedback_api: Api) -> None:
    response = feedback_api.client.get(
        "/api/v1/feedback/crm:none", headers=feedback_api.auth("viewer")
    )
    assert response.status_code == 404


def test_the_filters_are_documented(feedback_api: Api) -> None:
    document = feedback_api.client.get("/openapi.json").json()
    operation = document["paths"]["/api/v1/feedback"]["get"]
    names = {p["name"] for p in operation["parameters"] if p["in"] == "query"}
    assert {"topic", "aspect", "sentiment", "intent", "flag", "search", "last", "where"} <= names
