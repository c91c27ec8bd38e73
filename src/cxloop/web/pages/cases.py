"""The agent's screen: my queue (``/cases``) and one case with the customer's whole story beside
it (``/cases/{id}``), in zh or en.

Thin handlers over the services the API calls (``case_access.caller_queue``, ``read_case``,
``case_story``), so a page refuses and masks exactly what the API does: agents see their teams'
cases, the case's owner and admins see personal data, everyone else sees it masked; viewers and
analysts read without actions; an agent of another team gets 403. The counts by status refresh
with HTMX every 30 s; the actions are plain forms (``case_forms.py``), so the page works
without JavaScript.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.errors import CxloopError
from cxloop.feedback import service as feedback_service
from cxloop.loop import case_access, teams
from cxloop.loop.policy import root_causes, sla_policy
from cxloop.loop.schemas import CaseDetail, QueueRead
from cxloop.loop.states import STATUSES, Actor
from cxloop.privacy import service as privacy_service
from cxloop.privacy.models import User
from cxloop.surveys.b2b import role_label
from cxloop.web.deps import COOKIE, SessionDep, SettingsDep
from cxloop.web.errors import status_of
from cxloop.web.pages import case_views as views
from cxloop.web.pages.templating import Lang, gettext, language, render

router = APIRouter()

PRIORITIES = ("p1", "p2", "p3", "p4")
STATUS_CHOICES = ("open", *STATUSES, "all")
"""The queue's status filter: open (the default), one status, or every status."""


def signed_in(request: Request, session: Session) -> User | None:
    """The user of the session cookie, or None (the page sends them to the login form)."""
    try:
        return privacy_service.authenticate_token(
            session=session, token=request.cookies.get(COOKIE) or ""
        )
    except CxloopError:
        return None


def actor(user: User) -> Actor:
    return case_access.actor_of(user.username, user.role)


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def to_login() -> Response:
    return RedirectResponse("/login", status_code=303)


def refused(request: Request, user: User, exc: CxloopError, lang: Lang) -> Response:
    """A refusal or a missing case as a page with its status (403, 404, 422), in the service's
    own words: the same sentence the API and the CLI give."""
    code = status_of(exc, 400)
    context = {"user": user, "section": "cases", "message": str(exc), "code": code}
    return render(request, "cases/error.html", context, lang=lang, status_code=code)


def _statuses(status: str) -> list[str] | None:
    if status == "all":
        return list(STATUSES)
    return None if status == "open" else [status]


Status = Annotated[str, Query(max_length=32)]
Text = Annotated[str | None, Query(max_length=200)]


def _filters(
    status: Status = "open",
    priority: Text = None,
    team: Text = None,
    mine: bool = False,
    topic: Text = None,
) -> dict[str, Any]:
    """The queue's filters as the URL keeps them (unknown values fall back to no filter); the
    queue page and its polled counts read the same query parameters through this."""
    return {
        "status": status if status in STATUS_CHOICES else "open",
        "priority": priority if priority in PRIORITIES else None,
        "team": (team or "").strip() or None,
        "mine": mine,
        "topic": (topic or "").strip() or None,
    }


def _query(filters: dict[str, Any]) -> str:
    pairs = [(k, "1" if v is True else v) for k, v in filters.items() if v not in (None, False)]
    return urlencode([(k, v) for k, v in pairs if not (k == "status" and v == "open")])


def _queue(session: Session, user: User, filters: dict[str, Any], limit: int = 200) -> QueueRead:
    return case_access.caller_queue(
        session=session,
        actor=actor(user),
        now=now(),
        team=filters["team"],
        owner=user.username if filters["mine"] else None,
        statuses=_statuses(filters["status"]),
        priorities=[filters["priority"]] if filters["priority"] else None,
        topic=filters["topic"],
        limit=limit,
    )


def _rows(found: QueueRead, settings: Settings, lang: Lang) -> list[dict[str, Any]]:
    """Each queue row with its SLA time left in business hours of the policy's calendar."""
    calendar = sla_policy(settings).calendar
    zone = ZoneInfo(settings.timezone)
    at = now()
    rows = []
    for case in found.items:
        seconds = case_access.business_seconds_left(calendar, case, at)
        text, tone = views.sla_left(seconds, case.status, lang)
        rows.append(
            {
                "case": case,
                "status": views.label(views.STATUS_LABELS, case.status, lang),
                "left": text,
                "tone": tone,
                "due": views.when(case.next_due, zone),
                "opened": views.when(case.opened_at, zone),
            }
        )
    return rows


def _counts(found: QueueRead, filters: dict[str, Any], lang: Lang) -> list[dict[str, Any]]:
    """Counts by status over the (team/owner/priority/topic) queue, each a link to its list."""
    return [
        {
            "status": status,
            "label": views.label(views.STATUS_LABELS, status, lang),
            "n": n,
            "url": "/cases?" + _query({**filters, "status": status}),
            "current": filters["status"] == status,
        }
        for status, n in found.counts.items()
    ]


Filters = Annotated[dict[str, Any], Depends(_filters)]


