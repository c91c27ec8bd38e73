"""``/u/{token}``: the unsubscribe link of every survey mail. GET shows a confirmation page;
POST records the opt-out — the page's button, or a mail client's one-click unsubscribe
(RFC 8058: ``List-Unsubscribe=One-Click``), which needs no login and no cookie."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from cxloop.errors import NotFound
from cxloop.surveys import opt_outs
from cxloop.surveys.tokens import LinkError
from cxloop.web.deps import SessionDep, SettingsDep
from cxloop.web.pages.i18n import Lang, choice, gettext, language
from cxloop.web.pages.templating import render

router = APIRouter()


def _lang(request: Request, preferred: str | None = None) -> Lang:
    return choice(request.query_params.get("lang")) or choice(preferred) or language(request)


def _refused(request: Request, exc: LinkError | NotFound) -> Response:
    lang = _lang(request)
    expired = isinstance(exc, LinkError) and exc.kind == "expired"
    context = {
        "heading": gettext(lang, "This unsubscribe link is not valid"),
        "detail": gettext(lang, "This link has expired.")
        if expired
        else gettext(lang, "Check that you opened the whole link from your message."),
        "switch": [],
    }
    status = 404 if isinstance(exc, NotFound) else 400
    return render(request, "surveys/respond_error.html", context, lang=lang, status_code=status)


@router.get("/u/{token}", response_class=HTMLResponse)
def confirm(token: str, request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    """Who would be unsubscribed, and a button that does it."""
    try:
        found = opt_outs.find(session=session, settings=settings, token=token)
    except (LinkError, NotFound) as exc:
        return _refused(request, exc)
    context = {"done": False, "address": found.shown, "action": f"/u/{token}"}
    return render(request, "surveys/unsubscribe.html", context, lang=_lang(request, found.language))


@router.post("/u/{token}", response_class=HTMLResponse)
def unsubscribe(
    token: str, request: Request, session: SessionDep, settings: SettingsDep
) -> Response:
    """Record the opt-out for that address and channel, forever; answering twice is fine."""
    try:
        found = opt_outs.unsubscribe(session=session, settings=settings, token=token)
    except (LinkError, NotFound) as exc:
        return _refused(request, exc)
    context = {"done": True, "address": found.shown, "action": f"/u/{token}"}
    return render(request, "surveys/unsubscribe.html", context, lang=_lang(request, found.language))
