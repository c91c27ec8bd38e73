"""Survey pages: the list, one survey's distributions and response funnel, a read-only preview
in zh or en, and B2B completeness by account and role.

Thin handlers: each number comes from the service function the API calls
(``surveys.tracking.funnel`` / ``response_rates``, ``surveys.b2b_status.completeness``);
the charts are ECharts options built here from those results.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from cxloop.errors import CxloopError, Forbidden
from cxloop.privacy import service as privacy_service
from cxloop.privacy.models import User
from cxloop.privacy.roles import Permission, allows
from cxloop.surveys import b2b_status, tracking
from cxloop.surveys import service as surveys_service
from cxloop.surveys.b2b import role_label
from cxloop.surveys.definitions import Question, SurveyDefinition
from cxloop.surveys.tracking import Funnel, RateRow
from cxloop.web.deps import COOKIE, SessionDep
from cxloop.web.pages.templating import Lang, gettext, language, render

router = APIRouter()

FUNNEL_STEPS = ("invited", "sent", "delivered", "opened", "started", "completed")
"""The bars of the funnel chart (skipped, bounced and expired are in the table)."""
RATE_DIMENSIONS = ("distribution", "role", "segment", "account", "channel")


def _reader(request: Request, session: Session) -> User | None:
    """The logged-in user (cookie), or None; a role that may not read data is Forbidden."""
    try:
        user = privacy_service.authenticate_token(
            session=session, token=request.cookies.get(COOKIE) or ""
        )
    except CxloopError:
        return None
    if not allows(user.role, Permission.read_data):
        raise Forbidden(f"role {user.role!r} may not read data")
    return user


def _login() -> Response:
    return RedirectResponse("/login", status_code=303)


def _title(title: dict[str, str], lang: Lang) -> str:
    return title.get(lang) or next(iter(title.values()), "")


def _is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


@router.get("/surveys", response_class=HTMLResponse)
def survey_list(request: Request, session: SessionDep) -> Response:
    """Every survey with its versions, distributions and response rate."""
    user = _reader(request, session)
    if user is None:
        return _login()
    lang = language(request)
    totals = tracking.survey_totals(session=session)
    rows = [
        {
            "survey": survey,
            "title": _title(survey.title, lang),
            "distributions": totals[survey.survey_id][0],
            "rate": totals[survey.survey_id][1],
        }
        for survey in surveys_service.list_all(session=session)
    ]
    context = {"user": user, "section": "surveys", "rows": rows}
    return render(request, "surveys/list.html", context, lang=lang)


def _funnel_chart(funnel: Funnel, lang: Lang) -> dict[str, Any]:
    """Bars for each step of the survey's funnel, in the page's language."""
    total = funnel.total
    labels = [gettext(lang, STEP_LABELS[s]) for s in FUNNEL_STEPS]
    return {
        "grid": {"left": 90, "right": 24, "top": 8, "bottom": 24},
        "xAxis": {"type": "value", "minInterval": 1},
        "yAxis": {"type": "category", "inverse": True, "data": labels},
        "series": [
            {
                "type": "bar",
                "name": gettext(lang, "Invitations"),
                "data": [getattr(total, s) for s in FUNNEL_STEPS],
                "label": {"show": True, "position": "right"},
            }
        ],
        "tooltip": {"trigger": "axis"},
    }


def _rate_chart(rows: list[tuple[str, RateRow]], lang: Lang) -> dict[str, Any] | None:
    """Each response rate as a point on its interval (a band from ci_low to ci_high), in %."""
    shown = [(label, r) for label, r in rows if r.score is not None]
    if not shown:
        return None

    def pct(value: float | None) -> float:
        return round(100 * (value or 0.0), 1)

    return {
        "grid": {"left": 120, "right": 24, "top": 28, "bottom": 24},
        "legend": {"top": 0},
        "xAxis": {"type": "value", "min": 0, "max": 100, "axisLabel": {"formatter": "{value}%"}},
        "yAxis": {"type": "category", "inverse": True, "data": [label for label, _ in shown]},
        "series": [
            {
                "type": "bar",
                "stack": "interval",
                "silent": True,
                "itemStyle": {"color": "transparent"},
                "data": [pct(r.ci_low) for _, r in shown],
            },
            {
                "type": "bar",
                "stack": "interval",
                "name": "95% " + gettext(lang, "interval"),
                "itemStyle": {"color": "#9ec5e8"},
                "barWidth": 18,
                "data": [round(pct(r.ci_high) - pct(r.ci_low), 1) for _, r in shown],
            },
            {
                "type": "scatter",
                "name": gettext(lang, "Response rate"),
                "symbolSize": 12,
                "itemStyle": {"color": "#0b4f8a"},
                "data": [pct(r.score) for _, r in shown],
            },
        ],
        "tooltip": {"trigger": "axis"},
    }


def N_(message: str) -> str:  # noqa: N802 - the gettext convention Babel extracts
    """Marks a msgid for extraction; translated where it is shown (``gettext(lang, …)``)."""
    return message


STEP_LABELS = {
    "invited": N_("Invited"),
    "skipped": N_("Skipped"),
    "sent": N_("Sent"),
    "delivered": N_("Delivered"),
    "bounced": N_("Bounced"),
    "opened": N_("Opened"),
    "started": N_("Started"),
    "completed": N_("Completed"),
    "expired": N_("Expired"),
    "partial": N_("Partial"),
}
"""Funnel steps by name, as msgids (the templates translate them with ``_()``)."""
DIMENSION_LABELS = {
    "distribution": N_("Distribution"),
    "role": N_("Role"),
    "segment": N_("Segment"),
    "account": N_("Account"),
    "channel": N_("Channel"),
}


@router.get("/surveys/{survey_id}", response_class=HTMLResponse)
def survey_detail(
    request: Request, survey_id: str, session: SessionDep, by: str = "distribution"
) -> Response:
    """One survey: its distributions' funnels, the funnel chart, rates by a chosen slice."""
    user = _reader(request, session)
    if user is None:
        return _login()
    lang = language(request)
    by = by if by in RATE_DIMENSIONS else "distribution"
    survey = surveys_service.get(session=session, survey_id=survey_id)
    funnel = tracking.funnel(session=session, survey_id=survey_id)
    rates = tracking.response_rates(session=session, by=[by], survey_id=survey_id)
    names = {str(d.distribution_id): f"#{d.distribution_id} {d.name or ''}".strip()
             for d in funnel.distributions}  # fmt: skip
    labelled = [(_slice_label(by, r.slice.get(by), names, lang), r) for r in rates]
    context = {
        "user": user,
        "section": "surveys",
        "survey": survey,
        "title": _title(survey.title, lang),
        "funnel": funnel,
        "steps": STEP_LABELS,
        "funnel_chart": _funnel_chart(funnel, lang),
        "by": by,
        "dimensions": [(d, DIMENSION_LABELS[d]) for d in RATE_DIMENSIONS],
        "by_label": DIMENSION_LABELS[by],
        "rates": labelled,
        "rate_chart": _rate_chart(labelled, lang),
    }
    block = "rates" if _is_htmx(request) else None
    return render(request, "surveys/detail.html", context, lang=lang, block=block)


