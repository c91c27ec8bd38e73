"""Loop health as a page (``/loop/health``): the numbers ``GET /api/v1/loop/health`` and
``cxloop loop health`` give, from the one service function (``health_store.loop_health``), as
tiles, a table by team, owner, topic or priority, and the churn of recovered against unrecovered
detractors with its interval drawn. Filters (by, since, until) stay in the URL.

Every reader may open it (viewers too, as the API): it holds counts, times and rates, no
customer's personal data.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from cxloop.errors import CxloopError
from cxloop.loop import health
from cxloop.loop.health_store import LoopHealth, loop_health
from cxloop.loop.recovery import ChurnComparison
from cxloop.metrics.filters import parse_scope
from cxloop.privacy.roles import Permission, allows
from cxloop.web.deps import SessionDep, SettingsDep
from cxloop.web.errors import status_of
from cxloop.web.pages.case_views import N_
from cxloop.web.pages.cases import signed_in, to_login
from cxloop.web.pages.templating import Lang, gettext, language, render

router = APIRouter()

BY_LABELS = {
    "": N_("Whole period"),
    "team": N_("Team"),
    "owner": N_("Owner"),
    "topic": N_("Topic"),
    "priority": N_("Priority"),
}
RATES = (
    ("first_response_sla", N_("First response within SLA")),
    ("resolution_sla", N_("Resolution within SLA")),
    ("reopen", N_("Reopen rate")),
    ("verification", N_("Verification rate")),
    ("recovery", N_("Recovery rate")),
)
SPREADS = (
    ("first_response_hours", N_("Time to first response")),
    ("resolution_hours", N_("Time to resolution")),
)


def _filters(by: str | None, since: str | None, until: str | None) -> dict[str, str | None]:
    """The filters as the URL keeps them (an unknown ``by`` falls back to none)."""
    return {
        "by": by if by in health.BY else None,
        "since": (since or "").strip() or None,
        "until": (until or "").strip() or None,
    }


def _chart(churn: ChurnComparison, lang: Lang) -> dict[str, Any] | None:
    """An ECharts option: each difference in churn (recovered − unrecovered, points) as a dot
    on its interval, crude and adjusted, with the no-difference line at 0; None without one."""
    rows = [
        (gettext(lang, "crude"), churn.crude, churn.crude_ci_low, churn.crude_ci_high),
        (gettext(lang, "adjusted"), churn.estimate, churn.ci_low, churn.ci_high),
    ]
    shown = [r for r in rows if r[1] is not None]
    if not shown:
        return None
    labels = [r[0] for r in shown]

    def points(value: float | None) -> float | None:
        return None if value is None else round(100 * value, 2)

    intervals = [
        {
            "type": "line",
            "name": gettext(lang, "interval"),
            "data": [[points(low), label], [points(high), label]],
            "symbol": "rect",
            "symbolSize": [2, 14],
            "lineStyle": {"width": 3},
            "color": "#5470c6",
        }
        for label, _, low, high in shown
        if low is not None and high is not None
    ]
    return {
        "grid": {"left": 80, "right": 24, "top": 16, "bottom": 40},
        "xAxis": {"type": "value", "name": gettext(lang, "points"), "nameLocation": "middle",
                  "nameGap": 26},
        "yAxis": {"type": "category", "data": labels},
        "series": [
            *intervals,
            {
                "type": "scatter",
                "name": gettext(lang, "difference in churn"),
                "data": [[points(r[1]), r[0]] for r in shown],
                "symbolSize": 12,
                "color": "#d9480f",
                "markLine": {"silent": True, "symbol": "none", "data": [{"xAxis": 0}],
                             "lineStyle": {"type": "dashed", "color": "#888"}},
            },
        ],
        "tooltip": {"trigger": "item"},
    }  # fmt: skip


def _view(found: LoopHealth, lang: Lang) -> dict[str, Any]:
    """What the template shows beside the service's own numbers: labels and the chart."""
    overall = next((r for r in found.rows if r.group == health.ALL), None)
    return {
        "found": found,
        "overall": overall,
        "groups": [r for r in found.rows if r.group != health.ALL],
        "rates": [(name, gettext(lang, text)) for name, text in RATES],
        "spreads": [(name, gettext(lang, text)) for name, text in SPREADS],
        "churn_chart": _chart(found.churn, lang),
        "ageing": list(health.AGEING),
    }


@router.get("/loop/health", response_class=HTMLResponse)
def health_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    by: Annotated[str | None, Query(max_length=16)] = None,
    since: Annotated[str | None, Query(max_length=40)] = None,
    until: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    """Loop health of the cases opened in the period (default: the last 90 days)."""
    user = signed_in(request, session)
    if user is None:
        return to_login()
    lang = language(request)
    filters = _filters(by, since, until)
    query = urlencode({k: v for k, v in filters.items() if v})
    context: dict[str, Any] = {
        "user": user,
        "section": "health",
        "filters": filters,
        "by_choices": [(code, gettext(lang, text)) for code, text in BY_LABELS.items()],
        "by_label": gettext(lang, BY_LABELS[filters["by"] or ""]),
        "api_url": "/api/v1/loop/health" + (f"?{query}" if query else ""),
    }
    if not allows(user.role, Permission.read_data):
        message = gettext(lang, "Your role may not read loop health.")
        return render(
            request, "loop/health.html", context | {"error": message}, lang=lang, status_code=403
        )
    now = dt.datetime.now(dt.UTC)
    try:
        scope = parse_scope(
            filters["since"], filters["until"], None, (), now=now.replace(tzinfo=None)
        )
        found = loop_health(
            session=session, settings=settings, now=now, by=filters["by"], since=scope.since,
            until=scope.until,
        )  # fmt: skip
    except CxloopError as exc:
        code = status_of(exc)
        return render(
            request, "loop/health.html", context | {"error": str(exc)}, lang=lang,
            status_code=code,
        )  # fmt: skip
    return render(request, "loop/health.html", context | _view(found, lang), lang=lang)
