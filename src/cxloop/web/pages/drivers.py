"""The drivers and outcomes page (``/drivers``): the importance × performance quadrant and the
say × do table from ``dashboards.drivers`` (the function ``GET /api/v1/dashboard/drivers``
calls), the customers behind a cell (``/drivers/customers``) and, for admins and analysts,
saving them as a target list.

The two analyses fit models (seconds on the demo store): the page answers at once with its
filters and loads each section on its own (HTMX, ``hx-trigger="load"``) from
``/drivers/quadrant`` and ``/drivers/say-do``, one block of the same template each. A section
fitted before on the same data with the same parameters is read from the stored results
(milliseconds) and says when it was fitted; else it is fitted now, and stored.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from cxloop.dashboards import drivers as drivers_view
from cxloop.dashboards.filters import filter_options
from cxloop.dashboards.schemas_drivers import DrillKey, DrillSave
from cxloop.errors import CxloopError, Forbidden, Invalid, Problem
from cxloop.metrics.filters import Scope, parse_scope
from cxloop.privacy.models import User
from cxloop.privacy.roles import Permission, allows
from cxloop.web.deps import SessionDep, SettingsDep
from cxloop.web.errors import status_of
from cxloop.web.pages.case_forms import _same_site
from cxloop.web.pages.case_views import N_
from cxloop.web.pages.cases import signed_in, to_login
from cxloop.web.pages.drivers_charts import quadrant_chart, say_do_chart
from cxloop.web.pages.filter_bar import Extra, filter_bar
from cxloop.web.pages.templating import Lang, gettext, language, render
from cxloop.web.routers.dashboard_drivers import DrillQuery, DriversQuery

router = APIRouter()
TEMPLATE = "dashboard/drivers.html"
DRILL_TEMPLATE = "dashboard/drivers_customers.html"
SCOPE_KEYS = ("since", "until", "last", "where")
VIEW_KEYS = ("score", "outcome", "min_mentions", "min_customers", "n_boot")
DRILL_KEYS = ("topic", "sentiment", "nps_group")
SCORES = ("nps", "csat", "ces", "rating")
OUTCOMES = {
    "churn": N_("churn"),
    "repurchase": N_("repurchase"),
    "orders": N_("orders"),
    "spend": N_("spend"),
}


EXPOSURE_KINDS = (
    N_("complaint"),
    N_("praise"),
    N_("topic"),
    N_("intent"),
    N_("flag"),
    N_("nps group"),
)
"""The say × do table's ``exposure_kind`` values (``insights.voice_reports.exposure_kind``),
marked here for the catalog: the template shows ``_(r.exposure_kind)``."""


def _pairs(request: Request, keys: tuple[str, ...]) -> list[tuple[str, str]]:
    """The URL's own values of ``keys`` (repeated ``where`` kept), blanks left out."""
    return [(k, v) for k, v in request.query_params.multi_items() if k in keys and v.strip()]


def _scope(pairs: list[tuple[str, str]]) -> Scope:
    one = {k: v for k, v in pairs if k != "where"}
    where = [v for k, v in pairs if k == "where"]
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    return parse_scope(one.get("since"), one.get("until"), one.get("last"), where, now=now)


def _model(model: type[Any], pairs: list[tuple[str, str]]) -> Any:
    """A query model from the URL's values, its problems as ``Invalid`` (field, value, why)."""
    try:
        return model.model_validate(dict(pairs))
    except ValidationError as exc:
        raise Invalid(
            [Problem(".".join(map(str, e["loc"])), e.get("input"), e["msg"]) for e in exc.errors()]
        ) from None


def _status(exc: CxloopError) -> int:
    return status_of(exc)


def _base(request: Request, user: User) -> dict[str, Any]:
    scope_pairs, view_pairs = _pairs(request, SCOPE_KEYS), _pairs(request, VIEW_KEYS)
    query = urlencode([*scope_pairs, *view_pairs])
    view = dict(view_pairs)
    return {
        "user": user,
        "section": "drivers",
        "filters": {
            **{k: v for k, v in scope_pairs if k != "where"},
            "where": [v for k, v in scope_pairs if k == "where"],
        },
        "score": view.get("score", "nps"),
        "outcome": view.get("outcome", "churn"),
        "query": query,
        "api_url": "/api/v1/dashboard/drivers" + (f"?{query}" if query else ""),
        "can_save": allows(user.role, Permission.manage_lists),
    }


def drill_url(query: str, key: DrillKey | None) -> str | None:
    """The drill page of a cell, with the view's filters."""
    if key is None:
        return None
    cell = urlencode({k: v for k, v in key.model_dump().items() if v is not None})
    return f"/drivers/customers?{query}&{cell}" if query else f"/drivers/customers?{cell}"


def _filter_bar(request: Request, session: SessionDep, lang: Lang) -> Any:
    """The shared filter bar, with the score and the outcome as this page's own selects."""
    view = dict(_pairs(request, VIEW_KEYS))
    outcomes = [(code, gettext(lang, text)) for code, text in OUTCOMES.items()]
    extra = [
        Extra("score", N_("Score"), [(s, s.upper()) for s in SCORES], view.get("score", "nps")),
        Extra("outcome", N_("Outcome"), outcomes, view.get("outcome", "churn")),
    ]
    options = filter_options(session=session)
    return filter_bar(request, options, action="/drivers", extra=extra)


