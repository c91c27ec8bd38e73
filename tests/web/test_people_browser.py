"""Customer and account 360 in Chromium, as admin, analyst, agent and viewer: each logs in,
follows the nav to the customer search, finds c-1 by id and opens it; the value percentile and
order counts shown are the API's for the same reader, the e-mail address is masked for analysts
and viewers and shown to admins and to the agent who owns the customer's case; zh and en both
render; the account's health n and score are the API's. Screenshots:
``test-artifacts/customer360_<role>_<lang>.png`` and ``account360_<role>.png``."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.web.browser import ARTIFACTS, serve
from tests.web.case_pages_support import Desk
from tests.web.people_support import build_people
from tests.web.support import PASSWORD

pytestmark = pytest.mark.browser

USERS = {"admin": "admin", "analyst": "analyst", "agent": "wang.fang", "viewer": "viewer"}
"""Role → the user who plays it (wang.fang owns c-1's case: the agent who reads its PII)."""
EMAIL = "li.na@example.com"
MASKED = "l***@example.com"


@dataclass
class Served:
    url: str
    desk: Desk


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    desk = build_people(tmp_path_factory.mktemp("people-browser") / "cxloop.db")
    try:
        with serve(desk.api.app) as url:
            yield Served(url=url, desk=desk)
    finally:
        desk.close()


def data_value(page: Any, selector: str) -> float:
    return float(page.locator(selector).first.get_attribute("data-value"))


@pytest.mark.parametrize("role", list(USERS))
def test_each_role_finds_a_customer_and_reads_the_apis_numbers_masked_by_role(
    served: Served, browser_page: Any, role: str
) -> None:
    page, user, url = browser_page, USERS[role], served.url
    page.goto(f"{url}/login?lang=en")
    page.locator("#username").fill(user)
    page.locator("#password").fill(PASSWORD)
    page.locator("form.card button[type=submit]").click()
    page.wait_for_url(f"{url}/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Customers").click()
    page.wait_for_url(f"{url}/customers")
    page.locator("#q").fill("c-1")
    page.locator("#search button[type=submit]").click()
    page.wait_for_url(f"{url}/customers?q=c-1")
    page.locator('#customers a[href="/customers/c-1"]').click()
    page.wait_for_url(f"{url}/customers/c-1")
    api = served.desk.json(user, "/api/v1/dashboard/customers/c-1")["story"]
    ARTIFACTS.mkdir(exist_ok=True)
    for lang in ("en", "zh"):
        page.goto(f"{url}/customers/c-1?lang={lang}")
        assert page.locator("html").get_attribute("lang") == ("zh-CN" if lang == "zh" else "en")
        assert data_value(page, '[data-field="percentile"]') == api["value"]["percentile"]
        assert data_value(page, '#value [data-field="orders"]') == api["value"]["orders"]
        assert data_value(page, '[data-field="orders-total"]') == api["orders_total"]
        email = page.locator('#profile [data-field="email"]').inner_text().strip()
        assert email == (MASKED if role in ("analyst", "viewer") else EMAIL), role
        assert email == api["profile"]["email"]
        page.screenshot(path=str(ARTIFACTS / f"customer360_{role}_{lang}.png"), full_page=True)
    page.goto(f"{url}/accounts/A-1?lang=en")
    health = served.desk.json(user, "/api/v1/metrics/accounts?account=A-1")["accounts"][0]
    shown = page.locator("#health-score")
    assert int(shown.get_attribute("data-n")) == health["n"]
    score = shown.get_attribute("data-value")
    assert (float(score) if score else None) == health["score"]  # hidden for viewers (n = 1)
    assert page.locator("#contacts tbody tr").count() == 2
    page.screenshot(path=str(ARTIFACTS / f"account360_{role}.png"), full_page=True)
