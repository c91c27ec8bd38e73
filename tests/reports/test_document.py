"""The printable report: its PDF's text holds the overview's numbers for the same filters
(scores, intervals, n), in zh and en; stores the demo never shows are answered in words."""

from __future__ import annotations

from pathlib import Path

import pytest

from cxloop import api
from cxloop.dashboards.overview import overview
from cxloop.errors import Invalid
from cxloop.metrics.filters import parse_scope
from cxloop.reports import service as reports_service
from tests.reports.conftest import NOW, QUERY
from tests.reports.pdf_text import pdf_text, tile_line
from tests.web.overview_support import settings_for


def _overview(store: api.Store):  # type: ignore[no-untyped-def]
    scope = parse_scope("2026-03", "2026-10", None, (), now=NOW.replace(tzinfo=None))
    with store.sessions() as session:
        return overview(
            session=session, settings=store.settings, scope=scope, period="month", now=NOW
        )


def _render(store: api.Store, query: str, **kw: object) -> bytes:
    with store.sessions() as session:
        found = reports_service.render(
            session=session,
            settings=store.settings,
            query=query,
            now=NOW,
            **kw,  # type: ignore[arg-type]
        )
    return found.content


def test_pdf_numbers_equal_the_overview_for_the_same_filters(demo: api.Store) -> None:
    expected = _overview(demo)
    assert [t.metric for t in expected.tiles][:3] == ["nps", "csat", "ces"]
    assert all(t.n > 30 for t in expected.tiles[:3])
    text = pdf_text(_render(demo, QUERY, role="viewer", lang="en", fmt="pdf"))
    for tile in expected.tiles:
        assert tile_line(tile) in text, (tile_line(tile), text[:800])
    assert "since=2026-03" in text


def test_chinese_pdf_with_a_section_and_the_same_numbers(demo: api.Store) -> None:
    expected = _overview(demo)
    text = pdf_text(
        _render(demo, QUERY, role="analyst", lang="zh", sections=["journey"], fmt="pdf")
    )
    assert "客户体验报告" in text and "旅程" in text
    for tile in expected.tiles:
        assert tile_line(tile) in text


def test_html_report_and_bad_inputs_in_words(demo: api.Store) -> None:
    html = _render(demo, QUERY, role="viewer", lang="en", fmt="html").decode()
    assert html.startswith("<!doctype html>") and "http" not in html.split("<body>")[1][:200]
    with pytest.raises(Invalid, match="region"):
        _render(demo, "where=region=火星", role="viewer", lang="en", fmt="html")
    with pytest.raises(Invalid, match="section"):
        _render(demo, QUERY, role="viewer", lang="en", sections=["weather"], fmt="html")
    with pytest.raises(Invalid, match="format"):
        _render(demo, QUERY, role="viewer", lang="en", fmt="docx")


def test_an_empty_store_says_there_is_nothing_to_score(tmp_path: Path) -> None:
    store = api.connect(settings=settings_for(tmp_path / "empty.db"))
    try:
        text = pdf_text(
            _render(store, "", role="viewer", lang="en", sections=["journey", "topics"], fmt="pdf")
        )
    finally:
        store.close()
    assert "No answers in this period" in text or "–" in text
    assert "Journey" in text and "Topics" in text


def test_one_chinese_answer_without_touchpoint_or_stage(tmp_path: Path) -> None:
    store = api.connect(settings=settings_for(tmp_path / "one.db"))
    try:
        api.import_records(store, "customers", [{"customer_id": "c1", "region": "华东"}])
        api.import_records(store, "feedback", [
            {"feedback_id": "f1", "customer_id": "c1", "channel": "微信",
             "created_at": "2026-11-02 10:00", "text": "客服态度很好，但是配送太慢了", "nps": 9},
        ])  # fmt: skip
        html = _render(
            store, "where=region=华东", role="viewer", lang="zh", sections=["journey"], fmt="html"
        ).decode()
        xlsx = reports_service.export  # the same store exports too
        with store.sessions() as session:
            found = xlsx(session=session, settings=store.settings, view="journey", fmt="csv",
                         query="where=region=华东", role="viewer", now=NOW)  # fmt: skip
    finally:
        store.close()
    assert "客户体验报告" in html and "region=华东" in html
    assert found.content.decode("utf-8-sig").splitlines()[0].startswith("journey_stage")
