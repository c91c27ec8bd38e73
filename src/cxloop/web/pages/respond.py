"""The respondent form: ``/s/{token}`` (a personal link) and ``/s/a/{public_id}`` (anonymous).

Plain HTML forms, no script: each POST stores one page (or refuses it and shows it again with the
reasons) and answers with the next page or the thanks page directly, so a repeated POST (a double
click, a reload) is recognised by its revision and stores nothing. Every rule is in
``surveys.responses``; these handlers only choose the language and draw the pages.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from cxloop.config import Settings
from cxloop.db.session import session_scope
from cxloop.errors import Invalid, Problem
from cxloop.surveys import logic
from cxloop.surveys import responses as responses_service
from cxloop.surveys.definitions import SurveyDefinition
from cxloop.surveys.responses import LinkRefused, Respondent
from cxloop.web.pages import respond_form
from cxloop.web.pages.i18n import HTML_LANG, LANGUAGES, Lang, accepted, choice, gettext
from cxloop.web.pages.templating import LABEL, render

router = APIRouter()
_WRITES = threading.Lock()
"""One respondent write at a time in this process: they queue here and start the moment the
last one commits, instead of sleeping in SQLite's busy handler (up to 100 ms a try)."""
RESUME_COOKIE = "cxloop_resume"
RESUME_DAYS = 30
REFUSAL_STATUS = {
    "malformed": 400,
    "tampered": 400,
    "unknown": 404,
    "expired": 410,
    "closed": 410,
    "completed": 409,
}


def _run(request: Request, work: Callable[[Session], Response]) -> Awaitable[Response]:
    """``work`` with its own unit of work, in ONE worker thread: no per-request dependencies
    (a respondent has no login), and each handler commits as soon as its answers are stored,
    before the page is drawn, so SQLite's write lock is held for the writes only."""
    factory = request.app.state.session_factory

    def run() -> Response:
        with session_scope(factory) as session:
            return work(session)

    # the default thread pool (40): limiting respondents to 4 threads measured slower (110 vs
    # 168 submits/s), as the outbox drain's thread then took a larger share of the GIL
    return run_in_threadpool(run)


# --- personal links -----------------------------------------------------------------------


@router.get("/s/{token}", response_class=HTMLResponse)
async def survey_form(request: Request, token: str, q: str | None = None) -> Response:
    """The page to answer now (``?q=`` an earlier question, to change it); opening marks the
    invitation opened."""

    def work(session: Session) -> Response:
        try:
            respondent = responses_service.open_invitation(
                session=session, settings=_settings(request), token=token
            )
        except LinkRefused as refused:
            return refusal_page(request, refused)
        session.commit()
        return _page(request, respondent, focus=q)

    return await _run(request, work)


@router.post("/s/{token}", response_class=HTMLResponse)
async def survey_answer(request: Request, token: str) -> Response:
    """Store the posted page; answer with the next page, the thanks page, or this page again
    with what is wrong (422, nothing stored)."""
    form = await request.form()

    def work(session: Session) -> Response:
        try:
            respondent = responses_service.open_invitation(
                session=session, settings=_settings(request), token=token, repeat=True
            )
        except LinkRefused as refused:
            return refusal_page(request, refused)
        return _answer(request, respondent, form, session)

    return await _run(request, work)


# --- anonymous links ----------------------------------------------------------------------


@router.get("/s/a/{public_id}", response_class=HTMLResponse)
async def anonymous_form(request: Request, public_id: str) -> Response:
    """The anonymous form; a resume cookie brings a respondent back to where they stopped."""

    def work(session: Session) -> Response:
        try:
            respondent = responses_service.open_anonymous(
                session=session,
                public_id=public_id,
                session_key=request.cookies.get(RESUME_COOKIE),
            )
        except LinkRefused as refused:
            return refusal_page(request, refused)
        if respondent.response is None:  # the key the first POST stores under (a double POST: one)
            respondent.session_key = responses_service.new_session_key()
        return _page(request, respondent)

    return await _run(request, work)


