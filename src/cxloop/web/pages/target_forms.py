"""Building a target list in the browser (``/targets/new``): one plain form with a field per
condition ``POST /api/v1/targets`` takes, posted back to itself to add a topic row, preview the
counts step by step (``act.service.preview``, what ``POST /api/v1/targets/preview`` returns) or
save (``act.service.create``) and go to the list. HTMX only swaps the builder in place.

Bad input is checked by the service's own shapes and store checks (``parse_definition``,
``check_query``): each problem is shown next to its field in the service's words, and nothing
is saved. Only roles that manage lists get the form; the handler answers others 403.
"""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

from cxloop.act import service as act_service
from cxloop.act.schemas import TargetPreview
from cxloop.config import Settings
from cxloop.errors import CxloopError, Invalid, Problem
from cxloop.privacy.models import User
from cxloop.privacy.roles import Permission, allows
from cxloop.web.deps import SessionDep, SettingsDep
from cxloop.web.errors import status_of
from cxloop.web.pages.case_forms import _same_site
from cxloop.web.pages.case_views import N_
from cxloop.web.pages.cases import signed_in, to_login
from cxloop.web.pages.templating import Lang, gettext, language, render

router = APIRouter()

NUMBERS = (
    "value_top_share", "min_value", "min_churn_risk", "max_churn_risk", "ordered_within_days",
    "no_order_within_days",
)  # fmt: skip
"""Condition fields typed as numbers: passed as typed, so the API's shape names a bad one."""
SENTIMENTS = ("any", "negative", "positive", "neutral")
NPS_GROUPS = (N_("detractor"), N_("passive"), N_("promoter"))
"""The NPS groups by their API names, which are also their msgids (``_(g)`` in the form)."""
PALETTE = "#0072B2"
"""Okabe–Ito blue."""


class BuilderForm(BaseModel):
    """What the builder posts: text as typed; topic rows as parallel lists (one per row)."""

    model_config = ConfigDict(extra="ignore")

    do: str = "preview"
    name: str = ""
    description: str = ""
    segments: str = ""
    regions: str = ""
    churned: str = ""
    value_top_share: str = ""
    min_value: str = ""
    min_churn_risk: str = ""
    max_churn_risk: str = ""
    ordered_within_days: str = ""
    no_order_within_days: str = ""
    nps_groups: list[str] = []
    topic: list[str] = []
    sentiment: list[str] = []
    within_days: list[str] = []
    refresh_hours: str = ""
    webhook_url: str = ""

    def rows(self) -> list[dict[str, str]]:
        """The topic rows as typed (at least one, empty, to fill in)."""
        out = []
        for i, topic in enumerate(self.topic):
            sentiment = self.sentiment[i] if i < len(self.sentiment) else "any"
            days = self.within_days[i] if i < len(self.within_days) else "90"
            out.append({"topic": topic, "sentiment": sentiment, "within_days": days})
        return out or [{"topic": "", "sentiment": "any", "within_days": "90"}]


def _split(text: str) -> list[str] | None:
    """``vip, 金卡`` (commas, Chinese commas) → ``["vip", "金卡"]``; None when empty."""
    values = [v.strip() for v in re.split(r"[,，]", text) if v.strip()]
    return values or None


def definition(form: BuilderForm) -> tuple[dict[str, Any], list[int]]:
    """The ``POST /api/v1/targets`` body the form says, and which form row each topic
    condition came from (rows left empty are skipped)."""
    query: dict[str, Any] = {"segments": _split(form.segments), "regions": _split(form.regions)}
    query["churned"] = {"yes": True, "no": False}.get(form.churned)
    for field in NUMBERS:
        query[field] = getattr(form, field).strip() or None
    query["nps_groups"] = form.nps_groups or None
    kept = [(i, r) for i, r in enumerate(form.rows()) if r["topic"].strip()]
    query["mentioned"] = [
        {"topic": r["topic"].strip(), "sentiment": r["sentiment"] or "any",
         "within_days": r["within_days"].strip() or 90}
        for _, r in kept
    ] or None  # fmt: skip
    body = {
        "name": form.name.strip(),
        "description": form.description.strip() or None,
        "query": {k: v for k, v in query.items() if v is not None},
        "refresh_hours": form.refresh_hours.strip() or None,
        "webhook_url": form.webhook_url.strip() or None,
    }
    return body, [i for i, _ in kept]


def field_of(problem: Problem, rows: list[int]) -> str:
    """The form field a service problem names: ``query.segments[0]`` → ``segments``,
    ``query.mentioned.1.topic`` → ``topic-<row>``; ``query`` for the query as a whole."""
    parts = [p for p in re.split(r"[.\[\]]+", problem.field) if p]
    if parts[:1] == ["query"] and len(parts) > 1:
        parts = parts[1:]
    if parts[:1] == ["mentioned"] and len(parts) > 1 and parts[1].isdigit():
        index = int(parts[1])
        row = rows[index] if index < len(rows) else index
        return f"{parts[2] if len(parts) > 2 else 'topic'}-{row}"
    return parts[0] if parts else "query"


