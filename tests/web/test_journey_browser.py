"""The journey map in Chromium, for each role (admin, analyst, agent, viewer): log in, open
``/journey`` in English and Chinese, every cell's number equals the API's for the same query
string, and a click on a cell lands on its verbatims URL (``/feedback?…`` with the page's
filters plus the cell's stage and touchpoint). Screenshots: ``journey_<role>_<lang>.png``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from cxloop.api import import_records
from tests.dashboards.test_journey import journey_rows
from tests.web.browser import ARTIFACTS, serve
from tests.web.support import PASSWORD, ROLES, Api, build_api

pytestmark = pytest.mark.browser

QUERY = "metric=nps&min_n=3&since=2026-01"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Api]]:
    built = build_api(tmp_path_factory.mktemp("journey-browser") / "cxloop.db")
    rows = journey_rows()
    assert import_records(built.store, "feedback", rows).inserted == len(rows)
    try:
        with serve(built.app) as url:
            yield url, built
    finally:
        built.store.close()
        built.app.state.engine.dispose()


def _cells(page: Any) -> dict[tuple[str, str], tuple[int, float | None, str]]:
    found = page.locator("#journey td.cell").evaluate_all(
        "cells => cells.map(c => [c.dataset.stage, c.dataset.touchpoint, c.dataset.n,"
        " c.dataset.value, c.querySelector('.cell-link').textContent.trim()])"
    )
    return {
        (stage, touchpoint): (int(n), float(value) if value else None, printed)
        for stage, touchpoint, n, value, printed in found
    }


@pytest.mark.parametrize("role", ROLES)
def test_each_role_sees_the_apis_numbers_and_a_cell_opens_its_verbatims(
    served: tuple[str, Api], browser_page: Any, role: str
) -> None:
    url, _ = served
    page = browser_page
    page.goto(f"{url}/login?lang=en")
    page.locator("#username").fill(role)
    page.locator("#password").fill(PASSWORD)
    page.locator("form.card button[type=submit]").click()
    page.wait_for_url(f"{url}/")
    ARTIFACTS.mkdir(exist_ok=True)
    for lang, html_lang in (("en", "en"), ("zh", "zh-CN")):
        page.goto(f"{url}/journey?{QUERY}&lang={lang}")
        assert page.locator("html").get_attribute("lang") == html_lang
        answer = page.request.get(f"{url}/api/v1/dashboard/journey?{QUERY}")
        assert answer.ok, answer.text()
        expected = {
            (c["journey_stage"] or "", c["touchpoint"] or ""): (c["n"], c["score"])
            for c in answer.json()["cells"]
        }
        shown = _cells(page)
        assert {k: v[:2] for k, v in shown.items()} == expected
        for _n, score, printed in shown.values():
            if score is not None:  # NPS printed whole: the number the data-value rounds to
                assert abs(float(printed.replace("−", "-")) - score) <= 0.5, (printed, score)
        assert page.locator("#api-link a").get_attribute("href") == (
            f"/api/v1/dashboard/journey?{QUERY}"
        )
        page.screenshot(path=str(ARTIFACTS / f"journey_{role}_{lang}.png"), full_page=True)
    cell = page.locator('#journey td.cell[data-stage="购买"][data-touchpoint="门店"]')
    cell.locator("a.cell-link").click()
    page.wait_for_url(f"{url}/feedback?**")
    landed = urlsplit(page.url)
    assert landed.path == "/feedback"
    assert parse_qsl(landed.query) == [
        ("since", "2026-01"),
        ("journey_stage", "购买"),
        ("touchpoint", "门店"),
    ]
