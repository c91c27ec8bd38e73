"""The drivers page in Chromium, as admin, analyst, agent and viewer (zh and en): the importance
of every driver and the adjusted effect of every outcome row equal the API's for the same query,
both charts are drawn, an analyst drills into a driver and saves its customers as a target list
(then ``GET /api/v1/targets/<name>`` has it), a viewer's drill has no save button. Screenshots
``test-artifacts/drivers_<role>_<lang>.png``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.web.browser import ARTIFACTS, serve
from tests.web.support import PASSWORD
from tests.web.test_drivers_page import Site, demo_site

pytestmark = pytest.mark.browser
QUERY = "n_boot=20&min_mentions=60&min_customers=200"
"""Few resamples, and only what 200 customers said: each page load fits the models again."""
SECTION_TIMEOUT_MS = 180_000
"""The sections fit their models when they load: seconds on an idle machine, more on a busy one."""


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Site]]:
    site = demo_site(tmp_path_factory, "drivers-browser")
    try:
        with serve(site.app) as url:
            yield url, site
    finally:
        site.store.close()


@pytest.fixture(scope="module")
def expected(served: tuple[str, Site]) -> dict[str, Any]:
    """The API's answer for the page's query, read once (every role sees the same numbers)."""
    _, site = served
    answer = site.api("viewer").get(f"/api/v1/dashboard/drivers?{QUERY}")
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    assert found["quadrant"]["available"] and found["say_do"]["available"], found
    return found


def _sign_in(page: Any, url: str, username: str) -> None:
    page.goto(f"{url}/login")
    page.locator("#username").fill(username)
    page.locator("#password").fill(PASSWORD)
    page.locator("form.card button[type=submit]").click()
    page.wait_for_url(f"{url}/")


def _numbers(page: Any, selector: str) -> list[float]:
    raw = page.locator(selector).evaluate_all("cells => cells.map(c => c.dataset.value)")
    return [float(v) for v in raw if v]


@pytest.mark.parametrize(
    ("role", "lang"),
    [("admin", "en"), ("analyst", "zh"), ("agent", "zh"), ("viewer", "en")],
)
def test_the_drivers_page_shows_the_api_numbers(
    served: tuple[str, Site], expected: dict[str, Any], browser_page: Any, role: str, lang: str
) -> None:
    url, site = served
    page = browser_page
    _sign_in(page, url, site.users[role])
    page.goto(f"{url}/drivers?{QUERY}&lang={lang}")
    assert page.locator("html").get_attribute("lang") == ("zh-CN" if lang == "zh" else "en")
    page.locator("#quadrant[data-loaded]").wait_for(timeout=SECTION_TIMEOUT_MS)
    page.locator("#say-do[data-loaded]").wait_for(timeout=SECTION_TIMEOUT_MS)
    importance = _numbers(page, '#drivers-table td[data-field="importance"]')
    assert importance == pytest.approx(
        [r["importance"] for r in expected["quadrant"]["rows"]], rel=1e-12
    )
    adjusted = _numbers(page, '#say-do-table td[data-field="estimate"]')
    assert adjusted == pytest.approx(
        [r["estimate"] for r in expected["say_do"]["rows"] if r["estimate"] is not None],
        rel=1e-12,
    )
    page.locator("#quadrant-chart svg").first.wait_for(timeout=10_000)
    page.locator("#say-do-chart svg").first.wait_for(timeout=10_000)
    assert page.locator("#quadrant-chart svg path").count() > 0
    href = page.locator("#api-link").get_attribute("href")
    assert href == f"/api/v1/dashboard/drivers?{QUERY}"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"drivers_{role}_{lang}.png"), full_page=True)


def test_an_analyst_drills_into_a_driver_and_saves_a_target_list(
    served: tuple[str, Site], browser_page: Any
) -> None:
    url, site = served
    page = browser_page
    _sign_in(page, url, site.users["analyst"])
    page.goto(f"{url}/drivers?{QUERY}&lang=en")
    page.locator("#quadrant[data-loaded]").wait_for(timeout=SECTION_TIMEOUT_MS)
    first = page.locator("#drivers-table tbody tr").first
    topic = first.get_attribute("data-topic")
    first.locator("a.drill").click()
    page.wait_for_url(f"{url}/drivers/customers?*")
    drill = page.request.get(f"{url}/api/v1/dashboard/drivers/customers?{QUERY}&topic={topic}"
                             "&sentiment=negative&limit=5000").json()  # fmt: skip
    assert page.locator("#matched").get_attribute("data-value") == str(drill["matched"])
    shown = page.locator("#customers tbody tr").evaluate_all("r => r.map(x => x.dataset.customer)")
    assert shown == [c["customer_id"] for c in drill["customers"][: len(shown)]]
    page.locator("#list-name").fill(f"unhappy about {topic}")
    page.locator("#save-button").click()
    page.wait_for_url(f"{url}/drivers/customers?*saved=*")
    assert page.locator("#saved").is_visible()
    listed = page.request.get(f"{url}/api/v1/targets/unhappy about {topic}")
    assert listed.status == 200 and listed.json()["member_count"] == drill["matched"]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "drivers_drill_analyst_en.png"), full_page=True)


def test_a_viewer_drills_without_a_save_button(served: tuple[str, Site], browser_page: Any) -> None:
    url, site = served
    page = browser_page
    _sign_in(page, url, site.users["viewer"])
    page.goto(f"{url}/drivers/customers?nps_group=detractor&lang=zh")
    assert int(page.locator("#matched").get_attribute("data-value") or 0) > 0
    assert page.locator("#save-button").count() == 0
    assert page.locator("#customers tbody tr").count() > 0
