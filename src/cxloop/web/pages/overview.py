"""The first web page: what was loaded, per kind and channel (same numbers as the API)."""

from __future__ import annotations

import contextlib
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from cxloop.errors import CxloopError, Unauthenticated
from cxloop.ingest import service as ingest_service
from cxloop.privacy import service as privacy_service
from cxloop.web.deps import COOKIE, SessionDep
from cxloop.web.pages.i18n import COOKIE as LANG_COOKIE
from cxloop.web.pages.templating import Lang, gettext, language, render

router = APIRouter()


@router.get("/", response_class=HTMLResponse)
def home(request: Request, session: SessionDep) -> Response:
    token = request.cookies.get(COOKIE)
    try:
        user = privacy_service.authenticate_token(session=session, token=token or "")
    except CxloopError:
        return RedirectResponse("/login", status_code=303)
    counts = ingest_service.store_counts(session=session)
    context = {
        "user": user,
        "counts": counts,
        "section": "overview",
        "channel_chart": _channel_chart(counts["feedback_by_channel"]),
    }
    block = "counts" if request.headers.get("HX-Request") == "true" else None  # the Refresh button
    return render(request, "overview.html", context, lang=language(request), block=block)


def _channel_chart(by_channel: dict[str, int]) -> dict[str, object] | None:
    """An ECharts bar option for feedback per channel (None when there is no feedback)."""
    if not by_channel:
        return None
    return {
        "grid": {"left": 80, "right": 16, "top": 8, "bottom": 24},
        "xAxis": {"type": "value", "minInterval": 1},
        "yAxis": {"type": "category", "data": list(by_channel)},
        "series": [{"type": "bar", "data": list(by_channel.values())}],
        "tooltip": {},
    }


def _login_page(
    request: Request, lang: Lang, *, error: str | None = None, username: str = ""
) -> Response:
    """The login form in ``lang``, with the user name kept after a failed try."""
    context = {"error": error, "username": username}
    return render(request, "login.html", context, lang=lang, status_code=401 if error else 200)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> Response:
    """The form in zh or en (``?lang=``, else the browser's Accept-Language)."""
    return _login_page(request, language(request))


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    session: SessionDep,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    lang: Annotated[str | None, Form()] = None,
) -> Response:
    chosen = language(request, lang)
    try:
        issued = privacy_service.login(session=session, username=username, password=password)
    except Unauthenticated:
        wrong = gettext(chosen, "Wrong user name or password. Please try again.")
        return _login_page(request, chosen, error=wrong, username=username)
    except CxloopError as exc:
        return _login_page(request, chosen, error=str(exc), username=username)
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(COOKIE, issued.token, httponly=True, samesite="strict", max_age=86_400)
    if lang:  # the language the user logged in with stays for the next pages
        response.set_cookie(LANG_COOKIE, chosen, max_age=365 * 86_400, samesite="lax")
    return response


@router.post("/logout")
def logout(request: Request, session: SessionDep) -> Response:
    """End the session: the cookie's token is revoked, not just forgotten by the browser."""
    token = request.cookies.get(COOKIE)
    if token:
        with contextlib.suppress(CxloopError):
            privacy_service.revoke_token(session=session, token=token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE)
    return response
