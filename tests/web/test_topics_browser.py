"""The topic explorer and the verbatims in Chromium, for each role: the volumes the page shows
equal the API's for the same filters, the candidates arrive by HTMX (a form only for analysts
and admins), zh and en both render, a viewer reads masked verbatims, and an analyst names a
candidate whose new taxonomy version the page then shows. Screenshots:
``test-artifacts/topics_<role>_<lang>.png`` and ``verbatims_<role>.png``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.dashboards.topics_data import PHONE
from tests.web.browser import ARTIFACTS, serve
from tests.web.support import PASSWORD, ROLES, Api
from tests.web.topics_support import close, weekly_api

pytestmark = pytest.mark.browser
QUERY = "period=week&since=2026-03"
PII_ROLES = {"admin", "agent"}
NAMERS = {"admin", "analyst"}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Api]]:
    built = weekly_api(tmp_path_factory, "topics-browser")
    try:
        with serve(built.app) as url:
            yield url, built
    finally:
        close(built)


def _login(page: Any, url: str, role: str) -> None:
    page.goto(f"{url}/login?lang=en")
    page.locator("#username").fill(role)
    page.locator("#password").fill(PASSWORD)
    page.locator("form.card button[type=submit]").click()
    page.wait_for_url(f"{url}/")


def _volumes(page: Any) -> dict[str, int]:
    rows = page.locator("#topics tbody tr[data-topic]").evaluate_all(
        "rows => rows.map(r => [r.dataset.topic,"
        " r.querySelector('[data-field=volume]').dataset.value])"
    )
    return {path: int(value) for path, value in rows}


@pytest.mark.parametrize("role", ROLES)
def test_each_role_reads_the_apis_topics_and_verbatims(
    served: tuple[str, Api], browser_page: Any, role: str
) -> None:
    url, built = served
    page = browser_page
    _login(page, url, role)
    page.goto(f"{url}/topics?{QUERY}&lang=en")
    api = built.client.get(f"/api/v1/dashboard/topics?{QUERY}", headers=built.auth(role)).json()
    assert _volumes(page) == {t["path"]: t["volume"] for t in api["topics"]}
    assert page.locator("#feedback-total").get_attribute("data-value") == str(api["feedback"])
    page.locator("#candidates h3, #no-candidates").first.wait_for(timeout=15_000)
    assert (page.locator("#candidates form").count() > 0) == (role in NAMERS)
    assert page.locator("tr[data-topic=returns] [data-flag=emerging]").count() == 1
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"topics_{role}_en.png"), full_page=True)
    page.goto(f"{url}/topics?{QUERY}&lang=zh")
    assert (page.locator("html").get_attribute("lang") or "").startswith("zh")
    assert page.locator("tr[data-topic=returns] th a").inner_text() == "退换货"
    page.locator("#candidates h3, #no-candidates").first.wait_for(timeout=15_000)
    page.screenshot(path=str(ARTIFACTS / f"topics_{role}_zh.png"), full_page=True)
    page.locator("tr[data-topic=delivery] th a").click()
    page.wait_for_url(f"{url}/feedback?*topic=delivery*")
    total = page.locator("#total").get_attribute("data-value")
    assert total == str(next(t["volume"] for t in api["topics"] if t["path"] == "delivery"))
    text = page.locator("#verbatims").inner_text()
    assert (PHONE in text) == (role in PII_ROLES) != ("138****8000" in text)
    assert page.locator("#verbatims mark.aspect.neg").count() > 0
    page.screenshot(path=str(ARTIFACTS / f"verbatims_{role}.png"), full_page=True)


def test_an_analyst_names_a_candidate_and_the_new_version_appears(
    served: tuple[str, Api], browser_page: Any
) -> None:
    url, built = served
    page = browser_page
    _login(page, url, "analyst")
    page.goto(f"{url}/topics?lang=en")
    before = page.locator("#taxonomy-version").get_attribute("data-version")
    form = page.locator("#candidates form").first
    form.wait_for(timeout=15_000)
    form.locator("select[name=parent]").select_option("service")
    form.locator("input[name=name_zh]").fill("好评")
    form.locator("input[name=name_en]").fill("Praise")
    form.locator("button[type=submit]").click()
    page.wait_for_url(f"{url}/topics?named=service%2Fpraise*", timeout=30_000)
    assert page.locator("#named").count() == 1
    after = page.locator("#taxonomy-version").get_attribute("data-version")
    assert after and after != before
    api = built.client.get("/api/v1/dashboard/topics", headers=built.auth("viewer")).json()
    assert api["taxonomy_version"] == after
    praise = next(t for t in api["topics"] if t["path"] == "service/praise")
    volume = page.locator("tr[data-topic='service/praise'] [data-field=volume]")
    assert volume.get_attribute("data-value") == str(praise["volume"]) != "0"