@router.post("/s/a/{public_id}", response_class=HTMLResponse)
async def anonymous_answer(request: Request, public_id: str) -> Response:
    form = await request.form()
    cookie = request.cookies.get(RESUME_COOKIE)
    posted = form.get("_k")
    given = next(
        (
            k
            for k in (cookie, posted if isinstance(posted, str) else None)
            if k and responses_service.valid_session_key(k)
        ),
        None,
    )

    def work(session: Session) -> Response:
        try:  # a key the respondent brings may hold their response; a new one cannot
            respondent = responses_service.open_anonymous(
                session=session, public_id=public_id, session_key=given, repeat=True
            )
        except LinkRefused as refused:
            return refusal_page(request, refused)
        key = given or responses_service.new_session_key()
        respondent.session_key = key
        response = _answer(request, respondent, form, session)
        path = f"/s/a/{public_id}"
        if respondent.completed:  # done: this browser may start a new answer (the link is open)
            response.delete_cookie(RESUME_COOKIE, path=path, httponly=True, samesite="lax")
        elif response.status_code < 400:
            response.set_cookie(
                RESUME_COOKIE,
                key,
                max_age=RESUME_DAYS * 86_400,
                path=path,
                httponly=True,
                samesite="lax",
            )
        return response

    return await _run(request, work)


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


# --- shared -------------------------------------------------------------------------------


def _answer(request: Request, respondent: Respondent, form: FormData, session: Session) -> Response:
    raw, controls = respond_form.parse(form, respondent.definition)
    lang = respondent_language(request, respondent.definition, respondent.language)
    rev = controls.rev if controls.rev is not None else respondent.rev
    try:
        with _WRITES:  # committed before the page is drawn: the write lock is held this long
            saved = responses_service.save(
                session=session,
                respondent=respondent,
                rev=rev,
                raw=raw,
                page_ids=controls.page_ids,
                lang=lang,
            )
            session.commit()
    except LinkRefused as refused:
        return refusal_page(request, refused)
    except IntegrityError:  # the same first page posted twice at once: the other one stored it
        session.rollback()
        return RedirectResponse(_self_url(request), status_code=303)
    except Invalid as exc:
        session.rollback()  # nothing of a refused page is kept (not even "opened" twice)
        return _page(
            request,
            respondent,
            problems=exc.problems,
            raw=raw,
            page_ids=controls.page_ids,
            status_code=422,
        )
    if saved.completed:
        task = None
        if saved.outcome == "completed":
            task = BackgroundTask(_wake_drain, request)  # after the commit: the row is there
        return _thanks(request, respondent, lang, task, dropped=saved.dropped)
    return _page(request, respondent)


async def _wake_drain(request: Request) -> None:
    """On the event loop: setting an event needs no worker thread."""
    drain = getattr(request.app.state, "survey_drain", None)
    if drain is not None:
        drain.poke()


def _page(
    request: Request,
    respondent: Respondent,
    *,
    focus: str | None = None,
    problems: list[Problem] | None = None,
    raw: dict[str, Any] | None = None,
    page_ids: list[str] | None = None,
    status_code: int = 200,
) -> Response:
    definition = respondent.definition
    lang = respondent_language(request, definition, respondent.language)
    current = responses_service.page(respondent, focus=focus)
    questions = current.questions
    if page_ids:  # a refused page is shown as it was posted
        known = {q.id: q for q in definition.questions}
        questions = [known[qid] for qid in dict.fromkeys(page_ids) if qid in known] or questions
    answers = {**current.answers, **(raw or {})}
    views = respond_form.views(
        questions,
        lang=lang,
        context=respondent.context,
        answers=answers,
        first_number=max(current.position, 1),
        problems=problems,
    )
    if problems and not any(v.error or v.other_error for v in views):
        views_error = gettext(lang, "Please check your answers.")
        if views:
            views[0].error = views_error
    back = _back_url(request, respondent, current.position, [q.id for q in questions])
    context = {
        "title": logic.pipe(definition.title.get(lang), respondent.context),
        "intro": _intro(definition, lang, respondent, current.position),
        "questions": views,
        "rev": current.rev,
        "position": current.position,
        "total": current.total,
        "errors": bool(problems),
        "action": _self_url(request),
        "session_key": respondent.session_key if respondent.response is None else None,
        "back_url": back,
        "last": current.editing
        or definition.layout == "all_on_one"
        or current.position >= current.total,
        "switch": _switch(request, definition),
    }
    return render(request, "surveys/respond.html", context, lang=lang, status_code=status_code)


