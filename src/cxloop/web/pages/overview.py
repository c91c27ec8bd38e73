"""The home page (``/``): the overview of ``GET /api/v1/dashboard/overview`` — tiles, trends with
intervals, volume and response rate, targets and open alerts — from the one service function
(``dashboards.overview.overview``), with the shared filter bar; ``/data`` keeps what was loaded
(rows per kind, the numbers of ``GET /api/v1/overview``). Login and logout live here too.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from cxloop.dashboards.filters import filter_options
from cxloop.dashboards.overview import PERIODS, overview
from cxloop.dashboards.overview_schemas import OverviewResult
from cxloop.errors import CxloopError, Invalid, Problem, Unauthenticated
from cxloop.ingest import service as ingest_service
from cxloop.metrics.filters import Scope, parse_scope
from cxloop.privacy import service as privacy_service
from cxloop.privacy.roles import Role
from cxloop.web.deps import COOKIE, SessionDep, SettingsDep
from cxloop.web.errors import status_of
from cxloop.web.pages.alerts import WORDS
from cxloop.web.pages.cases import signed_in, to_login
from cxloop.web.pages.charts import count_bars, interval_trend
from cxloop.web.pages.filter_bar import FIELD_LABELS, filter_bar, filter_query
from cxloop.web.pages.i18n import COOKIE as LANG_COOKIE
from cxloop.web.pages.templating import Lang, gettext, language, render

router = APIRouter()

PERCENT = {"csat"}
"""Scores shown as percentages (shares 0…1); charts draw them ×100."""


def _chart(trend: Any, index: int, result: OverviewResult, lang: Lang) -> dict[str, Any]:
    """The trend's ECharts option: the score line, its interval band, and the metric's
    whole-store target for this granularity as a dashed line when one is stored."""
    factor = 100.0 if trend.metric in PERCENT else 1.0

    def scaled(values: list[float | None]) -> list[float | None]:
        return [None if v is None else v * factor for v in values]

    target = next(
        (
            t.target
            for t in result.targets
            if t.metric.value == trend.metric and not t.slice and t.period == result.period
        ),
        None,
    )
    points = trend.points
    return interval_trend(
        [p.label for p in points],
        scaled([p.score for p in points]),
        scaled([p.ci_low for p in points]),
        scaled([p.ci_high for p in points]),
        name=trend.label,
        band_name=gettext(lang, "%(level)s interval") % {"level": f"{result.confidence:.0%}"},
        colour_index=index,
        digits=1 if trend.metric not in ("ces",) else 2,
        y_name="%" if factor != 1 else None,
        target=None if target is None else target * factor,
        target_name=gettext(lang, "target"),
        small=[p.small_n for p in points],
        small_name=gettext(lang, "small n"),
    )


def _day(moment: dt.datetime) -> str:
    """A date when the time is a day boundary (or its last microsecond), else minutes."""
    if moment.time() in (dt.time(0), dt.time(23, 59, 59, 999999)):
        return moment.date().isoformat()
    return moment.strftime("%Y-%m-%d %H:%M")


def scope_words(scope: Scope, lang: Lang) -> str:
    """The scope in the page's language from its parts (``Scope.describe`` is English, for
    logs and files): all data, since, until (inclusive) and field = values."""
    if scope.empty:
        return gettext(lang, "all data")
    parts = []
    if scope.since:
        parts.append(gettext(lang, "since %(date)s") % {"date": _day(scope.since)})
    if scope.until:
        last = scope.until - dt.timedelta(microseconds=1)
        parts.append(gettext(lang, "until %(date)s") % {"date": _day(last)})
    for field, values in scope.conditions().items():
        label = gettext(lang, FIELD_LABELS[field]) if field in FIELD_LABELS else field
        parts.append(f"{label} = {' | '.join(values)}")
    return ("，" if lang == "zh" else ", ").join(parts)


def _view(result: OverviewResult, lang: Lang) -> dict[str, Any]:
    return {
        "result": result,
        "scope_text": scope_words(result.scope, lang),
        "journey_href": journey_href,
        "charts": {t.metric: _chart(t, i, result, lang) for i, t in enumerate(result.trends)},
        "volume_chart": count_bars(
            [v.label for v in result.volume],
            [v.n for v in result.volume],
            name=gettext(lang, "Responses"),
        )
        if result.volume
        else None,
        "percent_metrics": PERCENT,
        "words": WORDS,
    }


def journey_href(metric: str, scope_query: str) -> str:
    """A tile's link to the journey map: that metric in the page's filters (the README's
    click path "tile → journey")."""
    return f"/journey?metric={metric}" + (f"&{scope_query}" if scope_query else "")


def _where_items(request: Request) -> list[str]:
    """The URL's where items without the filter bar's empty "All" choices."""
    return [w for w in request.query_params.getlist("where") if w.strip()]


@router.get("/", response_class=HTMLResponse)
def home(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    """The overview in the URL's filters (default: all data, by month)."""
    user = signed_in(request, session)
    if user is None:
        return to_login()
    lang, params = language(request), request.query_params
    period = params.get("period") or "month"
    bar = filter_bar(request, filter_options(settings, session=session), action="/", period=period)
    api_url = "/api/v1/dashboard/overview" + (f"?{bar.query}" if bar.query else "")
    context = {"user": user, "section": "overview", "filter_bar": bar, "api_url": api_url,
               "scope_query": filter_query(request)}  # fmt: skip
    try:
        now = dt.datetime.now(dt.UTC)
        scope = parse_scope(params.get("since"), params.get("until"), params.get("last"),
                            _where_items(request), now=now.replace(tzinfo=None))  # fmt: skip
        result = overview(session=session, settings=settings, scope=scope, period=period,
                          now=now, hide_singletons=user.role == Role.viewer)  # fmt: skip
    except CxloopError as exc:
        return _refused(request, context, exc, lang)
    return render(request, "dashboard/overview.html", context | _view(result, lang), lang=lang)