@router.get("/cases", response_class=HTMLResponse)
def queue_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    filters: Filters,
) -> Response:
    """My queue: most urgent first (priority, then SLA time left), filters in the URL."""
    user = signed_in(request, session)
    if user is None:
        return to_login()
    lang = language(request)
    try:
        found = _queue(session, user, filters)
        team_names = _team_choices(session, user)
    except CxloopError as exc:
        return refused(request, user, exc, lang)
    context = {
        "user": user,
        "section": "cases",
        "filters": filters,
        "query": _query(filters),
        "found": found,
        "rows": _rows(found, settings, lang),
        "counts": _counts(found, filters, lang),
        "statuses": [(s, views.label(views.STATUS_LABELS, s, lang)) for s in STATUSES],
        "priorities": PRIORITIES,
        "teams": team_names,
        "reads_only": case_access.reads_only(actor(user)),
    }
    return render(request, "cases/queue.html", context, lang=lang)


@router.get("/cases/counts", response_class=HTMLResponse)
def queue_counts(
    request: Request,
    session: SessionDep,
    filters: Filters,
) -> Response:
    """The counts by status alone (the block HTMX polls every 30 s)."""
    user = signed_in(request, session)
    if user is None:
        return to_login()
    lang = language(request)
    try:
        found = _queue(session, user, filters, limit=1)
    except CxloopError as exc:
        return refused(request, user, exc, lang)
    context = {"filters": filters, "query": _query(filters), "found": found}
    context["counts"] = _counts(found, filters, lang)
    return render(request, "cases/queue.html", context, lang=lang, block="counts")


def _team_choices(session: Session, user: User) -> list[str]:
    """The teams the queue can narrow to: the caller's own, or every team for those who see
    them all (admins, viewers, analysts)."""
    who = actor(user)
    if user.role == "agent":
        return sorted(teams.memberships(session, who.name))
    return teams.team_names(session)


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case_page(
    request: Request,
    case_id: int,
    session: SessionDep,
    settings: SettingsDep,
    done: Annotated[str | None, Query(max_length=32)] = None,
) -> Response:
    """One case and, beside it, the customer's whole story."""
    user = signed_in(request, session)
    if user is None:
        return to_login()
    lang = language(request)
    flash = gettext(lang, views.DONE_LABELS[done]) if done in views.DONE_LABELS else None
    return show_case(request, session, settings, user, case_id, lang, flash=flash)


def show_case(
    request: Request,
    session: Session,
    settings: Settings,
    user: User,
    case_id: int,
    lang: Lang,
    *,
    flash: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    """The case page (also after a refused action: ``error`` shown, ``status_code`` kept)."""
    who = actor(user)
    try:
        detail = case_access.read_case(session=session, actor=who, case_id=case_id, now=now())
        story = case_access.case_story(session=session, actor=who, case_id=case_id, now=now())
        members = _members(session, detail)
    except CxloopError as exc:
        return refused(request, user, exc, lang)
    reveal = not story.masked
    attached = []
    for feedback_id in detail.feedback_ids[-10:]:
        try:
            attached.append(
                feedback_service.get_feedback(
                    session=session, feedback_id=feedback_id, reveal_pii=reveal
                )
            )
        except CxloopError:
            continue  # removed by an undone import since: the id stays listed
    context = {
        "user": user,
        "section": "cases",
        "detail": detail,
        "case": detail.case,
        "story": story,
        "story_notes": [gettext(lang, note) for note in story.notes],
        "attached": attached,
        "flash": flash,
        "error": error,
        "members": members,
        **_case_view(detail, settings, lang),
        "role_label": role_label,
    }
    return render(request, "cases/case.html", context, lang=lang, status_code=status_code)


def _members(session: Session, detail: CaseDetail) -> list[str]:
    """Whom a lead may assign the case to: the team's active members."""
    team = detail.case.team
    if "assign" not in detail.allowed_actions or team is None:
        return []
    found = teams.get_team(session=session, name=team)
    return [m.name for m in found.members if m.active]


def _case_view(detail: CaseDetail, settings: Settings, lang: Lang) -> dict[str, Any]:
    """Labels, times in the store's zone and SLA time left for one case."""
    case = detail.case
    zone = ZoneInfo(settings.timezone)
    seconds = case_access.business_seconds_left(sla_policy(settings).calendar, case, now())
    left, tone = views.sla_left(seconds, case.status, lang)
    return {
        "status_label": views.label(views.STATUS_LABELS, case.status, lang),
        "left": left,
        "tone": tone,
        "times": {
            name: views.when(getattr(case, name), zone)
            for name in (
                "opened_at",
                "first_response_warn_at",
                "first_response_due",
                "first_responded_at",
                "resolution_warn_at",
                "resolution_due",
                "resolved_at",
                "closed_at",
            )
        },
        "factors": [
            {
                "label": views.label(views.FACTOR_LABELS, str(f.get("factor")), lang),
                "value": f.get("value"),
                "contribution": f.get("contribution", 0),
            }
            for f in case.priority_explanation
        ],
        "history": [
            {
                "at": views.when(e.at, zone),
                "actor": e.actor,
                "kind": views.label(views.EVENT_LABELS, e.kind, lang),
                "details": views.details(e.data),
            }
            for e in reversed(detail.history)
        ],
        "actions": detail.allowed_actions,
        "action_labels": {a: gettext(lang, t) for a, t in views.ACTION_LABELS.items()},
        "channels": [(c, gettext(lang, t)) for c, t in views.CONTACT_CHANNELS.items()],
        "root_causes": views.root_cause_options(root_causes(settings), lang),
        "status_labels": {s: gettext(lang, t) for s, t in views.STATUS_LABELS.items()},
        "zone": zone,
    }
