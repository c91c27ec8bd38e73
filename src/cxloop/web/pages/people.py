"""Customer search (``/customers``), customer 360 (``/customers/{id}``) and account 360
(``/accounts/{id}``): thin handlers over ``dashboards.people``, the service
``GET /api/v1/dashboard/customers…`` and ``…/accounts/{id}`` return, rendered with the same
partials the agent's case screen shows its story with (``templates/customers/``).

Every reader may open them; personal data is shown by the case screen's rule (admins; an agent
for customers of cases they own), and an unknown id is a 404 page in words.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.dashboards import people
from cxloop.dashboards.people_schemas import (
    Account360Result,
    Customer360Result,
    CustomerSearchResult,
)
from cxloop.errors import CxloopError
from cxloop.loop.case_access import actor_of
from cxloop.loop.states import Actor
from cxloop.privacy.models import User
from cxloop.privacy.roles import Permission, allows
from cxloop.surveys.b2b import role_label
from cxloop.web.deps import SessionDep, SettingsDep
from cxloop.web.errors import status_of
from cxloop.web.pages import case_views as views
from cxloop.web.pages.cases import signed_in, to_login
from cxloop.web.pages.templating import Lang, gettext, language, render

router = APIRouter()
N_ = views.N_
PAGE = 20
PII_RULES = {
    people.PII_SHOWN: N_("Personal data shown."),
    people.PII_NO_ROLE: N_("Personal data masked: your role does not read personal data."),
    people.PII_NOT_THEIRS: N_(
        "Personal data masked: agents see it only for customers of cases they own."
    ),
}

Search = Annotated[str | None, Query(max_length=200)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]


def _common(settings: Settings, user: User, lang: Lang) -> dict[str, Any]:
    return {
        "user": user,
        "section": "customers",
        "zone": ZoneInfo(settings.timezone),
        "role_label": role_label,
        "status_labels": {s: gettext(lang, t) for s, t in views.STATUS_LABELS.items()},
    }


def _show(
    request: Request,
    session: Session,
    settings: Settings,
    template: str,
    compute: Callable[[Actor], BaseModel],
    view: Callable[[Any, Lang], dict[str, Any]],
) -> Response:
    """Sign-in, the one service call, and the page, or the refusal/404 page in words."""
    user = signed_in(request, session)
    if user is None:
        return to_login()
    lang = language(request)
    context = _common(settings, user, lang)
    if not allows(user.role, Permission.read_data):
        message = gettext(lang, "Your role may not read customers.")
        return render(request, "customers/error.html", context | {"message": message,
                      "code": 403}, lang=lang, status_code=403)  # fmt: skip
    try:
        found = compute(actor_of(user.username, user.role))
    except CxloopError as exc:
        code = status_of(exc)
        return render(request, "customers/error.html", context | {"message": str(exc),
                      "code": code}, lang=lang, status_code=code)  # fmt: skip
    freshness = getattr(found, "freshness", None)
    return render(request, template, context | view(found, lang) | {"freshness": freshness},
                  lang=lang)  # fmt: skip


def _notes(notes: list[str], lang: Lang) -> list[str]:
    return [gettext(lang, n) for n in notes]


def _search_url(base: str, q: str, offset: int) -> str:
    query = urlencode({k: v for k, v in {"q": q, "offset": offset}.items() if v})
    return base + (f"?{query}" if query else "")


def _search_view(found: CustomerSearchResult, lang: Lang) -> dict[str, Any]:
    at = found.offset
    return {
        "found": found,
        "api_url": _search_url("/api/v1/dashboard/customers", found.q, at),
        "prev_url": _search_url("/customers", found.q, max(at - PAGE, 0)) if at else None,
        "next_url": _search_url("/customers", found.q, at + PAGE)
        if at + PAGE < found.total
        else None,
        "search_notes": _notes(found.notes, lang),
    }


@router.get("/customers", response_class=HTMLResponse)
def search_page(
    request: Request, session: SessionDep, settings: SettingsDep, q: Search = None,
    offset: Offset = 0,
) -> Response:  # fmt: skip
    """Search customers by id (name and e-mail for readers of personal data), paged."""
    return _show(request, session, settings, "customers/search.html", lambda actor:
                 people.search_customers(session=session, actor=actor, q=q, limit=PAGE,
                                         offset=offset), _search_view)  # fmt: skip


def _customer_view(found: Customer360Result, lang: Lang) -> dict[str, Any]:
    return {
        "found": found,
        "story": found.story,
        "story_notes": _notes(found.story.notes, lang),
        "readable": set(found.cases.readable),
        "pii_note": gettext(lang, PII_RULES.get(found.pii_rule, found.pii_rule)),
        "api_url": "/api/v1/dashboard/customers/" + quote(found.customer_id, safe=""),
    }


@router.get("/customers/{customer_id:path}", response_class=HTMLResponse)
def customer_page(
    request: Request, customer_id: str, session: SessionDep, settings: SettingsDep
) -> Response:
    """One customer's 360: the story the case screen shows, with every case they have."""
    return _show(request, session, settings, "customers/customer.html", lambda actor:
                 people.customer_360(session=session, actor=actor, customer_id=customer_id),
                 _customer_view)  # fmt: skip


def _account_view(found: Account360Result, lang: Lang) -> dict[str, Any]:
    health = found.health
    windows = {w.id: w for w in (*health.projects, *health.milestones)}
    return {
        "found": found,
        "story": found.story,
        "health": health,
        "answers": {c.contact_id: c for c in found.contacts},
        "contact_roles": {c.contact_id: c.role for c in found.contacts},
        "windows": windows,
        "story_notes": _notes(found.story.notes, lang),
        "readable": set(found.cases.readable),
        "pii_note": gettext(lang, PII_RULES.get(found.pii_rule, found.pii_rule)),
        "api_url": "/api/v1/dashboard/accounts/" + quote(found.account_id, safe=""),
        "metrics_url": "/api/v1/metrics/accounts?" + urlencode({"account": found.account_id}),
    }


@router.get("/accounts/{account_id:path}", response_class=HTMLResponse)
def account_page(
    request: Request, account_id: str, session: SessionDep, settings: SettingsDep
) -> Response:
    """One B2B account's 360 with its role-weighted health (interval and n)."""
    return _show(request, session, settings, "customers/account.html", lambda actor:
                 people.account_360(session=session, settings=settings, actor=actor,
                                    account_id=account_id), _account_view)  # fmt: skip
