"""The verbatims page (``/feedback``): the feedback ``GET /api/v1/feedback`` returns for the same
query string (the same query model, ``FeedbackQuery``, and the same service function,
``feedback.service.list_feedback``), newest first, paged, masked for roles without read_pii,
each with its aspects marked in the text. The journey map and the topic explorer link here
with their filters plus a stage and touchpoint, or a topic.
"""

from __future__ import annotations

from typing import Any, get_origin
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from cxloop.dashboards.filters import filter_options
from cxloop.dashboards.freshness import Freshness
from cxloop.dashboards.highlight import marks
from cxloop.errors import CxloopError, Invalid, Problem
from cxloop.feedback import service as feedback_service
from cxloop.feedback.enrichment import active_taxonomy
from cxloop.feedback.schemas import FeedbackPage
from cxloop.metrics.filters import WHERE_ALIASES
from cxloop.privacy.models import User
from cxloop.privacy.roles import Permission, allows
from cxloop.web.deps import SessionDep, SettingsDep
from cxloop.web.errors import status_of
from cxloop.web.pages.cases import signed_in, to_login
from cxloop.web.pages.filter_bar import filter_bar
from cxloop.web.pages.templating import Lang, language, render
from cxloop.web.routers.feedback import FeedbackQuery

router = APIRouter()
PAGE_SIZE = 25
OWN = (
    "topic", "journey_stage", "touchpoint", "channel", "sentiment", "search", "min_score",
    "max_score", "score_field",
)  # fmt: skip
"""Fields the page's own inputs carry (the shared bar carries since, until, last and where)."""
MERGED = ("touchpoint", "channel")
"""Where fields the page's own inputs show instead of the bar (so each is asked for once):
``where=touchpoint=X`` and ``touchpoint=X`` select the same feedback."""


def _own(request: Request) -> dict[str, Any]:
    """The own inputs' values as typed; a merged field lists its values from both spellings
    (the first fills the input, the others ride along hidden)."""
    params = request.query_params
    own: dict[str, Any] = {n: params.get(n, "") for n in OWN if n not in MERGED}
    for name in MERGED:
        values = [v.strip() for v in params.getlist(name) if v.strip()]
        for item in params.getlist("where"):
            key, sep, value = item.replace(":", "=", 1).partition("=")
            key = WHERE_ALIASES.get(key.strip().lower(), key.strip().lower())
            if sep and key == name and value.strip():
                values.append(value.strip())
        own[name] = values
    return own


def parse(request: Request) -> FeedbackQuery:
    """The URL's parameters as the API's query model (``lang`` is the page's own); a bad
    value is ``Invalid`` naming the parameter, its value and why."""
    values: dict[str, Any] = {}
    for name, spec in FeedbackQuery.model_fields.items():
        many = get_origin(spec.annotation) is list or str(spec.annotation).startswith("list")
        got = request.query_params.getlist(name)
        got = [v for v in got if v.strip()]
        if got:
            values[name] = got if many else got[-1]
    values.setdefault("limit", PAGE_SIZE)
    unknown = sorted(set(request.query_params) - set(FeedbackQuery.model_fields) - {"lang"})
    try:
        if unknown:
            raise Invalid([Problem(n, request.query_params[n], "is not a filter") for n in unknown])
        return FeedbackQuery.model_validate(values)
    except ValidationError as error:
        problems = [
            Problem(".".join(str(p) for p in e["loc"]) or "query", e.get("input"), e["msg"])
            for e in error.errors()
        ]
        raise Invalid(problems) from None


def _pages(request: Request, found: FeedbackPage) -> dict[str, str | None]:
    """Links to the previous and next page: the same query with another offset."""
    items = [(k, v) for k, v in request.query_params.multi_items() if k != "offset"]

    def at(offset: int) -> str:
        return "/feedback?" + urlencode([*items, ("offset", str(offset))])

    before = found.offset - found.limit
    after = found.offset + found.limit
    return {
        "previous": at(max(before, 0)) if found.offset > 0 else None,
        "next": at(after) if after < found.total else None,
    }


def _view(request: Request, session: SessionDep, found: FeedbackPage, lang: Lang) -> dict[str, Any]:
    taxonomy = active_taxonomy(session=session)
    names = {r.path: (r.zh if lang == "zh" else r.en) for r in taxonomy.describe()}
    shown = [
        (item, marks(item.text, item.features.aspects if item.features else []))
        for item in found.items
    ]
    return {"found": found, "shown": shown, "names": names, **_pages(request, found)}


def _context(request: Request, user: User) -> dict[str, Any]:
    """What the page shows whatever the filters: its inputs as typed and its API link."""
    # the form sends its blank fields, which the API refuses: the link leaves them out, as the
    # page does (``parse``); the API's default page is 50: the link asks for this page's
    items = [(k, v) for k, v in request.query_params.multi_items() if k != "lang" and v.strip()]
    paged = items if any(k == "limit" for k, _ in items) else [*items, ("limit", str(PAGE_SIZE))]
    query = urlencode(paged)
    return {
        "user": user,
        "section": None,  # reached from the journey map and the topic explorer alike
        "api_url": "/api/v1/feedback" + (f"?{query}" if query else ""),
        "own": _own(request),
        "kept": [
            (k, v)
            for k, v in request.query_params.multi_items()
            if k not in (*OWN, "since", "until", "last", "where", "lang", "offset")
        ],
        "freshness": Freshness(source="store"),
    }


@router.get("/feedback", response_class=HTMLResponse)
def verbatims_page(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    """Feedback matching the filters, newest first, aspects marked, masked by role."""
    user = signed_in(request, session)
    if user is None:
        return to_login()
    lang, context = language(request), _context(request, user)
    try:
        context["filter_bar"] = filter_bar(
            request, filter_options(settings), action="/feedback", omit=MERGED
        )
        asked = parse(request)
        found = feedback_service.list_feedback(
            session=session, filters=asked.filters(), limit=asked.limit, offset=asked.offset,
            reveal_pii=allows(user.role, Permission.read_pii),
        )  # fmt: skip
    except CxloopError as exc:
        code = status_of(exc)
        return render(request, "dashboard/verbatims.html", context | {"error": str(exc)},
                      lang=lang, status_code=code)  # fmt: skip
    view = _view(request, session, found, lang)
    return render(request, "dashboard/verbatims.html", context | view, lang=lang)
