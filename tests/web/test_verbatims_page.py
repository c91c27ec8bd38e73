"""``/feedback``: the verbatims ``GET /api/v1/feedback`` returns for the same query string,
paged, masked by role, aspects marked; bad filters a 422 page in words."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.dashboards.topics_data import PHONE, ROWS, build_empty
from tests.web.support import ROLES, Api, build_api
from tests.web.topics_support import close, login, weekly_api

PII_ROLES = {"admin", "agent"}


@pytest.fixture(scope="module")
def verbatims_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    built = weekly_api(tmp_path_factory, "verbatims-page")
    with built.client:
        yield built
    close(built)


def _ids(html: str) -> list[str]:
    return re.findall(r'<li data-feedback="([^"]+)">', html)


def _total(html: str) -> int:
    found = re.search(r'id="total" data-value="(\d+)"', html)
    assert found, html[-2000:]
    return int(found.group(1))


@pytest.mark.parametrize("role", ROLES)
def test_each_role_reads_the_apis_page_masked_by_role(verbatims_api: Api, role: str) -> None:
    login(verbatims_api, role)
    query = "journey_stage=交付&touchpoint=配送&limit=5"
    page = verbatims_api.client.get(f"/feedback?{query}&lang=en")
    assert page.status_code == 200, page.text
    api = verbatims_api.client.get(f"/api/v1/feedback?{query}", headers=verbatims_api.auth(role))
    assert _total(page.text) == api.json()["total"] == sum(1 for r in ROWS if r.stage == "交付")
    assert _ids(page.text) == [i["feedback_id"] for i in api.json()["items"]]
    assert (PHONE in page.text) == (role in PII_ROLES) != ("138****8000" in page.text)
    assert '<mark class="aspect neg"' in page.text and 'title="Speed: negative"' in page.text


def test_the_api_link_gives_this_pages_items(verbatims_api: Api) -> None:
    login(verbatims_api, "viewer")
    page = verbatims_api.client.get("/feedback?topic=returns&lang=en")
    link = re.search(r'id="api-link">[^<]*<a href="([^"]+)"', page.text)
    assert link and link.group(1) == "/api/v1/feedback?topic=returns&amp;limit=25"
    api = verbatims_api.client.get(
        link.group(1).replace("&amp;", "&"), headers=verbatims_api.auth("viewer")
    )
    assert [i["feedback_id"] for i in api.json()["items"]] == _ids(page.text)


def test_pages_follow_each_other_with_the_same_filters(verbatims_api: Api) -> None:
    login(verbatims_api, "viewer")
    first = verbatims_api.client.get("/feedback?topic=returns&limit=20")
    assert _total(first.text) == 32 and len(_ids(first.text)) == 20
    following = re.search(r'href="([^"]+)" rel="next"', first.text)
    assert following and "offset=20" in following.group(1)
    second = verbatims_api.client.get(following.group(1).replace("&amp;", "&"))
    assert len(_ids(second.text)) == 12 and not set(_ids(second.text)) & set(_ids(first.text))
    assert 'rel="next"' not in second.text and 'rel="prev"' in second.text


def test_scope_filters_and_score_range_narrow_like_the_api(verbatims_api: Api) -> None:
    login(verbatims_api, "analyst")
    query = "since=2026-05-04&where=channel=app&min_score=2&max_score=2"
    page = verbatims_api.client.get(f"/feedback?{query}")
    api = verbatims_api.client.get(
        f"/api/v1/feedback?{query}", headers=verbatims_api.auth("analyst")
    )
    assert _total(page.text) == api.json()["total"] == 14


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("topic=nothing-like-it", "topic"),
        ("min_score=9&max_score=1", "below min_score"),
        ("sentiment=happy", "sentiment"),
        ("colour=red", "colour"),
        ("last=30x", "last"),
    ],
)
def test_bad_filters_are_a_422_page_in_words(verbatims_api: Api, query: str, words: str) -> None:
    login(verbatims_api, "viewer")
    page = verbatims_api.client.get(f"/feedback?{query}")
    assert page.status_code == 422 and 'id="error"' in page.text and words in page.text


def test_a_filter_no_feedback_has_says_so(verbatims_api: Api) -> None:
    login(verbatims_api, "viewer")
    page = verbatims_api.client.get("/feedback?touchpoint=柜台&lang=en")
    assert page.status_code == 200 and _total(page.text) == 0 and 'id="no-data"' in page.text
    assert "no stored feedback has touchpoint" in page.text


def test_an_empty_store_says_there_is_no_feedback(tmp_path: Path) -> None:
    built = build_api(build_empty(tmp_path), seed=False)
    try:
        login(built, "agent")
        page = built.client.get("/feedback?lang=en")
        assert page.status_code == 200 and 'id="no-data"' in page.text
    finally:
        close(built)


def test_the_api_link_leaves_out_the_forms_blank_fields(verbatims_api: Api) -> None:
    """The filter form sends every field, blank ones too: the page ignores them, and its API
    link must not carry them (the API refuses an empty ``since`` or ``topic``)."""
    login(verbatims_api, "viewer")
    page = verbatims_api.client.get("/feedback?since=&last=&where=&topic=returns&search=&limit=")
    assert page.status_code == 200, page.text
    link = re.search(r'id="api-link">[^<]*<a href="([^"]+)"', page.text)
    assert link and link.group(1) == "/api/v1/feedback?topic=returns&amp;limit=25"
    api = verbatims_api.client.get(
        link.group(1).replace("&amp;", "&"), headers=verbatims_api.auth("viewer")
    )
    assert api.status_code == 200 and api.json()["total"] == _total(page.text)


def test_touchpoint_and_channel_are_asked_for_once(verbatims_api: Api) -> None:
    """The shared bar leaves touchpoint and channel to the page's own inputs; a ``where`` for
    them (the bar's spelling) fills those inputs and gives the API's numbers."""
    login(verbatims_api, "viewer")
    query = "where=channel=app&touchpoint=配送"
    page = verbatims_api.client.get(f"/feedback?{query}&lang=en")
    assert page.status_code == 200, page.text
    for name in ("touchpoint", "channel"):
        assert len(re.findall(rf'<label for="[^"]+">{name.title()}</label>', page.text)) == 1
    assert re.search(r'id="v-channel" name="channel" form="filters" value="app"', page.text)
    assert 'id="f-where-channel"' not in page.text and 'id="f-where-segment"' in page.text
    api = verbatims_api.client.get(
        f"/api/v1/feedback?{query}", headers=verbatims_api.auth("viewer")
    )
    assert _total(page.text) == api.json()["total"]


def test_the_nav_marks_no_section_as_current(verbatims_api: Api) -> None:
    login(verbatims_api, "viewer")
    page = verbatims_api.client.get("/feedback?lang=en")
    assert 'aria-current="page"' not in page.text
