"""The first web page: what was loaded, per kind and channel (same numbers as the API)."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from cxloop.errors import CxloopError
from cxloop.ingest import service as ingest_service
from cxloop.privacy import service as privacy_service
from cxloop.web.deps import COOKIE, SessionDep

router = APIRouter()
templates = Jinja2Templates(directory=Path(__file__).with_name("templates"))


@router.get("/", response_class=HTMLResponse)
def home(request: Request, session: SessionDep) -> Response:
    token = request.cookies.get(COOKIE)
    try:
        user = privacy_service.authenticate_token(session=session, token=token or "")
    except CxloopError:
        return RedirectResponse("/login", status_code=303)
    counts = ingest_service.store_counts(session=session)
    return templates.TemplateResponse(request, "overview.html", {"user": user, "counts": counts})


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> Response:
    return templates.TemplateResponse(request, "login.html", {"error": None})


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    session: SessionDep,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
) -> Response:
    try:
        issued = privacy_service.login(session=session, username=username, password=password)
    except CxloopError as exc:
        return templates.TemplateResponse(
            request, "login.html", {"error": str(exc)}, status_code=401
        )
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(COOKIE, issued.token, httponly=True, samesite="strict", max_age=86_400)
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
