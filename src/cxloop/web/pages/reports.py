"""Reports as a page (``/reports``): download links for every exportable view with the page's
filters, the printable overview report (``/reports/overview.html`` and ``.pdf``, the same
service as ``GET /api/v1/reports/render``), and scheduled e-mailed reports — listed, added and
removed by list managers (admin, analyst); other roles see no schedule and no form, and a post
from them is a 403 page.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from cxloop.dashboards.filters import filter_options
from cxloop.errors import CxloopError, Forbidden, Invalid, Problem
from cxloop.privacy.models import User
from cxloop.privacy.roles import Permission, allows
from cxloop.reports import service as reports_service
from cxloop.reports.schemas import ScheduleCreate
from cxloop.reports.views import VIEWS
from cxloop.web.deps import SessionDep, SettingsDep
from cxloop.web.errors import status_of
from cxloop.web.pages.case_forms import _same_site
from cxloop.web.pages.case_views import N_
from cxloop.web.pages.cases import signed_in, to_login
from cxloop.web.pages.filter_bar import filter_bar, filter_query
from cxloop.web.pages.templating import Lang, gettext, language, render
from cxloop.web.routers.reports import download, view_query

router = APIRouter()

VIEW_LABELS = {
    "overview": N_("Overview"),
    "journey": N_("Journey map"),
    "topics": N_("Topic explorer"),
    "drivers": N_("Drivers and outcomes"),
    "metrics": N_("Metric by slice"),
    "loop_health": N_("Loop health"),
}
SECTION_LABELS = {"journey": N_("Journey map"), "topics": N_("Topics"), "drivers": N_("Drivers")}
WEEKDAY_LABELS = {
    "mon": N_("Monday"),
    "tue": N_("Tuesday"),
    "wed": N_("Wednesday"),
    "thu": N_("Thursday"),
    "fri": N_("Friday"),
    "sat": N_("Saturday"),
    "sun": N_("Sunday"),
}
ROLE_LABELS = {
    "viewer": N_("Viewer (masked)"),
    "analyst": N_("Analyst (masked)"),
    "agent": N_("Agent (personal data shown)"),
    "admin": N_("Admin (personal data shown)"),
}


def render_roles(role: str) -> list[str]:
    """The roles a creator may render a schedule as: without read_pii, only masked ones (the
    rule ``reports.service.create_schedule`` enforces; the form offers nothing it refuses)."""
    may_unmask = allows(role, Permission.read_pii)
    return [r for r in ROLE_LABELS if may_unmask or not allows(r, Permission.read_pii)]


FORM_FIELDS = (
    "name", "frequency", "at", "weekday", "day", "timezone", "role", "language", "recipients",
    "format", "query",
)  # fmt: skip


def _code(exc: CxloopError) -> int:
    return status_of(exc)


def _context(request: Request, session: SessionDep, settings: SettingsDep, user: User,
             lang: Lang) -> dict[str, Any]:  # fmt: skip
    query = filter_query(request, ["period"])
    manager = allows(user.role, Permission.manage_lists)
    views = [(name, gettext(lang, label)) for name, label in VIEW_LABELS.items() if name in VIEWS]
    return {
        "user": user,
        "section": "reports",
        "query": query,
        "views": views,
        "sections": [(code, gettext(lang, text)) for code, text in SECTION_LABELS.items()],
        "manager": manager,
        "weekdays": [(code, gettext(lang, text)) for code, text in WEEKDAY_LABELS.items()],
        "render_roles": [(r, gettext(lang, ROLE_LABELS[r])) for r in render_roles(user.role)],
        "schedules": reports_service.list_schedules(session=session) if manager else [],
        "filter_bar": filter_bar(
            request,
            filter_options(settings, session=session),
            action="/reports",
            period=request.query_params.get("period") or "month",
        ),
    }


@router.get("/reports", response_class=HTMLResponse)
def reports_page(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    """Downloads, the printable report and (list managers) scheduled reports."""
    user = signed_in(request, session)
    if user is None:
        return to_login()
    lang = language(request)
    context = _context(request, session, settings, user, lang)
    try:
        reports_service.check_query(session=session, query=context["query"], settings=settings)
    except CxloopError as exc:
        context["error"] = str(exc)
        return render(request, "reports/index.html", context, lang=lang, status_code=_code(exc))
    return render(request, "reports/index.html", context, lang=lang)


@router.get("/reports/overview.{fmt}", response_class=Response)
def report_document(
    request: Request, fmt: Literal["html", "pdf"], session: SessionDep, settings: SettingsDep
) -> Response:
    """The printable report for the URL's filters and ``sections``, in the page's language."""
    user = signed_in(request, session)
    if user is None:
        return to_login()
    lang = language(request)
    try:
        found = reports_service.render(
            session=session, settings=settings, query=view_query(request), role=user.role,
            lang=lang, sections=request.query_params.getlist("sections"), fmt=fmt,
        )  # fmt: skip
    except CxloopError as exc:
        context = _context(request, session, settings, user, lang) | {"error": str(exc)}
        return render(request, "reports/index.html", context, lang=lang, status_code=_code(exc))
    return download(found, inline=True)


def _schedule_in(form: dict[str, str], sections: list[str]) -> ScheduleCreate:
    recipients = [r.strip() for r in form.get("recipients", "").replace(";", ",").split(",")]
    values: dict[str, Any] = {k: v for k, v in form.items() if v.strip()}
    values.update(recipients=[r for r in recipients if r], sections=sections)
    if values.get("frequency") != "weekly":
        values.pop("weekday", None)
    if values.get("frequency") != "monthly":
        values.pop("day", None)
    try:
        return ScheduleCreate.model_validate(values)
    except ValidationError as exc:
        raise Invalid(
            [Problem(".".join(map(str, e["loc"])), e.get("input"), e["msg"]) for e in exc.errors()]
        ) from None


@router.post("/reports/schedules")
async def add_schedule(
    request: Request, session: SessionDep, settings: SettingsDep,
    sections: Annotated[list[str] | None, Form()] = None,
) -> Response:  # fmt: skip
    """Store a schedule from the page's form (list managers), then show the page again."""
    user = signed_in(request, session)
    if user is None:
        return to_login()
    lang = language(request)
    raw = await request.form()
    form = {k: str(raw.get(k) or "") for k in FORM_FIELDS}
    try:
        if not _same_site(request):
            raise Forbidden("the form was posted from another site (Origin header)")
        if not allows(user.role, Permission.manage_lists):
            raise Forbidden(f"role {user.role!r} may not manage lists")
        schedule_in = _schedule_in(form, sections or [])
        reports_service.create_schedule(
            session=session, schedule_in=schedule_in, created_by=user.username, settings=settings
        )
    except CxloopError as exc:
        session.rollback()
        context = _context(request, session, settings, user, lang) | {"error": str(exc)}
        return render(request, "reports/index.html", context, lang=lang, status_code=_code(exc))
    back = "&".join(p for p in (form["query"].lstrip("?"), "added=1") if p)
    return RedirectResponse(f"/reports?{back}", status_code=303)


@router.post("/reports/schedules/{schedule_id}/remove")
def remove_schedule(
    request: Request, schedule_id: int, session: SessionDep, settings: SettingsDep
) -> Response:
    """Delete a schedule (list managers), then show the page again."""
    user = signed_in(request, session)
    if user is None:
        return to_login()
    lang = language(request)
    try:
        if not _same_site(request):
            raise Forbidden("the form was posted from another site (Origin header)")
        if not allows(user.role, Permission.manage_lists):
            raise Forbidden(f"role {user.role!r} may not manage lists")
        reports_service.remove_schedule(session=session, schedule_id=schedule_id)
    except CxloopError as exc:
        context = _context(request, session, settings, user, lang) | {"error": str(exc)}
        return render(request, "reports/index.html", context, lang=lang, status_code=_code(exc))
    return RedirectResponse("/reports?removed=1", status_code=303)