def _refused(request: Request, context: dict[str, Any], exc: CxloopError, lang: Lang) -> Response:
    """The page with the problems in words (field, value, reason) and the API's status."""
    code = status_of(exc)
    problems = exc.problems if isinstance(exc, Invalid) else [Problem("", None, str(exc))]
    return render(request, "dashboard/overview.html", context | {"problems": problems},
                  lang=lang, status_code=code)  # fmt: skip


@router.get("/data", response_class=HTMLResponse)
def data(request: Request, session: SessionDep) -> Response:
    """What was loaded, per kind and channel (the numbers of ``GET /api/v1/overview``)."""
    user = signed_in(request, session)
    if user is None:
        return to_login()
    counts = ingest_service.store_counts(session=session)
    context = {
        "user": user,
        "counts": counts,
        "section": "data",
        "channel_chart": _channel_chart(counts["feedback_by_channel"]),
    }
    block = "counts" if request.headers.get("HX-Request") == "true" else None  # the Refresh button
    return render(request, "data.html", context, lang=language(request), block=block)


def _channel_chart(by_channel: dict[str, int]) -> dict[str, object] | None:
    """An ECharts bar option for feedback per channel (None when there is no feedback)."""
    if not by_channel:
        return None
    return {
        "grid": {"left": 80, "right": 16, "top": 8, "bottom": 24},
        "xAxis": {"type": "value", "minInterval": 1},
        "yAxis": {"type": "category", "data": list(by_channel)},
        "series": [{"type": "bar", "data": list(by_channel.values())}],
        "tooltip": {},
    }


def _login_page(
    request: Request, lang: Lang, *, error: str | None = None, username: str = ""
) -> Response:
    """The login form in ``lang``, with the user name kept after a failed try."""
    context = {"error": error, "username": username}
    return render(request, "login.html", context, lang=lang, status_code=401 if error else 200)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> Response:
    """The form in zh or en (``?lang=``, else the browser's Accept-Language)."""
    return _login_page(request, language(request))


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    session: SessionDep,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    lang: Annotated[str | None, Form()] = None,
) -> Response:
    chosen = language(request, lang)
    try:
        issued = privacy_service.login(session=session, username=username, password=password)
    except Unauthenticated:
        wrong = gettext(chosen, "Wrong user name or password. Please try again.")
        return _login_page(request, chosen, error=wrong, username=username)
    except CxloopError as exc:
        return _login_page(request, chosen, error=str(exc), username=username)
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(COOKIE, issued.token, httponly=True, samesite="strict", max_age=86_400)
    if lang:  # the language the user logged in with stays for the next pages
        response.set_cookie(LANG_COOKIE, chosen, max_age=365 * 86_400, samesite="lax")
    return response


@router.post("/logout")
def logout(request: Request, session: SessionDep) -> Response:
    """End the session: the cookie's token is revoked, not just forgotten by the browser."""
    token = request.cookies.get(COOKIE)
    if token:
        with contextlib.suppress(CxloopError):
            privacy_service.revoke_token(session=session, token=token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE)
    return response


__all__ = ["PERIODS", "router"]
