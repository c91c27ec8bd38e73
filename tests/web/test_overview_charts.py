"""The overview's trend option, built in Python: a period with n below min_n (one answer at
−100 NPS) is a hollow grey point outside the line, the band and the axis range."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from cxloop.web.pages.charts import SMALL_COLOUR, interval_trend
from cxloop.web.pages.overview import _chart


def _point(label: str, n: int, score: float, low: float, high: float) -> SimpleNamespace:
    return SimpleNamespace(label=label, n=n, score=score, ci_low=low, ci_high=high, small_n=n < 30)


POINTS = [
    _point("2025-11", 1, -100.0, -100.0, 100.0),
    _point("2025-12", 180, 31.0, 22.0, 40.0),
    _point("2026-01", 210, 36.5, 28.0, 45.0),
]


def _option() -> dict[str, Any]:
    trend = SimpleNamespace(metric="nps", label="NPS", points=POINTS)
    result = SimpleNamespace(targets=[], period="month", confidence=0.95)
    return _chart(trend, 0, result, "en")  # type: ignore[arg-type]


def test_a_small_n_period_neither_stretches_the_axis_nor_joins_line_or_band() -> None:
    option = _option()
    low, band, line, small = option["series"]
    assert line["data"] == [None, 31.0, 36.5]
    assert low["data"][0] is None and band["data"][0] is None and band["data"][1] == 18.0
    assert small["data"] == [-100.0, None, None] and small["symbol"] == "emptyCircle"
    assert small["itemStyle"]["color"] == SMALL_COLOUR and small["name"] == "small n"
    assert 0 <= option["yAxis"]["min"] <= 22 and 45 <= option["yAxis"]["max"] <= 60
    assert "small n" in option["legend"]["data"]


def test_without_small_n_the_axis_is_echarts_own() -> None:
    option = interval_trend(
        ["a", "b"], [1.0, 2.0], [0.5, 1.5], [1.5, 2.5], name="x", band_name="band"
    )
    assert "min" not in option["yAxis"] and len(option["series"]) == 3


def test_the_scope_reads_in_the_pages_language_from_its_parts() -> None:
    """``Scope.describe`` is English ("all data"); the page words the scope from its parts."""
    import datetime as dt

    from cxloop.metrics.filters import Scope
    from cxloop.web.pages.overview import scope_words

    assert scope_words(Scope(), "zh") != "all data" == scope_words(Scope(), "en")
    scope = Scope(
        since=dt.datetime(2026, 1, 1),
        until=dt.datetime(2026, 4, 1),
        where=(("segment", "vip"), ("segment", "smb")),
    )
    assert scope_words(scope, "en") == "since 2026-01-01, until 2026-03-31, Segment = vip | smb"
    zh = scope_words(scope, "zh")
    assert "Segment" not in zh and "，" in zh and "vip | smb" in zh  # since/until: once merged
