"""The case page's actions as plain forms: ``POST /cases/{id}/{action}`` → the loop service
function the API calls → redirect back to the case (post/redirect/get).

A refusal is the service's own sentence shown on the case page with its status (403 for who may
not, 422 for a move the case's status does not allow), and nothing of the failed action is
kept. Forms carry no token: the session cookie is ``SameSite=Strict`` (as for every page), and a
request whose ``Origin`` names another site is refused before anything runs.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.errors import CxloopError, Forbidden, Invalid
from cxloop.loop import service as loop_service
from cxloop.loop.policy import root_causes, sla_policy
from cxloop.loop.states import Actor
from cxloop.privacy.roles import Permission, allows
from cxloop.web.deps import SessionDep, SettingsDep
from cxloop.web.errors import status_of
from cxloop.web.pages.cases import actor, now, refused, show_case, signed_in, to_login
from cxloop.web.pages.templating import language

router = APIRouter()


def _text(form: dict[str, str], name: str) -> str:
    return (form.get(name) or "").strip()


def _optional(form: dict[str, str], name: str) -> str | None:
    return _text(form, name) or None


def run(
    action: str, session: Session, settings: Settings, case_id: int, who: Actor,
    form: dict[str, str],
) -> None:  # fmt: skip
    """One action through the service function ``/api/v1/cases/{id}/…`` calls; a resolve
    with a root cause chosen files it first."""
    at = now()
    common: dict[str, Any] = {"session": session, "case_id": case_id, "actor": who, "now": at}
    policy = sla_policy(settings)  # the app's settings decide the pause calendar, not the env
    match action:
        case "take":
            loop_service.take(**common)
        case "assign":
            loop_service.assign(**common, owner=_text(form, "owner"))
        case "start":
            loop_service.start(**common, policy=policy)
        case "wait_on_customer":
            loop_service.wait_on_customer(**common, reason=_optional(form, "reason"))
        case "note":
            loop_service.note(**common, text=_text(form, "text"))
        case "log_contact":
            channel, summary = _text(form, "channel"), _text(form, "summary")
            loop_service.log_contact(**common, channel=channel, summary=summary)
        case "set_root_cause":
            code = _text(form, "root_cause")
            loop_service.set_root_cause(**common, code=code, codes=root_causes(settings))
        case "resolve":
            chosen = _optional(form, "root_cause")
            if chosen is not None:
                loop_service.set_root_cause(**common, code=chosen, codes=root_causes(settings))
            loop_service.resolve(**common, summary=_optional(form, "summary"), policy=policy)
        case "reopen":
            reason = _optional(form, "reason")
            loop_service.reopen(**common, reason=reason, policy=policy)
        case "close":
            loop_service.close(**common, reason=_optional(form, "reason"), policy=policy)
        case _:
            raise Invalid(f"is not a case action ({', '.join(ACTIONS)})", "action", action)


ACTIONS = (
    "take", "assign", "start", "wait_on_customer", "note", "log_contact", "set_root_cause",
    "resolve", "reopen", "close",
)  # fmt: skip
"""The actions the case page offers as forms (each as the API's action of that name)."""
FIELDS = ("owner", "reason", "text", "channel", "summary", "root_cause")
MAX_LENGTH = 10_000
"""The longest text a form field may carry (the API's limit for notes and summaries)."""


def _same_site(request: Request) -> bool:
    """False when the browser says the form was posted from another site (Origin header)."""
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.url.netloc


@router.post("/cases/{case_id}/{action}")
def act(
    request: Request,
    case_id: int,
    action: str,
    session: SessionDep,
    settings: SettingsDep,
    owner: Annotated[str | None, Form()] = None,
    reason: Annotated[str | None, Form()] = None,
    text: Annotated[str | None, Form()] = None,
    channel: Annotated[str | None, Form()] = None,
    summary: Annotated[str | None, Form()] = None,
    root_cause: Annotated[str | None, Form()] = None,
) -> Response:
    """Run one action on the case as the signed-in user, then show the case again."""
    user = signed_in(request, session)
    if user is None:
        return to_login()
    lang = language(request)
    values = dict(zip(FIELDS, (owner, reason, text, channel, summary, root_cause), strict=True))
    form = {k: v for k, v in values.items() if v is not None}
    try:
        _check(request, user.role, action, form)
        run(action, session, settings, case_id, actor(user), form)
    except CxloopError as exc:
        session.rollback()  # a resolve refused after its root cause was set keeps neither
        code = status_of(exc, 400)
        if isinstance(exc, Forbidden) and not _same_site(request):
            return refused(request, user, exc, lang)
        return show_case(
            request, session, settings, user, case_id, lang, error=str(exc), status_code=code
        )
    return RedirectResponse(f"/cases/{case_id}?done={action}", status_code=303)


def _check(request: Request, role: str, action: str, form: dict[str, str]) -> None:
    """Refuse before any work: a post from another site, a role that works no cases (the
    API's words), an action the page does not offer, a field longer than the API allows."""
    if not _same_site(request):
        raise Forbidden("the form was posted from another site (Origin header); reload the page")
    if not allows(role, Permission.work_cases):
        raise Forbidden(f"role {role!r} may not work cases")
    if action not in ACTIONS:
        raise Invalid(f"is not a case action ({', '.join(ACTIONS)})", "action", action)
    for name, value in form.items():
        if len(value) > MAX_LENGTH:
            raise Invalid(f"is longer than {MAX_LENGTH:,} characters", name, value[:40] + "…")
