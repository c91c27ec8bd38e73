"""The journey map page (``/journey``) and its API (``GET /api/v1/dashboard/journey``) over real
SQLite stores: every role reads the same numbers on the page as from the API for the same query
string; each cell links to its verbatims with the page's filters (and the feedback API finds
exactly the cell's feedback there); colours always come with the printed number and readable
text; bad values, an empty store and a store without stages are answered in words."""

from __future__ import annotations

from collections.abc import Iterator
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from cxloop.api import import_records
from cxloop.dashboards.schemas_journey import JourneyCell, JourneyOverall, JourneyResult
from cxloop.web.pages.journey import TEXTS, cell_colour, contrast
from tests.dashboards.test_journey import journey_rows
from tests.web.support import ROLES, Api, build_api

QUERY = "metric=csat&min_n=5&since=2026-02&where=touchpoint%3Dapp"


class Cells(HTMLParser):
    """The page's cells (``td.cell``): their data attributes, style, link and printed text."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: list[dict[str, Any]] = []
        self.ids: dict[str, dict[str, str | None]] = {}
        self._cell: dict[str, Any] | None = None
        self._depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id"):
            self.ids[str(found["id"])] = found
        if tag == "td" and "cell" in (found.get("class") or "").split():
            self._cell = {**found, "text": "", "links": []}
            self._depth = 1
        elif self._cell is not None:
            self._depth += tag == "td"
            if tag == "a":
                self._cell["links"].append(found.get("href"))

    def handle_endtag(self, tag: str) -> None:
        if self._cell is not None and tag == "td":
            self._depth -= 1
            if not self._depth:
                self.cells.append(self._cell)
                self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell["text"] += data


def _parse(html: str) -> Cells:
    parser = Cells()
    parser.feed(html)
    return parser


def _store(folder: Path, rows: list[dict[str, Any]], *, seed: bool = True) -> Api:
    built = build_api(folder / "cxloop.db", seed=seed)
    if rows:
        assert import_records(built.store, "feedback", rows).inserted == len(rows)
    return built


@pytest.fixture(scope="module")
def apis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Api]]:
    """The journey store (plus the seed row: no stage, no touchpoint), one without stages and
    an empty one."""
    rows = journey_rows()
    built = {
        "full": _store(tmp_path_factory.mktemp("journey-full"), rows),
        "no_stage": _store(
            tmp_path_factory.mktemp("journey-no-stage"),
            [{k: v for k, v in r.items() if k != "journey_stage"} for r in rows],
            seed=False,
        ),
        "empty": _store(tmp_path_factory.mktemp("journey-empty"), [], seed=False),
    }
    yield built
    for api in built.values():
        api.store.close()
        api.app.state.engine.dispose()


def _page(api: Api, role: str, query: str = "") -> Any:
    cookie = {"Cookie": f"cxloop_token={api.tokens[role]}"}
    return api.client.get("/journey" + (f"?{query}" if query else ""), headers=cookie)


def _api(api: Api, role: str, query: str = "") -> Any:
    return api.client.get(f"/api/v1/dashboard/journey?{query}", headers=api.auth(role))


def _number(text: str | None) -> float | None:
    return None if text in (None, "") else float(text)


@pytest.mark.parametrize("role", ROLES)
def test_every_role_reads_the_numbers_the_api_gives_for_the_same_query(
    apis: dict[str, Api], role: str
) -> None:
    api = apis["full"]
    page = _page(api, role, QUERY + "&lang=en")
    assert page.status_code == 200, page.text
    answer = _api(api, role, QUERY)
    assert answer.status_code == 200, answer.text
    found = JourneyResult.model_validate(answer.json())
    assert found.metric == "csat" and found.cells
    parsed = _parse(page.text)
    shown = {
        (c["data-stage"] or None, c["data-touchpoint"] or None): (
            int(c["data-n"]), int(c["data-volume"]), _number(c["data-value"]), c["data-small-n"]
        )
        for c in parsed.cells
    }  # fmt: skip
    assert shown == {
        (c.journey_stage, c.touchpoint): (c.n, c.volume, c.score, "true" if c.small_n else "false")
        for c in found.cells
    }
    assert _number(parsed.ids["overall"]["data-value"]) == found.overall.score
    link = urlsplit(unescape(page.text.split('id="api-link"')[1].split('href="')[1].split('"')[0]))
    assert link.path == "/api/v1/dashboard/journey"
    assert parse_qsl(link.query) == parse_qsl(QUERY)


def test_a_cell_links_to_its_verbatims_with_the_same_filters(apis: dict[str, Api]) -> None:
    api = apis["full"]
    page = _parse(_page(api, "viewer", QUERY).text)
    found = JourneyResult.model_validate(_api(api, "viewer", QUERY).json())
    volumes = {(c.journey_stage, c.touchpoint): c for c in found.cells}
    linked = 0
    for cell in page.cells:
        key = (cell["data-stage"] or None, cell["data-touchpoint"] or None)
        if None in key:
            assert cell["links"] == [], "a cell without a stage or touchpoint has no link"
            continue
        link = urlsplit(cell["links"][0])
        params = parse_qsl(link.query)
        assert link.path == "/feedback"
        assert params == [
            ("since", "2026-02"),
            ("where", "touchpoint=app"),
            ("journey_stage", key[0]),
            ("touchpoint", key[1]),
        ]
        verbatims = api.client.get(f"/api/v1/feedback?{link.query}", headers=api.auth("viewer"))
        assert verbatims.status_code == 200, verbatims.text
        assert verbatims.json()["total"] == volumes[key].volume
        for aspect, href in zip(volumes[key].aspects, cell["links"][1:], strict=True):
            assert dict(parse_qsl(urlsplit(href).query))["aspect"] == f"{aspect.topic}:negative"
            if aspect.topic.count("/"):  # a leaf: the verbatims count exactly its mentions
                more = api.client.get(f"/api/v1/feedback?{urlsplit(href).query}",
                                      headers=api.auth("viewer"))  # fmt: skip
                assert more.json()["total"] == aspect.negative
        linked += 1
    assert linked >= 1


def test_zh_and_en_both_render_the_grid(apis: dict[str, Api]) -> None:
    for lang, html_lang in (("zh", "zh-CN"), ("en", "en")):
        page = _page(apis["full"], "agent", f"lang={lang}")
        assert page.status_code == 200
        assert f'<html lang="{html_lang}">' in page.text
        assert 'data-stage="购买"' in page.text and 'data-touchpoint="门店"' in page.text
        assert page.text.count('<td class="cell') == len(journey_cells(apis["full"]))


def journey_cells(api: Api) -> list[Any]:
    return list(_api(api, "viewer").json()["cells"])


def test_stages_come_in_journey_order_with_not_given_last(apis: dict[str, Api]) -> None:
    page = _page(apis["full"], "viewer", "lang=en").text
    rows = [part.split('"', 1)[0] for part in page.split('<tr data-stage="')[1:]]
    assert rows == ["购买", "Onboarding", "使用", "zeta", "评测会", ""]
    assert "(not given)" in page
    assert 'id="order-note"' in page


def test_colour_comes_with_the_printed_number_and_readable_text(apis: dict[str, Api]) -> None:
    page = _parse(_page(apis["full"], "analyst", "min_n=3&lang=en").text)
    coloured = [c for c in page.cells if c.get("style")]
    assert coloured, "some cells are coloured"
    for cell in page.cells:
        assert "n = " in cell["text"]
        if cell["data-value"]:
            assert any(ch.isdigit() for ch in cell["text"].split("n = ")[0])
        if cell["data-small-n"] == "true":
            assert not cell.get("style") and "small n" in cell["text"]
    for cell in coloured:
        background, text = (part.split(":")[1] for part in cell["style"].split(";"))
        assert contrast(background, text) >= 4.5


def test_cells_are_coloured_on_a_diverging_scale_around_the_whole_view() -> None:
    overall = JourneyOverall(n=100, score=10.0, ci_low=0.0, ci_high=20.0, small_n=False)
    result = JourneyResult.model_validate(
        {**_empty_result(), "overall": overall.model_dump(), "metric": "nps"}
    )

    def cell(score: float | None, small: bool = False) -> JourneyCell:
        return JourneyCell(journey_stage="buy", touchpoint="app", volume=50, n=50, score=score,
                           ci_low=None, ci_high=None, small_n=small, aspects=[])  # fmt: skip

    assert cell_colour(cell(40.0), result) == ("#0072b2", "#ffffff")  # 30 above: full blue
    assert cell_colour(cell(-50.0), result) == ("#d55e00", "#000000")  # clipped: full vermillion
    assert cell_colour(cell(10.0), result) == ("#f7f7f7", "#000000")  # the whole view's score
    assert cell_colour(cell(None), result) is None
    assert cell_colour(cell(40.0, small=True), result) is None
    assert set(TEXTS) == {"#ffffff", "#000000"}


def _empty_result() -> dict[str, Any]:
    return {
        "metric": "nps", "scale": "", "method": "", "caveats": "", "confidence": 0.95,
        "min_n": 30, "scope": {}, "volume": 0, "stages": [], "touchpoints": [],
        "stage_order": "none", "has_stages": False, "has_touchpoints": False, "cells": [],
        "freshness": {"source": "store"},
    }  # fmt: skip


def test_a_store_without_stages_says_so_and_shows_touchpoints(apis: dict[str, Api]) -> None:
    page = _page(apis["no_stage"], "viewer", "lang=en")
    assert page.status_code == 200
    assert 'id="no-stages"' in page.text and "journey_stage" in page.text
    assert 'data-touchpoint="门店"' in page.text


def test_an_empty_store_says_there_is_no_feedback_yet(apis: dict[str, Api]) -> None:
    page = _page(apis["empty"], "admin", "lang=en")
    assert page.status_code == 200
    assert 'id="no-data"' in page.text and '<table id="journey"' not in page.text
    assert _api(apis["empty"], "admin").json()["cells"] == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("metric=nope", "metric"),
        ("where=touchpoint%3Dap", "where.touchpoint"),
        ("since=x", "since"),
        ("min_n=0", "min_n"),
    ],
)
def test_a_bad_value_is_named_on_the_page_and_by_the_api_with_422(
    apis: dict[str, Api], query: str, field: str
) -> None:
    page = _page(apis["full"], "viewer", query)
    assert page.status_code == 422
    assert 'id="error"' in page.text and field in page.text
    assert 'id="filters"' in page.text, "the filter bar stays to fix the value"
    answer = _api(apis["full"], "viewer", query)
    assert answer.status_code == 422
    detail = answer.json()["detail"][0]
    assert detail.get("field", ".".join(map(str, detail.get("loc", [])))).endswith(field)


def test_without_a_sign_in_the_page_sends_to_login_and_the_api_refuses(
    apis: dict[str, Api],
) -> None:
    page = apis["full"].client.get("/journey", follow_redirects=False)
    assert (page.status_code, page.headers["location"]) == (303, "/login")
    assert apis["full"].client.get("/api/v1/dashboard/journey").status_code == 401
