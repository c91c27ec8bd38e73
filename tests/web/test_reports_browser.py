"""The /reports page in Chromium as admin, analyst, agent and viewer: the download links return
files holding the API's numbers for the page's filters, the schedule form shows only to list
managers (an analyst saves one through it), zh and en render. Screenshots: reports_<role>.png."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.web.browser import ARTIFACTS, serve
from tests.web.overview_support import ROLES, app_on, demo_copy, user_name
from tests.web.support import PASSWORD

pytestmark = pytest.mark.browser
QUERY = "since=2026-03&until=2026-10"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    found = app_on(demo_copy(tmp_path_factory, "reports-browser"))
    try:
        with serve(found.app) as url:
            yield url
    finally:
        found.store.close()


def _log_in(page: Any, url: str, role: str) -> None:
    page.goto(f"{url}/login?lang=en")
    page.locator("#username").fill(user_name(role))
    page.locator("#password").fill(PASSWORD)
    page.locator("form.card button[type=submit]").click()
    page.wait_for_url(f"{url}/")


@pytest.mark.parametrize("role", ROLES)
def test_reports_page_downloads_equal_the_api(served: str, browser_page: Any, role: str) -> None:
    page = browser_page
    _log_in(page, served, role)
    page.goto(f"{served}/reports?{QUERY}&lang=en")
    assert page.locator("html").get_attribute("lang") == "en"
    assert (page.locator("#schedule-form").count() == 1) == (role in ("admin", "analyst"))
    link = page.locator('#downloads [data-view="journey"] a[href*=".csv"]')
    with page.expect_download() as info:
        link.click()
    rows = list(csv.DictReader(io.StringIO(Path(info.value.path()).read_text("utf-8-sig"))))
    api = page.request.get(f"{served}/api/v1/dashboard/journey?{QUERY}").json()
    assert [(r["journey_stage"], r["touchpoint"], int(r["n"])) for r in rows] == [
        (c["journey_stage"] or "", c["touchpoint"] or "", c["n"]) for c in api["cells"]
    ]
    xlsx = page.locator('#downloads [data-view="overview"] a[href*=".xlsx"]')
    with page.expect_download() as info:
        xlsx.click()
    assert Path(info.value.path()).read_bytes()[:2] == b"PK"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"reports_{role}.png"), full_page=True)


def test_an_analyst_schedules_a_report_from_the_page_in_chinese(
    served: str, browser_page: Any
) -> None:
    page = browser_page
    _log_in(page, served, "analyst")
    page.goto(f"{served}/reports?{QUERY}&lang=zh")
    assert page.locator("html").get_attribute("lang", timeout=5_000) in ("zh", "zh-CN")
    page.locator("#s-name").fill("华东周报")
    page.locator("#s-recipients").fill("lead@example.com, ops@example.com")
    page.locator("#schedule-form input[name=sections][value=journey]").check()
    page.locator("#add-schedule").click()
    page.wait_for_url(f"{served}/reports?{QUERY}&added=1")
    row = page.locator("#schedules tbody tr").first
    assert "华东周报" in row.inner_text() and "since=2026-03" in row.inner_text()
    page.screenshot(path=str(ARTIFACTS / "reports_analyst_zh.png"), full_page=True)
