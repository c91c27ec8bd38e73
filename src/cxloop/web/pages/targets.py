"""Target lists as pages: the saved lists (``/targets``), one list with its members, refresh,
CSV export, push and schedule (``/targets/{name}``), over the ``act`` service functions the API
calls (``/api/v1/targets…``). The builder (``/targets/new``) is in ``target_forms``.

Every reader sees the lists and their members (ids and non-personal facts, as the API; names
masked unless the role reads personal data); only roles that manage lists get the buttons, and
the form handlers answer others 403. Actions are plain forms (post/redirect/get).
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from cxloop.act import operations, targets
from cxloop.act import service as act_service
from cxloop.act.schemas import TargetListRead, TargetListSchedule
from cxloop.config import Settings
from cxloop.errors import CxloopError, Invalid, Problem
from cxloop.privacy.models import User
from cxloop.privacy.roles import Permission, allows
from cxloop.web.deps import SessionDep, SettingsDep
from cxloop.web.errors import status_of
from cxloop.web.pages.cases import signed_in, to_login
from cxloop.web.pages.target_forms import BuilderForm, builder, refuse_builder
from cxloop.web.pages.templating import Lang, gettext, language, render

router = APIRouter()

ACTIONS = ("refresh", "push", "schedule")


def _code(exc: CxloopError) -> int:
    return status_of(exc)


def _shown(user: User, read: TargetListRead) -> TargetListRead:
    """A webhook's path and query (often a token) only for roles that manage lists."""
    if read.webhook_url and not allows(user.role, Permission.manage_lists):
        return read.model_copy(update={"webhook_url": act_service.redact_url(read.webhook_url)})
    return read


def _words(read: TargetListRead, lang: Lang) -> list[str]:
    """The list's conditions in words; a definition this version refuses is said so."""
    try:
        return targets.describe(read.query) or [gettext(lang, "all customers")]
    except (ValueError, TypeError) as exc:
        said = gettext(lang, "a condition this version cannot read: %(error)s")
        return [said % {"error": exc}]


def _error(request: Request, user: User, lang: Lang, exc: CxloopError) -> Response:
    context = {"user": user, "section": "targets", "message": str(exc), "code": _code(exc)}
    return render(request, "targets/error.html", context, lang=lang, status_code=_code(exc))


@router.get("/targets", response_class=HTMLResponse)
def targets_page(request: Request, session: SessionDep) -> Response:
    """Every saved list: conditions in words, members at the last refresh, schedule."""
    user = signed_in(request, session)
    if user is None:
        return to_login()
    lang = language(request)
    lists = [_shown(user, r) for r in act_service.list_all(session=session)]
    context = {
        "user": user, "section": "targets", "lists": [(r, _words(r, lang)) for r in lists],
        "can_manage": allows(user.role, Permission.manage_lists),
    }  # fmt: skip
    return render(request, "targets/list.html", context, lang=lang)


@router.get("/targets/new", response_class=HTMLResponse)
def new_target_list(request: Request, session: SessionDep) -> Response:
    """The empty builder (403 in words for a role that may not save lists)."""
    user = signed_in(request, session)
    if user is None:
        return to_login()
    lang = language(request)
    if (refusal := refuse_builder(request, user, lang)) is not None:
        return refusal
    return builder(request, user, lang, BuilderForm())


SAID = ("done", "members", "added", "removed", "push_error")


def _said(request: Request) -> dict[str, str]:
    """What the last action did, as its redirect put it in the URL."""
    return {k: v for k in SAID if (v := request.query_params.get(k)) is not None}


