"""``/topics`` and ``/api/v1/dashboard/topics``: one computation for every role, examples
masked by role, candidates named into the taxonomy only by analysts and admins (others see no
form; the API and the form answer 403), refusals in words."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.dashboards.topics_data import PHONE, build_empty
from tests.web.support import ROLES, Api, build_api
from tests.web.topics_support import close, login, page_volumes, weekly_api

NAMERS = {"admin", "analyst"}
PII_ROLES = {"admin", "agent"}


@pytest.fixture(scope="module")
def topics_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    built = weekly_api(tmp_path_factory, "topics-page")
    with built.client:
        yield built
    close(built)


@pytest.mark.parametrize("role", ROLES)
def test_every_role_sees_the_apis_numbers(topics_api: Api, role: str) -> None:
    login(topics_api, role)
    query = "period=week&since=2026-03&where=channel=app"
    page = topics_api.client.get(f"/topics?{query}&lang=en")
    assert page.status_code == 200, page.text
    api = topics_api.client.get(f"/api/v1/dashboard/topics?{query}", headers=topics_api.auth(role))
    assert api.status_code == 200, api.text
    expected = {t["path"]: t["volume"] for t in api.json()["topics"]}
    assert page_volumes(page.text) == expected
    assert expected["returns"] == 32 and expected["service"] == 0
    assert f'href="/api/v1/dashboard/topics?{query.replace("&", "&amp;")}"' in page.text
    assert ('<mark class="aspect neg"' in page.text) and ("emerging" in page.text)
    everything = topics_api.client.get("/topics?period=week").text
    assert (PHONE in everything) == (role in PII_ROLES) != ("138****8000" in everything)
    assert ('action="/topics/candidates"' in page.text) is False  # the candidates load later
    candidates = topics_api.client.get("/topics/candidates", headers={"HX-Request": "true"})
    assert candidates.status_code == 200 and "满意" in candidates.text
    assert ('action="/topics/candidates"' in candidates.text) == (role in NAMERS)
    assert "<html" not in candidates.text  # the HTMX partial only


def test_a_topic_links_to_its_verbatims_with_the_filters(topics_api: Api) -> None:
    login(topics_api, "viewer")
    page = topics_api.client.get("/topics?since=2026-04&where=channel=app")
    assert 'href="/feedback?since=2026-04&amp;where=channel%3Dapp&amp;topic=returns"' in page.text


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("where=segment=nope", "where.segment"),
        ("period=year", "period"),
        ("since=2026-13", "since"),
    ],
)
def test_bad_filters_are_a_422_page_in_words(topics_api: Api, query: str, words: str) -> None:
    login(topics_api, "viewer")
    page = topics_api.client.get(f"/topics?{query}")
    assert page.status_code == 422 and 'id="error"' in page.text and words in page.text


@pytest.mark.parametrize("role", ["agent", "viewer"])
def test_only_namers_may_name_a_candidate(topics_api: Api, role: str) -> None:
    body = {"parent": "service", "name_zh": "好评", "name_en": "Praise", "terms": ["满意"]}
    api = topics_api.client.post(
        "/api/v1/dashboard/topics/candidates", json=body, headers=topics_api.auth(role)
    )
    assert api.status_code == 403
    login(topics_api, role)
    form = topics_api.client.post("/topics/candidates", data={**body, "terms": "满意"})
    assert form.status_code == 403 and "may not manage lists" in form.text
    versions = topics_api.client.get("/api/v1/dashboard/topics", headers=topics_api.auth(role))
    assert "service/praise" not in {t["path"] for t in versions.json()["topics"]}


def test_a_clashing_name_is_refused_on_the_form_in_words(topics_api: Api) -> None:
    login(topics_api, "analyst")
    form = topics_api.client.post(
        "/topics/candidates", data={"name_zh": "速度", "name_en": "", "terms": "满意"}
    )
    assert form.status_code == 422
    assert "already the name of topic delivery/speed" in form.text


def test_an_analyst_names_a_candidate_and_the_new_version_is_active(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    built = weekly_api(tmp_path_factory, "topics-naming")
    try:
        before = built.client.get("/api/v1/dashboard/topics", headers=built.auth("analyst")).json()
        login(built, "analyst")
        form = built.client.post(
            "/topics/candidates",
            data={"parent": "", "name_zh": "好评", "name_en": "Praise", "terms": "满意，点赞"},
            follow_redirects=False,
        )
        assert form.status_code == 303 and form.headers["location"].startswith(
            "/topics?named=praise"
        )
        after = built.client.get("/api/v1/dashboard/topics", headers=built.auth("viewer")).json()
        assert after["taxonomy_version"] != before["taxonomy_version"]
        praise = next(t for t in after["topics"] if t["path"] == "praise")
        assert praise["volume"] == 20
        shown = built.client.get(form.headers["location"])
        assert "Topic praise added" in shown.text or "praise" in shown.text
        api = built.client.post(
            "/api/v1/dashboard/topics/candidates",
            json={"parent": "praise", "name_en": "Return visit", "terms": ["下次还来"]},
            headers=built.auth("admin"),
        )
        assert api.status_code == 201, api.text
        assert api.json()["path"] == "praise/return-visit"
    finally:
        close(built)


def test_an_empty_store_says_there_is_no_data(tmp_path: Path) -> None:
    built = build_api(build_empty(tmp_path), seed=False)
    try:
        login(built, "viewer")
        page = built.client.get("/topics?lang=en")
        assert page.status_code == 200 and 'id="no-data"' in page.text
        candidates = built.client.get("/topics/candidates?lang=en")
        assert candidates.status_code == 200 and 'id="no-candidates"' in candidates.text
    finally:
        close(built)


def test_the_page_sends_a_stranger_to_login(topics_api: Api) -> None:
    topics_api.client.cookies.clear()
    page = topics_api.client.get("/topics", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/login"


def test_the_page_offers_its_numbers_as_csv(topics_api: Api) -> None:
    login(topics_api, "viewer")
    page = topics_api.client.get("/topics?period=week")
    assert 'href="/api/v1/reports/export/topics.csv?period=week"' in page.text
    csv = topics_api.client.get(
        "/api/v1/reports/export/topics.csv?period=week", headers=topics_api.auth("viewer")
    )
    assert csv.status_code == 200 and "returns" in csv.text
