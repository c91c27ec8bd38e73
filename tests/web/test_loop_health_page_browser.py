"""The loop health page in Chromium: a viewer follows the nav link, the churn difference is drawn
(ECharts SVG) on its interval, and choosing a dimension keeps it in the URL. A screenshot is kept
in ``test-artifacts/``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.web.browser import ARTIFACTS, serve
from tests.web.case_pages_support import build_desk
from tests.web.support import PASSWORD
from tests.web.test_loop_health_page import plant_churn

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    desk = build_desk(tmp_path_factory.mktemp("health-browser") / "cxloop.db")
    plant_churn(desk)
    try:
        with serve(desk.api.app) as url:
            yield url
    finally:
        desk.close()


def test_a_viewer_reads_loop_health_with_the_churn_interval_drawn(
    served: str, browser_page: Any
) -> None:
    page = browser_page
    page.goto(f"{served}/login?lang=en")
    page.locator("#username").fill("viewer")
    page.locator("#password").fill(PASSWORD)
    page.locator("form.card button[type=submit]").click()
    page.wait_for_url(f"{served}/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Loop health").click()
    page.wait_for_url(f"{served}/loop/health")
    page.locator("#churn-chart svg").first.wait_for(timeout=10_000)
    assert page.locator("#churn-chart svg path").count() > 0
    page.locator("#f-by").select_option("team")
    page.locator("#filters button[type=submit]").click()
    page.wait_for_url(f"{served}/loop/health?by=team*")
    groups = page.locator("#groups tbody tr").evaluate_all("rows => rows.map(r => r.dataset.group)")
    assert sorted(groups) == ["east", "客服一组"]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "loop_health_by_team.png"), full_page=True)
