"""The respondent API for apps that draw their own form: read a survey through a personal link
(in the respondent's language, with its display logic), send answers. Same rules and storage as
the web form (``surveys.responses``); no login, the signed link is the credential."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, BackgroundTasks, HTTPException, Request
from pydantic import BaseModel, Field

from cxloop.errors import Invalid, Problem
from cxloop.surveys import logic
from cxloop.surveys import responses as responses_service
from cxloop.surveys.definitions import Question
from cxloop.surveys.responses import LinkRefused, Respondent
from cxloop.web.deps import SessionDep, SettingsDep
from cxloop.web.pages.respond import REFUSAL_STATUS, respondent_language

router = APIRouter(prefix="/api/v1/respond", tags=["respond"])


class OptionOut(BaseModel):
    id: str
    text: str
    other: bool = False


class QuestionOut(BaseModel):
    """A question in the respondent's language, values piped in; ``show_if`` is the display
    rule over earlier answers, ``visible`` its value for the answers saved so far."""

    id: str
    type: str
    text: str
    required: bool
    show_if: str | None
    visible: bool
    min: int | None = Field(None, description="Lowest answer (scored questions, matrix rows).")
    max: int | None = Field(None, description="Highest answer (scored questions, matrix rows).")
    options: list[OptionOut] = Field(default_factory=list)
    rows: list[OptionOut] = Field(default_factory=list)
    min_choices: int | None = None
    max_choices: int | None = None
    max_length: int | None = None


class RespondForm(BaseModel):
    survey_id: str
    version: int
    language: str
    title: str
    intro: str | None
    thanks: str | None
    layout: str
    questions: list[QuestionOut]
    answers: dict[str, Any] = Field(description="Answers saved so far (a partial response).")
    rev: int = Field(description="Send it back with the answers: an older one is a repeat.")
    completed: bool


class RespondIn(BaseModel):
    answers: dict[str, Any] = Field(
        description="Question id → number, option id, [option ids], {row: number} or text; "
        "'<id>.other' for an 'other' option's text."
    )
    rev: int | None = Field(None, description="The form's rev; omit for a one-shot submit.")
    complete: bool = Field(True, description="false: save these answers and keep going.")
    language: Literal["zh", "en"] | None = None


class RespondResult(BaseModel):
    status: Literal["saved", "completed", "stale"]
    completed: bool
    response_id: int | None
    remaining: list[str] = Field(description="Visible questions not answered yet.")


def _open(session: Any, settings: Any, token: str, *, repeat: bool) -> Respondent:
    try:
        return responses_service.open_invitation(
            session=session, settings=settings, token=token, repeat=repeat
        )
    except LinkRefused as refused:
        raise HTTPException(REFUSAL_STATUS.get(refused.kind, 400), str(refused)) from None


def _question(
    question: Question, lang: str, respondent: Respondent, visible: set[str]
) -> QuestionOut:
    bounds = question.bounds
    context = respondent.context

    def options(items: list[Any]) -> list[OptionOut]:
        return [
            OptionOut(id=o.id, text=logic.pipe(o.text.get(lang), context), other=o.other)
            for o in items
        ]

    return QuestionOut(
        id=question.id,
        type=question.type,
        text=logic.pipe(question.text.get(lang), context),
        required=question.required,
        show_if=question.show_if,
        visible=question.id in visible,
        min=bounds[0] if bounds else None,
        max=bounds[1] if bounds else None,
        options=options(question.options),
        rows=options(question.rows),
        min_choices=question.min_choices,
        max_choices=question.max_choices,
        max_length=question.max_length,
    )


@router.get("/{token}", response_model=RespondForm)
def read_form(
    token: str, request: Request, session: SessionDep, settings: SettingsDep
) -> RespondForm:
    """The survey behind a personal link (``?lang=`` to choose zh or en); marks it opened."""
    respondent = _open(session, settings, token, repeat=False)
    definition = respondent.definition
    lang = respondent_language(request, definition, respondent.language)
    shown = responses_service.visible_questions(respondent, respondent.answers)
    visible = {q.id for q in shown}  # once per form, not once per question
    return RespondForm(
        survey_id=respondent.survey_id,
        version=respondent.version,
        language=lang,
        title=logic.pipe(definition.title.get(lang), respondent.context),
        intro=logic.pipe(definition.intro.get(lang), respondent.context)
        if definition.intro
        else None,
        thanks=definition.thanks.get(lang) if definition.thanks else None,
        layout=definition.layout,
        questions=[_question(q, lang, respondent, visible) for q in definition.questions],
        answers={k: v for k, v in respondent.answers.items() if v is not None},
        rev=respondent.rev,
        completed=respondent.completed,
    )


@router.post("/{token}", response_model=RespondResult)
def send_answers(
    token: str,
    body: RespondIn,
    request: Request,
    background: BackgroundTasks,
    session: SessionDep,
    settings: SettingsDep,
) -> RespondResult:
    """Check and store answers (422 naming each refused answer, nothing stored); with
    ``complete`` the response is completed once every visible question is answered."""
    respondent = _open(session, settings, token, repeat=True)
    lang = body.language or respondent_language(request, respondent.definition, respondent.language)
    unknown = _unknown_keys(respondent, body.answers)
    raw = {k: v for k, v in body.answers.items() if k not in unknown}
    page_ids = None if body.complete else [k for k in raw if "." not in k]
    try:
        saved = responses_service.save(
            session=session,
            respondent=respondent,
            rev=body.rev if body.rev is not None else respondent.rev,
            raw=raw,
            page_ids=page_ids,
            finish=body.complete,
            lang=lang,
        )
    except LinkRefused as refused:
        raise HTTPException(REFUSAL_STATUS.get(refused.kind, 400), str(refused)) from None
    except Invalid as exc:
        raise Invalid([*unknown.values(), *exc.problems]) from None
    if unknown:  # the request fails as a whole: the unit of work rolls back what save stored
        raise Invalid(list(unknown.values()))
    if saved.outcome == "completed":
        drain = getattr(request.app.state, "survey_drain", None)
        if drain is not None:
            background.add_task(drain.poke)  # after the commit: the drain finds the row
    shown = responses_service.visible_questions(respondent, respondent.answers)
    return RespondResult(
        status=saved.outcome,
        completed=saved.completed,
        response_id=saved.response_id,
        # complete: nothing remains (skipped optional questions are not stored as answers)
        remaining=[]
        if saved.completed
        else [q.id for q in shown if q.id not in respondent.answers],
    )


def _unknown_keys(respondent: Respondent, answers: dict[str, Any]) -> dict[str, Problem]:
    """Answer keys that name no question of the survey (nor ``<id>.other`` of one), each as the
    problem ``answers.<key>`` reported beside every other refused answer of the same post."""
    ids = {q.id for q in respondent.definition.questions}
    return {
        key: Problem(f"answers.{key}", key, "is not a question of this survey")
        for key in answers
        if key not in ids and not (key.endswith(".other") and key.removesuffix(".other") in ids)
    }