@router.get("/drivers", response_class=HTMLResponse)
def drivers_page(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    """The page with its filters; the sections load themselves (see the module docstring)."""
    if (user := signed_in(request, session)) is None:
        return to_login()
    lang, context = language(request), _base(request, user)
    context["filter_bar"] = _filter_bar(request, session, lang)
    try:
        scope = _scope(_pairs(request, SCOPE_KEYS))
        _model(DriversQuery, _pairs(request, VIEW_KEYS))
        found = drivers_view.drivers_outcomes(settings=settings, scope=scope, part="none")
    except CxloopError as exc:
        context["error"] = str(exc)
        return render(request, TEMPLATE, context, lang=lang, status_code=_status(exc))
    context |= {"found": found, "freshness": found.freshness}
    return render(request, TEMPLATE, context, lang=lang)


def _section(request: Request, session: SessionDep, settings: SettingsDep, part: str) -> Response:
    """One section of the page (an HTMX swap), computed by the view's one function."""
    if (user := signed_in(request, session)) is None:
        return to_login()
    lang, context = language(request), _base(request, user)
    block = "quadrant" if part == "quadrant" else "say_do"
    try:
        scope = _scope(_pairs(request, SCOPE_KEYS))
        q = _model(DriversQuery, _pairs(request, VIEW_KEYS))
        found = drivers_view.drivers_outcomes(
            settings=settings, scope=scope, session=session, **(q.model_dump() | {"part": part})
        )
    except CxloopError as exc:
        context["section_error"] = str(exc)
        return render(request, TEMPLATE, context, lang=lang, block=block, status_code=_status(exc))
    context |= {"found": found, "drill_url": drill_url}
    if found.quadrant is not None:
        context["quadrant_chart"] = quadrant_chart(found.quadrant, lang)
    if found.say_do is not None:
        context["say_do_chart"] = say_do_chart(found.say_do, lang)
    return render(request, TEMPLATE, context, lang=lang, block=block)


@router.get("/drivers/quadrant", response_class=HTMLResponse)
def quadrant_section(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    return _section(request, session, settings, "quadrant")


@router.get("/drivers/say-do", response_class=HTMLResponse)
def say_do_section(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    return _section(request, session, settings, "say_do")


def _drill_context(request: Request, user: User, lang: Lang) -> dict[str, Any]:
    context = _base(request, user)
    cell = _pairs(request, DRILL_KEYS)
    query = urlencode([*_pairs(request, SCOPE_KEYS), *cell])
    saved = request.query_params.get("saved")
    return context | {
        "drill_query": query,
        "drill_api_url": "/api/v1/dashboard/drivers/customers" + (f"?{query}" if query else ""),
        "back_url": "/drivers" + (f"?{context['query']}" if context["query"] else ""),
        "saved": saved,
        "saved_url": f"/targets/{quote(saved, safe='')}" if saved else None,
        "title": gettext(lang, "Customers behind the cell"),
    }


def _show_drill(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: User,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    lang = language(request)
    context = _drill_context(request, user, lang)
    try:
        scope = _scope(_pairs(request, SCOPE_KEYS))
        q = _model(DrillQuery, _pairs(request, (*DRILL_KEYS, "limit")))
        found = drivers_view.drill(
            settings=settings, session=session, scope=scope, key=q.key(),
            reveal_pii=allows(user.role, Permission.read_pii), limit=q.limit,
        )  # fmt: skip
    except CxloopError as exc:
        context["error"] = str(exc)
        return render(request, DRILL_TEMPLATE, context, lang=lang, status_code=_status(exc))
    context |= {"found": found, "save_error": error}
    return render(request, DRILL_TEMPLATE, context, lang=lang, status_code=status_code)


@router.get("/drivers/customers", response_class=HTMLResponse)
def drill_page(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    """The customers behind a cell, masked per role, with the save form for list managers."""
    if (user := signed_in(request, session)) is None:
        return to_login()
    return _show_drill(request, session, settings, user)


@router.post("/drivers/customers", response_class=HTMLResponse)
def save_drill(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    name: Annotated[str, Form(max_length=200)] = "",
    description: Annotated[str | None, Form(max_length=2000)] = None,
) -> Response:
    """Save the drill as a target list (manage_lists only), then show it (post/redirect/get)."""
    if (user := signed_in(request, session)) is None:
        return to_login()
    try:
        _save(request, session, settings, user, name.strip(), description)
    except CxloopError as exc:
        session.rollback()
        code = _status(exc)
        return _show_drill(request, session, settings, user, error=str(exc), status_code=code)
    cell = [*_pairs(request, SCOPE_KEYS), *_pairs(request, DRILL_KEYS)]
    query = urlencode([*cell, ("saved", name.strip())])
    return RedirectResponse(f"/drivers/customers?{query}", status_code=303)


def _save(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: User,
    name: str,
    description: str | None,
) -> None:
    """Refuse a post from another site or a role that manages no lists, then save."""
    if not _same_site(request):
        raise Forbidden("the form was posted from another site (Origin header); reload")
    if not allows(user.role, Permission.manage_lists):
        raise Forbidden(f"role {user.role!r} may not manage lists")
    q = _model(DrillQuery, _pairs(request, (*DRILL_KEYS, "limit")))
    save = _model(DrillSave, [("name", name), ("description", description or "")])
    drivers_view.save_drill(
        session=session, settings=settings, scope=_scope(_pairs(request, SCOPE_KEYS)),
        key=q.key(), save=save, created_by=user.username,
    )  # fmt: skip