def show_list(
    request: Request, session: Session, user: User, name: str, lang: Lang, *, offset: int = 0,
    status_code: int = 200, error: dict[str, str] | None = None,
) -> Response:  # fmt: skip
    """One list: definition, schedule, a page of members, and the actions the role may take."""
    try:
        read = _shown(user, act_service.get(session=session, name=name))
        page = operations.member_page(
            session=session, name=name, offset=offset,
            reveal_pii=allows(user.role, Permission.read_pii),
        )  # fmt: skip
    except CxloopError as exc:
        return _error(request, user, lang, exc)
    quoted = quote(name)
    context = {
        "user": user, "section": "targets", "target": read, "words": _words(read, lang),
        "page": page, "quoted": quoted, "error": error or {},
        "can_manage": allows(user.role, Permission.manage_lists),
        "api_url": f"/api/v1/targets/{quoted}", "said": _said(request),
        "next_url": f"/targets/{quoted}?{urlencode({'offset': offset + page.limit})}"
        if offset + page.limit < page.total else None,
        "prev_url": f"/targets/{quoted}?{urlencode({'offset': max(offset - page.limit, 0)})}"
        if offset > 0 else None,
    }  # fmt: skip
    return render(request, "targets/detail.html", context, lang=lang, status_code=status_code)


@router.get("/targets/{name}", response_class=HTMLResponse)
def target_list_page(
    request: Request, name: str, session: SessionDep,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> Response:  # fmt: skip
    user = signed_in(request, session)
    if user is None:
        return to_login()
    return show_list(request, session, user, name, language(request), offset=offset)


@router.get("/targets/{name}/members.csv")
def target_list_csv(request: Request, name: str, session: SessionDep) -> Response:
    """The stored members as CSV (``act.service.to_csv``: what ``?format=csv`` returns)."""
    user = signed_in(request, session)
    if user is None:
        return to_login()
    try:
        text = act_service.to_csv(act_service.members(session=session, name=name))
    except CxloopError as exc:
        return _error(request, user, language(request), exc)
    disposition = f"attachment; filename*=UTF-8''{quote(name)}.csv"
    return Response(
        text, media_type="text/csv; charset=utf-8", headers={"Content-Disposition": disposition}
    )


def _schedule(form: dict[str, str]) -> TargetListSchedule:
    """The schedule form checked by the API's shape; ``Invalid`` naming each bad field."""
    try:
        return TargetListSchedule.model_validate({k: v.strip() or None for k, v in form.items()})
    except ValidationError as exc:
        raise Invalid(
            [Problem(".".join(map(str, e["loc"])), e.get("input"), e["msg"]) for e in exc.errors()]
        ) from None


def _act(
    action: str, session: Session, settings: Settings, name: str, form: dict[str, str]
) -> dict[str, Any]:
    """Run one action through the service the API calls; what happened, for the next page."""
    if action == "refresh":
        done = act_service.refresh(session=session, settings=settings, name=name)
        said = {"members": done.members, "added": done.added, "removed": done.removed}
        return said | ({"push_error": done.push_error} if done.push_error else {})
    if action == "push":
        pushed = operations.push(session=session, name=name)
        if not pushed.pushed:
            return {"done": "push_failed", "push_error": pushed.push_error or ""}
        return {"members": pushed.members}
    operations.schedule(session=session, name=name, schedule_in=_schedule(form))
    return {}


@router.post("/targets/{name}/{action}")
def target_list_action(
    request: Request, name: str, action: str, session: SessionDep, settings: SettingsDep,
    refresh_hours: Annotated[str, Form()] = "", webhook_url: Annotated[str, Form()] = "",
) -> Response:  # fmt: skip
    """Refresh, push or schedule, then back to the list, which says what happened."""
    user = signed_in(request, session)
    if user is None:
        return to_login()
    lang = language(request)
    if (refusal := refuse_builder(request, user, lang)) is not None:
        return refusal
    form = {"refresh_hours": refresh_hours, "webhook_url": webhook_url}
    try:
        if action not in ACTIONS:
            raise Invalid(f"is not one of: {', '.join(ACTIONS)}", "action", action)
        said = {"done": action} | _act(action, session, settings, name, form)
    except CxloopError as exc:
        session.rollback()
        error = {"action": action, "text": str(exc)}
        return show_list(request, session, user, name, lang, status_code=_code(exc), error=error)
    return RedirectResponse(f"/targets/{quote(name)}?{urlencode(said)}", status_code=303)
