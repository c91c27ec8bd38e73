"""ECharts options the dashboard pages share, built in Python from result shapes and drawn by
``static/charts.js``: a line with its interval drawn as a band, and bars of counts.

Colours are the Okabe–Ito palette (distinguishable with every common colour-vision
deficiency). Every chart these build needs a table or text equivalent on its page; the option
only turns on ECharts' aria description as a second aid.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

OKABE_ITO = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#D55E00",
    "#CC79A7",
    "#56B4E9",
    "#F0E442",
    "#000000",
)
"""Okabe & Ito (2008), colour-blind-safe; blue first (lines), orange second (marks)."""


def colour(index: int) -> str:
    """The ``index``-th palette colour, cycling."""
    return OKABE_ITO[index % len(OKABE_ITO)]


def _value(value: float | None, digits: int) -> float | None:
    return None if value is None else round(float(value), digits)


SMALL_COLOUR = "#767676"
"""Grey of small-n points (4.5:1 on white): drawn, but read as "a range, not a conclusion"."""


def _nice_range(values: Sequence[float]) -> tuple[float, float]:
    """An axis range around ``values`` on round steps (ECharts' own ``scale`` would include the
    small-n points this range leaves out)."""
    low, high = min(values), max(values)
    span = high - low or abs(high) or 1.0
    step = 10 ** math.floor(math.log10(span))
    step = step / 2 if span / step < 3 else step
    return math.floor(low / step) * step, math.ceil(high / step) * step


def interval_trend(
    labels: Sequence[str],
    scores: Sequence[float | None],
    lows: Sequence[float | None],
    highs: Sequence[float | None],
    *,
    name: str,
    band_name: str,
    colour_index: int = 0,
    digits: int = 2,
    y_name: str | None = None,
    y_range: tuple[float | None, float | None] = (None, None),
    target: float | None = None,
    target_name: str | None = None,
    small: Sequence[bool] = (),
    small_name: str = "small n",
) -> dict[str, Any]:
    """A line of ``scores`` per period with the interval ``lows``…``highs`` as a shaded band
    (two stacked series: the low edge, invisible, and high − low filled on it; ECharts'
    ``stackStrategy: "all"`` keeps the band right when NPS goes below zero). A period without a
    score is a gap, never a zero. ``target`` draws a dashed horizontal line.

    ``small`` flags periods with n below min_n: their score is a hollow grey point of its own
    series (``small_name``), outside the line, the band and the axis range, so one answer at
    −100 neither stretches the axis nor reads as a trend."""
    colour_ = colour(colour_index)
    flags = list(small) or [False] * len(scores)
    big = [not f for f in flags]
    low = [_value(v, digits) if b else None for v, b in zip(lows, big, strict=True)]
    width = [
        None if lo is None or hi is None or not b else round(float(hi) - float(lo), digits)
        for lo, hi, b in zip(lows, highs, big, strict=True)
    ]
    line: dict[str, Any] = {
        "type": "line",
        "name": name,
        "data": [_value(v, digits) if b else None for v, b in zip(scores, big, strict=True)],
        "color": colour_,
        "symbol": "circle",
        "symbolSize": 6,
        "connectNulls": False,
        "lineStyle": {"width": 2},
    }
    if target is not None:
        line["markLine"] = {
            "silent": True,
            "symbol": "none",
            "label": {"formatter": target_name or str(target)},
            "lineStyle": {"type": "dashed", "color": OKABE_ITO[7]},
            "data": [{"yAxis": target}],
        }
    y_axis: dict[str, Any] = {"type": "value", "scale": True}
    if y_name:
        y_axis["name"] = y_name
    shown = [
        float(v)
        for seq in (scores, lows, highs)
        for v, b in zip(seq, big, strict=True)
        if b and v is not None
    ] + ([float(target)] if target is not None else [])
    if any(flags) and shown:
        y_axis["min"], y_axis["max"] = _nice_range(shown)
    if y_range[0] is not None:
        y_axis["min"] = y_range[0]
    if y_range[1] is not None:
        y_axis["max"] = y_range[1]
    series_small: list[dict[str, Any]] = []
    if any(flags):
        series_small.append(
            {
                "type": "line",
                "name": small_name,
                "data": [
                    _value(v, digits) if f else None for v, f in zip(scores, flags, strict=True)
                ],
                "symbol": "emptyCircle",
                "symbolSize": 7,
                "lineStyle": {"opacity": 0},
                "itemStyle": {"color": SMALL_COLOUR, "borderColor": SMALL_COLOUR},
                "color": SMALL_COLOUR,
                "connectNulls": False,
                "clip": True,
            }
        )
    return {
        "color": [colour_],
        "grid": {"left": 48, "right": 24, "top": 28, "bottom": 40},
        "tooltip": {"trigger": "axis"},
        "legend": {"data": [name, band_name, *(s["name"] for s in series_small)], "top": 0},
        "xAxis": {"type": "category", "data": list(labels), "boundaryGap": False},
        "yAxis": y_axis,
        "series": [
            {
                "type": "line",
                "name": "_low",
                "data": low,
                "stack": "interval",
                "stackStrategy": "all",
                "symbol": "none",
                "lineStyle": {"opacity": 0},
                "tooltip": {"show": False},
                "silent": True,
            },
            {
                "type": "line",
                "name": band_name,
                "data": width,
                "stack": "interval",
                "stackStrategy": "all",
                "symbol": "none",
                "lineStyle": {"opacity": 0},
                "areaStyle": {"color": colour_, "opacity": 0.2},
                "color": colour_,
                "tooltip": {"show": False},
                "silent": True,
            },
            line,
            *series_small,
        ],
    }


def count_bars(
    labels: Sequence[str], counts: Sequence[int], *, name: str, colour_index: int = 5
) -> dict[str, Any]:
    """Bars of a census count per period (no interval: nothing is estimated)."""
    return {
        "color": [colour(colour_index)],
        "grid": {"left": 56, "right": 24, "top": 16, "bottom": 40},
        "tooltip": {"trigger": "axis"},
        "xAxis": {"type": "category", "data": list(labels)},
        "yAxis": {"type": "value", "minInterval": 1},
        "series": [{"type": "bar", "name": name, "data": [int(c) for c in counts]}],
    }
