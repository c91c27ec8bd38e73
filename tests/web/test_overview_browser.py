"""The overview in Chromium on the demo company, as admin, analyst, agent and viewer, in en and
zh: each logs in through the form, the tiles' numbers equal the API's for the same filters, the
trend charts are drawn (ECharts SVG with the interval band), a filter chosen in the bar lands in
the URL, and nothing is fetched from another host (the fixture fails the test on that and on
console errors). Screenshots: ``test-artifacts/overview_<role>_<lang>.png``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.web.browser import ARTIFACTS, serve
from tests.web.overview_support import ROLES, app_on, demo_copy, user_name
from tests.web.support import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    api = app_on(demo_copy(tmp_path_factory, "overview-browser"))
    try:
        with serve(api.app) as url:
            yield url
    finally:
        api.store.close()
        api.app.state.engine.dispose()


def _tiles(page: Any) -> dict[str, str]:
    return dict(
        page.locator("#tiles .tile").evaluate_all(
            "tiles => tiles.map(t => [t.dataset.tile,"
            " t.querySelector('.score')?.dataset.value ?? null])"
        )
    )


def _api_tiles(page: Any, url: str, query: str) -> dict[str, str]:
    response = page.request.get(f"{url}/api/v1/dashboard/overview?{query}")  # the cookie
    assert response.status == 200, response.text()
    return {t["metric"]: str(t["score"]) for t in response.json()["tiles"]}


@pytest.mark.parametrize("role", ROLES)
def test_each_role_sees_the_apis_numbers_in_english_and_chinese(
    served: str, browser_page: Any, role: str
) -> None:
    page = browser_page
    page.goto(f"{served}/login?lang=en")
    page.locator("#username").fill(user_name(role))
    page.locator("#password").fill(PASSWORD)
    page.locator("form.card button[type=submit]").click()
    page.wait_for_url(f"{served}/")
    assert page.locator("html").get_attribute("lang") == "en"
    page.locator("#f-period").select_option("quarter")
    page.locator("#f-where-region").select_option("region=上海")
    page.locator("#filters button[type=submit]").click()
    page.wait_for_url("**/?period=quarter*")
    query = page.evaluate("location.search.slice(1)")
    assert "where=region" in query
    tiles = _tiles(page)
    assert set(tiles) == {"nps", "csat", "ces", "cx_index"}
    assert tiles == _api_tiles(page, served, query)
    page.locator("[data-trend='nps'] .chart svg").first.wait_for(timeout=10_000)
    assert page.locator("[data-trend='nps'] .chart svg path").count() >= 3  # band edges, line
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"overview_{role}_en.png"), full_page=True)

    page.get_by_role("link", name="中文").click()
    page.wait_for_url("**lang=zh*")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert page.locator("h1").inner_text() == "概览"
    assert _tiles(page) == tiles  # the language changes words, not numbers
    page.locator("[data-trend='csat'] .chart svg").first.wait_for(timeout=10_000)
    page.screenshot(path=str(ARTIFACTS / f"overview_{role}_zh.png"), full_page=True)
