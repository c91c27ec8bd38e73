"""The topic explorer as a page (``/topics``): the tree ``GET /api/v1/dashboard/topics``
returns for the same query string (one computation, ``dashboards.topics.explore``), each topic
linked to its verbatims (``/feedback?topic=…`` with the page's filters).

The discovery candidates load as an HTMX partial (``/topics/candidates``: clustering is the
slow part, so the tree does not wait for it; without JavaScript it is a link). Analysts and
admins (manage_lists) get a form per candidate that names it into the taxonomy
(``POST /topics/candidates`` → ``dashboards.topic_naming.name_candidate``, the function behind
``POST /api/v1/dashboard/topics/candidates``); other roles see the candidates and no form.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from cxloop.dashboards import topic_naming
from cxloop.dashboards.filters import filter_options
from cxloop.dashboards.schemas_topics import TopicNameRequest, TopicRow, TopicsResult
from cxloop.dashboards.topics import PERIODS, explore
from cxloop.errors import CxloopError, Forbidden, Invalid, Problem
from cxloop.privacy.models import User
from cxloop.privacy.roles import Permission, allows
from cxloop.web.deps import SessionDep, SettingsDep, scope_params
from cxloop.web.errors import status_of
from cxloop.web.pages.case_forms import _same_site
from cxloop.web.pages.cases import signed_in, to_login
from cxloop.web.pages.filter_bar import SCOPE_KEYS, filter_bar, filter_query
from cxloop.web.pages.templating import Lang, language, render

router = APIRouter()
SPARK_WIDTH, SPARK_HEIGHT = 120, 28


def sparkline(row: TopicRow) -> str:
    """SVG polyline points of the topic's mentions per period (drawn without JavaScript)."""
    values = [p.mentions for p in row.trend]
    if len(values) < 2:
        return ""
    top = max(values) or 1
    step = SPARK_WIDTH / (len(values) - 1)
    return " ".join(
        f"{i * step:.1f},{SPARK_HEIGHT - 2 - (v / top) * (SPARK_HEIGHT - 4):.1f}"
        for i, v in enumerate(values)
    )


def _request(parent: str, name_zh: str, name_en: str, words: list[str]) -> TopicNameRequest:
    try:
        return TopicNameRequest(
            parent=parent or None, name_zh=name_zh, name_en=name_en, terms=words
        )
    except ValidationError as error:
        problems = [Problem(".".join(map(str, e["loc"])), None, e["msg"]) for e in error.errors()]
        raise Invalid(problems) from None


def _code(exc: CxloopError) -> int:
    return status_of(exc)


def _view(request: Request, found: TopicsResult) -> dict[str, Any]:
    base = [(k, v) for k, v in request.query_params.multi_items() if k in SCOPE_KEYS and v]
    return {
        "found": found,
        "freshness": found.freshness,
        "names": {t.path: t.name for t in found.topics},
        "links": {
            t.path: "/feedback?" + urlencode([*base, ("topic", t.path)]) for t in found.topics
        },
        "sparks": {t.path: sparkline(t) for t in found.topics},
        "spark_size": (SPARK_WIDTH, SPARK_HEIGHT),
    }


def _context(request: Request, user: User, period: str) -> dict[str, Any]:
    query = filter_query(request, ["period"])
    return {
        "user": user,
        "section": "topics",
        "period": period,
        "can_name": allows(user.role, Permission.manage_lists),
        "api_url": "/api/v1/dashboard/topics" + (f"?{query}" if query else ""),
        "named": request.query_params.get("named"),
    }


@router.get("/topics", response_class=HTMLResponse)
def topics_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    period: Annotated[str, Query(max_length=16)] = "month",
) -> Response:
    """The taxonomy tree with volume, net sentiment, trend, flags and examples."""
    user = signed_in(request, session)
    if user is None:
        return to_login()
    lang = language(request)
    context = _context(request, user, period)
    try:
        options = filter_options(settings)
        shown = period if period in PERIODS else "month"
        context["filter_bar"] = filter_bar(request, options, action="/topics", period=shown)
        q = request.query_params
        scope = scope_params(q.get("since"), q.get("until"), q.get("last"), q.getlist("where"))
        found = explore(
            session=session, settings=settings, scope=scope, period=period, lang=lang,
            reveal_pii=allows(user.role, Permission.read_pii),
        )  # fmt: skip
    except CxloopError as exc:
        error = {"error": str(exc)}
        return render(request, "dashboard/topics.html", context | error, lang=lang,
                      status_code=_code(exc))  # fmt: skip
    return render(request, "dashboard/topics.html", context | _view(request, found), lang=lang)


def _candidates(
    request: Request, session: SessionDep, user: User, lang: Lang, *, status_code: int = 200,
    error: str | None = None, entered: dict[str, str] | None = None,
) -> Response:  # fmt: skip
    """The candidates section: a partial for HTMX, else a page of its own."""
    context = _context(request, user, "month") | {"error_naming": error, "entered": entered or {}}
    context["candidates"] = topic_naming.candidates(session=session)
    partial = request.headers.get("HX-Request") == "true"
    return render(request, "dashboard/topics.html", context | {"candidates_only": True},
                  lang=lang, status_code=status_code,
                  block="candidates" if partial else None)  # fmt: skip


@router.get("/topics/candidates", response_class=HTMLResponse)
def candidates_page(request: Request, session: SessionDep) -> Response:
    """Discovery candidates; a form to name each for analysts and admins."""
    user = signed_in(request, session)
    if user is None:
        return to_login()
    return _candidates(request, session, user, language(request))


@router.post("/topics/candidates", response_class=HTMLResponse)
def name_candidate(
    request: Request,
    session: SessionDep,
    parent: Annotated[str, Form(max_length=200)] = "",
    name_zh: Annotated[str, Form(max_length=64)] = "",
    name_en: Annotated[str, Form(max_length=64)] = "",
    terms: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Name a candidate into the taxonomy (a new version), then show the tree again."""
    user = signed_in(request, session)
    if user is None:
        return to_login()
    lang = language(request)
    entered = {"parent": parent, "name_zh": name_zh, "name_en": name_en, "terms": terms}
    words = [t for part in terms.replace("，", ",").split(",") for t in [part.strip()] if t]
    try:
        if not _same_site(request):
            raise Forbidden("the form was posted from another site (Origin header); reload")
        if not allows(user.role, Permission.manage_lists):
            raise Forbidden(f"role {user.role!r} may not manage lists (name topics)")
        request_in = _request(parent, name_zh, name_en, words)
        done = topic_naming.name_candidate(session=session, request=request_in)
    except CxloopError as exc:
        session.rollback()
        return _candidates(request, session, user, lang, status_code=_code(exc), error=str(exc),
                           entered=entered)  # fmt: skip
    query = urlencode({"named": done.path, "version": done.applied.version[:12]})
    return RedirectResponse(f"/topics?{query}", status_code=303)