def _intro(definition: SurveyDefinition, lang: Lang, respondent: Respondent, position: int) -> str:
    if definition.intro is None or position > 1:
        return ""
    return logic.pipe(definition.intro.get(lang), respondent.context)


def _back_url(
    request: Request, respondent: Respondent, position: int, shown: list[str]
) -> str | None:
    if respondent.definition.layout == "all_on_one" or position <= 1 or respondent.completed:
        return None
    visible = [q.id for q in responses_service.visible_questions(respondent, respondent.answers)]
    earlier = [qid for qid in visible[: position - 1] if qid not in shown]
    if not earlier:
        return None
    query = [("q", earlier[-1])]
    if choice(request.query_params.get("lang")):
        query.append(("lang", str(request.query_params["lang"])))
    return f"{request.url.path}?{urlencode(query)}"


def _thanks(
    request: Request,
    respondent: Respondent,
    lang: Lang,
    task: BackgroundTask | None,
    *,
    dropped: bool = False,
) -> Response:
    """The thanks page; ``dropped``: a repeat that changed an answer after the response was
    submitted is told that the change was not saved, never thanked for it."""
    definition = respondent.definition
    thanks = (
        logic.pipe(definition.thanks.get(lang), respondent.context)
        if definition.thanks is not None
        else gettext(lang, "Your answers have been saved.")
    )
    context = {
        "title": logic.pipe(definition.title.get(lang), respondent.context),
        "thanks": thanks,
        "dropped": dropped,
        "switch": [],
    }
    response = render(request, "surveys/respond_thanks.html", context, lang=lang)
    response.background = task
    return response


def refusal_page(request: Request, refused: LinkRefused) -> Response:
    """A link that cannot take answers: why, in the respondent's language, with its status."""
    lang = choice(request.query_params.get("lang")) or choice(refused.language)
    lang = lang or next(iter(accepted(request)), None) or "zh"
    heading, detail = _refusal_words(refused.kind, lang)
    context = {"heading": heading, "detail": detail, "switch": []}
    status = REFUSAL_STATUS.get(refused.kind, 400)
    return render(request, "surveys/respond_error.html", context, lang=lang, status_code=status)


def _refusal_words(kind: str, lang: Lang) -> tuple[str, str]:
    if kind == "expired":
        return (
            gettext(lang, "This survey link has expired"),
            gettext(lang, "The time to answer this survey is over. Thank you for your interest."),
        )
    if kind == "closed":
        return (
            gettext(lang, "This survey is closed"),
            gettext(lang, "It no longer takes answers. Thank you for your interest."),
        )
    if kind == "completed":
        return (
            gettext(lang, "You have already answered this survey"),
            gettext(lang, "Your answers were saved; they cannot be changed through this link."),
        )
    if kind == "unknown":
        return (
            gettext(lang, "This survey link was not found"),
            gettext(lang, "Check that you opened the whole link from your message."),
        )
    return (
        gettext(lang, "This survey link is not valid"),
        gettext(lang, "Check that you opened the whole link from your message."),
    )


def respondent_language(
    request: Request, definition: SurveyDefinition, invitation: str | None
) -> Lang:
    """``?lang=`` > the invitation's language > Accept-Language > the survey's default, among
    the languages the survey offers."""
    offered = [lang for lang in definition.languages if lang in LANGUAGES]
    for candidate in (
        choice(request.query_params.get("lang")),
        choice(invitation),
        *accepted(request),
    ):
        if candidate in offered:
            return candidate
    return definition.default_language


def _self_url(request: Request) -> str:
    """This page's path, keeping a chosen ``?lang=``."""
    picked = choice(request.query_params.get("lang"))
    if picked:
        return f"{request.url.path}?{urlencode([('lang', picked)])}"
    return request.url.path


def _switch(request: Request, definition: SurveyDefinition) -> list[dict[str, str]]:
    """The language links: only the survey's languages, each keeping the page."""
    offered = [lang for lang in definition.languages if lang in LANGUAGES]
    if len(offered) < 2:
        return []
    return [
        {
            "code": lang,
            "label": LABEL[lang],
            "html_lang": HTML_LANG[lang],
            "url": f"{request.url.path}?{urlencode([('lang', lang)])}",
        }
        for lang in offered
    ]