def errors_of(exc: CxloopError, rows: list[int]) -> dict[str, list[str]]:
    """Each problem's words under the field it names (a taken name under ``name``)."""
    if not isinstance(exc, Invalid):
        return {"name" if "already exists" in str(exc) else "query": [str(exc)]}
    out: dict[str, list[str]] = {}
    for problem in exc.problems:
        shown = "" if problem.value in (None, "") else f"{problem.value!r} "
        out.setdefault(field_of(problem, rows), []).append(shown + problem.reason)
    return out


def funnel_chart(preview: TargetPreview, lang: Lang) -> dict[str, Any]:
    """An ECharts option: customers left after each condition, as horizontal bars."""
    labels = [s.condition for s in preview.steps]
    return {
        "grid": {"left": 8, "right": 48, "top": 8, "bottom": 40, "containLabel": True},
        "xAxis": {"type": "value", "name": gettext(lang, "customers"), "minInterval": 1,
                  "nameLocation": "middle", "nameGap": 24},
        "yAxis": {"type": "category", "data": labels, "inverse": True},
        "series": [{
            "type": "bar", "name": gettext(lang, "customers left"),
            "data": [s.remaining for s in preview.steps], "color": PALETTE,
            "label": {"show": True, "position": "right"},
        }],
        "tooltip": {"trigger": "axis"},
    }  # fmt: skip


def builder(
    request: Request, user: User, lang: Lang, form: BuilderForm, *, status_code: int = 200,
    errors: dict[str, list[str]] | None = None, preview: TargetPreview | None = None,
) -> Response:  # fmt: skip
    """The builder page (only its ``builder`` block for an HTMX post)."""
    context = {
        "user": user, "section": "targets", "form": form, "rows": form.rows(),
        "errors": errors or {}, "preview": preview, "sentiments": SENTIMENTS,
        "nps_choices": NPS_GROUPS,
        "chart": funnel_chart(preview, lang) if preview else None,
    }  # fmt: skip
    block = "builder" if request.headers.get("HX-Request") else None
    return render(
        request, "targets/new.html", context, lang=lang, status_code=status_code, block=block
    )


def refuse_builder(request: Request, user: User, lang: Lang) -> Response | None:
    """403 in words for a role that may not save lists (or a post from another site)."""
    if allows(user.role, Permission.manage_lists) and _same_site(request):
        return None
    words = gettext(lang, "Your role may not build target lists; you can read the saved ones.")
    context = {"user": user, "section": "targets", "message": words, "code": 403}
    return render(request, "targets/error.html", context, lang=lang, status_code=403)


def _run(
    session: Session, settings: Settings, user: User, form: BuilderForm
) -> tuple[TargetPreview | None, str | None]:
    """Check the form through the service; preview or save. Raises the service's errors."""
    body, _ = definition(form)
    if form.do == "preview":
        parsed = act_service.parse_definition({**body, "name": "preview"})  # named at save
        found = act_service.preview(settings=settings, query=parsed.query, session=session)
        return found, None
    parsed = act_service.parse_definition(body)
    saved = act_service.create(
        session=session, list_in=parsed, created_by=user.username, settings=settings
    )
    return None, saved.name


@router.post("/targets/new")
def build_target_list(
    request: Request, session: SessionDep, settings: SettingsDep,
    form: Annotated[BuilderForm, Form()],
) -> Response:  # fmt: skip
    """Add a topic row, preview the counts, or save the list and go to it."""
    user = signed_in(request, session)
    if user is None:
        return to_login()
    lang = language(request)
    if (refusal := refuse_builder(request, user, lang)) is not None:
        return refusal
    if form.do == "add_topic":
        grown = form.model_copy(update={"topic": [r["topic"] for r in form.rows()] + [""]})
        return builder(request, user, lang, grown)
    try:
        preview, saved = _run(session, settings, user, form)
    except CxloopError as exc:
        session.rollback()
        code = status_of(exc)
        errors = errors_of(exc, definition(form)[1])
        return builder(request, user, lang, form, status_code=code, errors=errors)
    if saved is not None:
        where = f"/targets/{quote(saved)}?done=created"
        if request.headers.get("HX-Request"):  # htmx follows a 303 itself: ask for a page load
            return Response(status_code=204, headers={"HX-Redirect": where})
        return RedirectResponse(where, status_code=303)
    return builder(request, user, lang, form, preview=preview)
