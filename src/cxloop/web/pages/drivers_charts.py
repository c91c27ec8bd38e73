"""ECharts options of the drivers page, built from the view's result (``charts.js`` draws them):
the importance × performance quadrant with each importance's interval as an error bar, and the
say × do forest plot (crude and adjusted effect, each on its interval). Okabe–Ito colours."""

from __future__ import annotations

from typing import Any

from cxloop.dashboards.schemas_drivers import QuadrantSection, SayDoSection
from cxloop.web.pages.case_views import N_
from cxloop.web.pages.templating import Lang, gettext

QUADRANT_COLOURS = {
    N_("fix first"): "#D55E00",
    N_("keep"): "#009E73",
    N_("monitor"): "#0072B2",
    N_("low priority"): "#E69F00",
}
"""By the quadrant's name (``insights.drivers.QUADRANTS``), which is also its msgid."""
CRUDE, ADJUSTED, LINE = "#999999", "#0072B2", "#000000"


def _pct(value: float | None) -> float | None:
    return None if value is None else round(100 * value, 3)


def _error_bar(x: float | None, low: float | None, high: float | None, name: str) -> dict[str, Any]:
    """A vertical interval drawn as a two-point line with flat caps."""
    return {
        "type": "line",
        "name": name,
        "data": [[x, low], [x, high]],
        "symbol": "rect",
        "symbolSize": [10, 2],
        "lineStyle": {"width": 2, "color": LINE},
        "itemStyle": {"color": LINE},
        "silent": True,
        "z": 1,
    }


def quadrant_chart(section: QuadrantSection, lang: Lang) -> dict[str, Any] | None:
    """Performance (x, % of answers without the complaint) against importance (y, share of R²
    in points), quadrant lines at the medians; None without drivers."""
    if not section.available or not section.rows:
        return None
    interval = gettext(lang, "interval")
    bars = [
        _error_bar(_pct(r.performance), _pct(r.ci_low), _pct(r.ci_high), interval)
        for r in section.rows
        if r.ci_low is not None and r.ci_high is not None
    ]
    series = []
    for quadrant, colour in QUADRANT_COLOURS.items():
        points = [
            {"name": r.topic, "value": [_pct(r.performance), _pct(r.importance)]}
            for r in section.rows
            if r.quadrant == quadrant
        ]
        if points:
            series.append(
                {
                    "type": "scatter",
                    "name": gettext(lang, quadrant),
                    "data": points,
                    "symbolSize": 12,
                    "color": colour,
                    "label": {"show": True, "position": "right", "formatter": "{b}"},
                    "z": 3,
                }
            )
    lines = {
        "silent": True,
        "symbol": "none",
        "lineStyle": {"type": "dashed", "color": "#555555"},
        "data": [
            {"xAxis": _pct(section.performance_line)},
            {"yAxis": _pct(section.importance_line)},
        ],
    }
    if series:
        series[0]["markLine"] = lines
    return {
        "grid": {"left": 64, "right": 32, "top": 40, "bottom": 48},
        "legend": {"top": 0, "data": [s["name"] for s in series]},
        "xAxis": {"type": "value", "scale": True, "name": gettext(lang, "Performance (%)"),
                  "nameLocation": "middle", "nameGap": 28},
        "yAxis": {"type": "value", "scale": True, "name": gettext(lang, "Importance (R² points)")},
        "tooltip": {"trigger": "item"},
        "series": [*bars, *series],
    }  # fmt: skip


def say_do_chart(section: SayDoSection, lang: Lang) -> dict[str, Any] | None:
    """Each exposure's crude and adjusted difference on its interval, zero dashed; None when
    nothing was estimated."""
    rows = [r for r in section.rows if r.crude is not None or r.estimate is not None]
    if not section.available or not rows:
        return None
    labels = [r.exposure for r in rows]
    series: list[dict[str, Any]] = []
    for name, colour, value, low, high in (
        (gettext(lang, "crude"), CRUDE, "crude", "crude_ci_low", "crude_ci_high"),
        (gettext(lang, "adjusted"), ADJUSTED, "estimate", "ci_low", "ci_high"),
    ):
        for r in rows:
            lo, hi = getattr(r, low), getattr(r, high)
            if lo is not None and hi is not None:
                series.append({
                    "type": "line", "name": name, "data": [[lo, r.exposure], [hi, r.exposure]],
                    "symbol": "rect", "symbolSize": [2, 10], "silent": True,
                    "lineStyle": {"width": 2, "color": colour}, "itemStyle": {"color": colour},
                })  # fmt: skip
        dots = [[getattr(r, value), r.exposure] for r in rows if getattr(r, value) is not None]
        series.append(
            {"type": "scatter", "name": name, "symbolSize": 10, "color": colour, "data": dots}
        )
    series[-1]["markLine"] = {
        "silent": True,
        "symbol": "none",
        "data": [{"xAxis": 0}],
        "lineStyle": {"type": "dashed", "color": "#555555"},
    }
    return {
        "grid": {"left": 220, "right": 32, "top": 32, "bottom": 40},
        "legend": {"top": 0, "data": [gettext(lang, "crude"), gettext(lang, "adjusted")]},
        "xAxis": {"type": "value", "scale": True, "name": gettext(lang, "difference"),
                  "nameLocation": "middle", "nameGap": 26},
        "yAxis": {"type": "category", "data": labels, "inverse": True},
        "tooltip": {"trigger": "item"},
        "series": series,
    }  # fmt: skip
