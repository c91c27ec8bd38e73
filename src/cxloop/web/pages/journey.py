"""The journey map as a page (``/journey``): the grid ``GET /api/v1/dashboard/journey`` returns
for the same query string (one computation, ``dashboards.journey.journey_map``), each cell
coloured on a colour-blind-safe diverging scale AND printed, and linked to its verbatims
(``/feedback?…`` with the page's filters plus the cell's stage and touchpoint).

Every reader may open it (viewers too): it holds scores, counts and topic names, no personal
data.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from cxloop.dashboards.filters import filter_options
from cxloop.dashboards.journey import journey_map
from cxloop.dashboards.schemas_journey import JourneyCell, JourneyResult
from cxloop.errors import CxloopError, Forbidden, Invalid
from cxloop.privacy.models import User
from cxloop.privacy.roles import Permission, allows
from cxloop.web.deps import SessionDep, SettingsDep, scope_params
from cxloop.web.errors import status_of
from cxloop.web.pages.case_views import N_
from cxloop.web.pages.cases import signed_in, to_login
from cxloop.web.pages.filter_bar import SCOPE_KEYS, Extra, filter_bar, filter_query
from cxloop.web.pages.templating import Lang, gettext, language, render

router = APIRouter()

METRIC_LABELS = {
    "nps": N_("NPS"),
    "csat": N_("CSAT"),
    "ces": N_("CES"),
    "sentiment": N_("Sentiment"),
}
SPREAD = {"nps": 30.0, "csat": 0.15, "ces": 1.0, "sentiment": 0.3}
"""How far from the whole view's score a cell takes the full colour (metric's own units)."""
BETTER, WORSE, MIDDLE = (0, 114, 178), (213, 94, 0), (247, 247, 247)
"""Okabe–Ito blue (above the whole view) and vermillion (below), through near-white: a
diverging pair that colour-blind readers tell apart; the number is printed in every cell."""


def _mix(weight: float, toward: tuple[int, int, int]) -> tuple[int, int, int]:
    r, g, b = (round(m + (t - m) * weight) for m, t in zip(MIDDLE, toward, strict=True))
    return r, g, b


def cell_colour(cell: JourneyCell, result: JourneyResult) -> tuple[str, str] | None:
    """Background and text colour of a cell: by its score's distance from the whole view's
    (clipped at ``SPREAD``); None for a cell without a score or with too few answers."""
    centre = result.overall.score
    if cell.score is None or centre is None or cell.small_n:
        return None
    weight = max(-1.0, min(1.0, (cell.score - centre) / SPREAD[result.metric]))
    r, g, b = _mix(abs(weight), BETTER if weight >= 0 else WORSE)
    background = f"#{r:02x}{g:02x}{b:02x}"
    text = max(TEXTS, key=lambda t: contrast(background, t))
    return background, text


TEXTS = ("#ffffff", "#000000")


def luminance(colour: str) -> float:
    """WCAG 2 relative luminance of ``#rrggbb``."""
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(first: str, second: str) -> float:
    """WCAG 2 contrast ratio: the text colour picked for a cell is the one with more."""
    high, low = sorted((luminance(first), luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def _link(base: list[tuple[str, str]], cell: JourneyCell, *extra: tuple[str, str]) -> str | None:
    """The verbatims of a cell: the page's filters plus its stage and touchpoint (None when
    one is not given: the verbatims cannot yet be filtered on a missing value)."""
    if cell.journey_stage is None or cell.touchpoint is None:
        return None
    items = [*base, ("journey_stage", cell.journey_stage), ("touchpoint", cell.touchpoint)]
    return "/feedback?" + urlencode([*items, *extra])


def _grid(request: Request, found: JourneyResult) -> list[dict[str, Any]]:
    """Rows of the table: a stage and, per touchpoint, its cell with colour and links."""
    base = [(k, v) for k, v in request.query_params.multi_items() if k in SCOPE_KEYS and v]
    cells = {(c.journey_stage, c.touchpoint): c for c in found.cells}
    rows = []
    for stage in found.stages:
        shown: list[dict[str, Any] | None] = []
        for touchpoint in found.touchpoints:
            cell = cells.get((stage, touchpoint))
            if cell is None:
                shown.append(None)
                continue
            aspects = [
                (a, _link(base, cell, ("aspect", f"{a.topic}:negative"))) for a in cell.aspects
            ]
            link = _link(base, cell)
            shown.append(
                {"cell": cell, "colour": cell_colour(cell, found), "link": link, "aspects": aspects}
            )
        rows.append({"stage": stage, "cells": shown})
    return rows


def _min_n(text: str) -> int:
    """``min_n`` as the API takes it (1 to 100,000); ``Invalid`` in words, shown on the page."""
    value = int(text) if text.strip().isdigit() else 0
    if not 1 <= value <= 100_000:
        raise Invalid("is not a whole number from 1 to 100000", "min_n", text)
    return value


def _context(request: Request, user: User, lang: Lang, metric: str) -> dict[str, Any]:
    query = filter_query(request, ["metric", "min_n"])
    choices = [(code, gettext(lang, text)) for code, text in METRIC_LABELS.items()]
    return {
        "user": user,
        "section": "journey",
        "metric_label": gettext(lang, METRIC_LABELS.get(metric, "NPS")),
        "api_url": "/api/v1/dashboard/journey" + (f"?{query}" if query else ""),
        "extra": [Extra(name="metric", label=N_("Metric"), choices=choices, selected=metric)],
    }


def _show(request: Request, session: SessionDep, settings: SettingsDep, user: User,
          metric: str, min_n: str) -> Response:  # fmt: skip
    lang = language(request)
    context = _context(request, user, lang, metric)
    try:
        context["filter_bar"] = filter_bar(
            request, filter_options(settings), action="/journey", extra=context.pop("extra")
        )
        q = request.query_params
        scope = scope_params(q.get("since"), q.get("until"), q.get("last"), q.getlist("where"))
        found = journey_map(
            session=session,
            settings=settings,
            metric=metric,
            scope=scope,
            min_n=_min_n(min_n),
        )
    except CxloopError as exc:
        code = status_of(exc)
        return render(request, "dashboard/journey.html", context | {"error": str(exc)},
                      lang=lang, status_code=code)  # fmt: skip
    view = {"found": found, "grid": _grid(request, found), "freshness": found.freshness}
    return render(request, "dashboard/journey.html", context | view, lang=lang)


@router.get("/journey", response_class=HTMLResponse)
def journey_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    metric: Annotated[str, Query(max_length=16)] = "nps",
    min_n: Annotated[str, Query(max_length=16)] = "30",
) -> Response:
    """Journey stages × touchpoints with the chosen metric; filters in the URL."""
    user = signed_in(request, session)
    if user is None:
        return to_login()
    if not allows(user.role, Permission.read_data):
        raise Forbidden(f"role {user.role!r} may not read data")
    return _show(request, session, settings, user, metric, min_n)