def _slice_label(by: str, value: str | None, names: dict[str, str], lang: Lang) -> str:
    if value is None:
        return gettext(lang, "(unknown)")
    if by == "distribution":
        return names.get(value, value)
    if by == "role":
        return role_label(value, lang)
    return value


def _question_view(question: Question, number: int, lang: Lang) -> dict[str, Any]:
    """A question as the respondent reads it: text, scale points or options, matrix rows."""
    bounds = question.bounds
    view: dict[str, Any] = {
        "number": number,
        "id": question.id,
        "type": question.type,
        "text": question.text.get(lang),
        "required": question.required,
        "show_if": question.show_if,
        "scale": list(range(bounds[0], bounds[1] + 1)) if bounds else [],
        "options": [(o.text.get(lang), o.other) for o in question.options],
        "rows": [o.text.get(lang) for o in question.rows],
        "multiple": question.type == "multiple",
    }
    return view


@router.get("/surveys/{survey_id}/preview", response_class=HTMLResponse)
def survey_preview(request: Request, survey_id: str, session: SessionDep) -> Response:
    """The current version's questions as a respondent sees them (``?lang=zh|en``), read-only."""
    user = _reader(request, session)
    if user is None:
        return _login()
    lang = language(request)
    survey = surveys_service.get(session=session, survey_id=survey_id)
    definition: SurveyDefinition = surveys_service.get_version(session=session, survey_id=survey_id)
    context = {
        "user": user,
        "section": "surveys",
        "survey": survey,
        "title": definition.title.get(lang),
        "intro": definition.intro.get(lang) if definition.intro else None,
        "thanks": definition.thanks.get(lang) if definition.thanks else None,
        "layout": definition.layout,
        "questions": [_question_view(q, i, lang) for i, q in enumerate(definition.questions, 1)],
        "required_roles": [role_label(r, lang) for r in definition.required_roles],
    }
    return render(request, "surveys/preview.html", context, lang=lang)


@router.get("/surveys/{survey_id}/completeness", response_class=HTMLResponse)
def survey_completeness(
    request: Request, survey_id: str, session: SessionDep, distribution: int | None = None
) -> Response:
    """B2B completeness by account and role: which required roles are still missing."""
    user = _reader(request, session)
    if user is None:
        return _login()
    lang = language(request)
    survey = surveys_service.get(session=session, survey_id=survey_id)
    rows = b2b_status.completeness(
        session=session, survey_id=survey_id, distribution_id=distribution
    )
    groups: dict[tuple[str | None, str | None], list[Any]] = {}
    for row in rows:
        groups.setdefault((row.account, row.milestone), []).append(row)
    context = {
        "user": user,
        "section": "surveys",
        "survey": survey,
        "title": _title(survey.title, lang),
        "groups": [
            {"account": rs[0], "rows": rs, "complete": rs[0].complete} for rs in groups.values()
        ],
        "complete": sum(rs[0].complete for rs in groups.values()),
        "role_label": role_label,
    }
    return render(request, "surveys/completeness.html", context, lang=lang)
