"""A respondent's way through a survey: open a link, save each page, submit, and the outbox.

The form (web page or JSON API) only parses and renders; every rule lives here: which link may
answer, which questions are visible (``surveys.logic``), which answer is valid, when a response
is started and completed, and that a stale or repeated POST stores nothing. Completed responses
wait in the outbox (``feedback_id`` unset) until ``ingest_pending`` stores them as feedback.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.db.base import utcnow
from cxloop.errors import CxloopError, Invalid, Problem
from cxloop.surveys import logic, tokens
from cxloop.surveys.definitions import Question, SurveyDefinition
from cxloop.surveys.models import (
    Distribution,
    Invitation,
    Survey,
    SurveyAnswer,
    SurveyResponse,
)
from cxloop.surveys.response_feedback import (
    answer_values,
    ingest_pending,
    version_definition,
    warm_text_engine,
)

RefusalKind = Literal["malformed", "tampered", "unknown", "expired", "closed", "completed"]
STATUS_ORDER = ("scheduled", "sent", "delivered", "bounced", "opened", "started", "completed")
SESSION_KEY_LENGTH = 43
"""``secrets.token_urlsafe(32)``: the anonymous respondent's resume key."""


class LinkRefused(CxloopError):
    """A link that may not take answers, with why (``kind``) and, when the link was authentic,
    the invitation's language so the page speaks to the respondent in it."""

    def __init__(self, kind: RefusalKind, *, language: str | None = None) -> None:
        self.kind = kind
        self.language = language
        super().__init__(f"survey link refused: {kind}")


@dataclass
class Respondent:
    """Who answers which version, through which link, and their response so far (if any)."""

    survey_id: str
    version: int
    definition: SurveyDefinition
    distribution_id: int
    invitation_id: int | None
    language: str | None
    """The invitation's language (None for anonymous links)."""
    context: dict[str, Any]
    attributes: dict[str, Any]
    allow_edits: bool
    response: SurveyResponse | None = None
    session_key: str | None = None
    ids: dict[str, str | None] = field(default_factory=dict)
    """customer_id, contact_id, account_id, role copied onto the response."""

    @property
    def answers(self) -> dict[str, Any]:
        return dict(self.response.answers) if self.response is not None else {}

    @property
    def rev(self) -> int:
        """The form's revision: a POST carrying an older one is a repeat and stores nothing."""
        return self.response.step if self.response is not None else 0

    @property
    def completed(self) -> bool:
        return self.response is not None and self.response.status == "completed"


@dataclass(frozen=True)
class Page:
    """The questions to show now, where they sit in the survey, and what is known so far."""

    questions: list[Question]
    position: int
    """1-based index of the page's first question among the visible ones."""
    total: int
    answers: dict[str, Any]
    rev: int
    editing: bool = False


@dataclass(frozen=True)
class Saved:
    """What a POST did: ``saved`` (more to answer), ``completed``, or ``stale`` (a repeat)."""

    outcome: Literal["saved", "completed", "stale"]
    completed: bool
    response_id: int | None
    dropped: bool = False
    """Stale and the posted answers differ from the stored ones: the later change was not saved."""


# --- opening a link --------------------------------------------------------------------------


def open_invitation(
    *,
    session: Session,
    settings: Settings,
    token: str,
    now: dt.datetime | None = None,
    repeat: bool = False,
) -> Respondent:
    """The invitation behind a signed link, marked opened; refused when the link is malformed,
    tampered, unknown, expired, closed, or completed without edits allowed (nothing stored).
    ``repeat``: a POST, which may be the repeat of the one that completed the response (``save``
    then answers ``stale`` and the form shows the thanks page again)."""
    now = _naive(now or utcnow())
    key = tokens.link_key(session, settings)
    try:
        content = tokens.read_link(token, key, now=dt.datetime(1970, 1, 1))
    except tokens.LinkError as exc:
        raise LinkRefused(exc.kind) from None
    found = session.execute(  # one query: the invitation, its distribution, survey, response
        select(Invitation, Distribution, Survey.status, SurveyResponse)
        .outerjoin(Distribution, Distribution.id == Invitation.distribution_id)
        .outerjoin(Survey, Survey.survey_id == Distribution.survey_id)
        .outerjoin(SurveyResponse, SurveyResponse.invitation_id == Invitation.id)
        .where(Invitation.public_id == content.public_id)
    ).one_or_none()
    if found is None:
        raise LinkRefused("unknown")
    invitation, distribution, survey_status, response = found
    expires_at = content.expires_at
    language = invitation.language
    if distribution is None:
        raise LinkRefused("unknown", language=language)
    completed = response is not None and response.status == "completed"
    if completed and not distribution.allow_edits and not repeat:
        raise LinkRefused("completed", language=language)
    if not completed and (
        _expired(expires_at, invitation.expires_at, now)
        or invitation.status in ("expired", "skipped")
    ):
        raise LinkRefused("expired", language=language)
    if completed and distribution.allow_edits and _expired(expires_at, None, now):
        raise LinkRefused("completed", language=language)  # edits end with the link
    _refuse_closed(distribution, survey_status, language)
    respondent = _respondent(session, distribution, invitation.context or {}, language)
    respondent.invitation_id = invitation.id
    respondent.ids = {
        "customer_id": invitation.customer_id,
        "contact_id": invitation.contact_id,
        "account_id": invitation.account_id,
        "role": invitation.role,
    }
    respondent.attributes = _attributes(invitation.context or {}, respondent.ids)
    respondent.response = response
    if response is not None:
        respondent.version = response.version
        respondent.definition = version_definition(session, response.survey_id, response.version)
    _advance(invitation, "opened", now)
    return respondent


def open_anonymous(
    *,
    session: Session,
    public_id: str,
    session_key: str | None,
    now: dt.datetime | None = None,
    repeat: bool = False,
) -> Respondent:
    """An anonymous link's distribution, and the response its resume key holds (if any)."""
    now = _naive(now or utcnow())
    found = session.execute(
        select(Distribution, Survey.status)
        .outerjoin(Survey, Survey.survey_id == Distribution.survey_id)
        .where(Distribution.anonymous_public_id == public_id)
    ).one_or_none()
    if found is None:
        raise LinkRefused("unknown")
    distribution, survey_status = found
    if distribution.deadline is not None and now > _naive(distribution.deadline):
        raise LinkRefused("expired")
    _refuse_closed(distribution, survey_status, None)
    respondent = _respondent(session, distribution, {}, None)
    if session_key and valid_session_key(session_key):
        response = session.scalars(
            select(SurveyResponse).where(
                SurveyResponse.session_key == session_key,
                SurveyResponse.distribution_id == distribution.id,
            )
        ).one_or_none()
        respondent.session_key = session_key
        respondent.response = response
        if response is not None:
            if response.status == "completed" and not distribution.allow_edits and not repeat:
                raise LinkRefused("completed")
            respondent.version = response.version
            respondent.definition = version_definition(
                session, response.survey_id, response.version
            )
    return respondent


def new_session_key() -> str:
    return secrets.token_urlsafe(32)


def valid_session_key(value: str) -> bool:
    return len(value) == SESSION_KEY_LENGTH and all(c.isalnum() or c in "-_" for c in value)


def _respondent(
    session: Session, distribution: Distribution, context: dict[str, Any], language: str | None
) -> Respondent:
    definition = version_definition(session, distribution.survey_id, distribution.version)
    return Respondent(
        survey_id=distribution.survey_id,
        version=distribution.version,
        definition=definition,
        distribution_id=distribution.id,
        invitation_id=None,
        language=language,
        context=context,
        attributes=_attributes(context, {}),
        allow_edits=bool(distribution.allow_edits),
    )


def _refuse_closed(
    distribution: Distribution, survey_status: str | None, language: str | None
) -> None:
    """``survey_status`` None: the survey is gone."""
    if distribution.status == "closed" or survey_status in (None, "archived"):
        raise LinkRefused("closed", language=language)


def _expired(link_expiry: dt.datetime | None, stored: dt.datetime | None, now: dt.datetime) -> bool:
    return any(when is not None and now >= _naive(when) for when in (link_expiry, stored))


def _naive(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC).replace(tzinfo=None) if value.tzinfo else value


def _attributes(context: dict[str, Any], ids: dict[str, str | None]) -> dict[str, Any]:
    """What ``show_if`` may read beside earlier answers: ``contact.role``, ``customer.segment``…
    from the invitation's context (customer, contact, order, milestone, event)."""
    attributes: dict[str, Any] = {
        root: dict(value) for root, value in context.items() if isinstance(value, dict)
    }
    contact = attributes.setdefault("contact", {})
    if ids.get("role") and "role" not in contact:
        contact["role"] = ids["role"]
    return attributes


def _advance(invitation: Invitation, status: str, now: dt.datetime) -> None:
    """Move an invitation forward in its flow, never back (a re-open after start stays started)."""
    current = STATUS_ORDER.index(invitation.status) if invitation.status in STATUS_ORDER else -1
    if STATUS_ORDER.index(status) > current:
        invitation.status = status
    stamp = f"{status}_at"
    if getattr(invitation, stamp, None) is None:
        setattr(invitation, stamp, now)


# --- which questions, which page ---------------------------------------------------------------


def visible_questions(respondent: Respondent, answers: dict[str, Any]) -> list[Question]:
    """Questions shown for these answers, in order (show_if over earlier answers only)."""
    return [
        q
        for q in respondent.definition.questions
        if logic.visible(q, _given(answers), respondent.attributes)
    ]


def _given(answers: dict[str, Any]) -> dict[str, Any]:
    """Answers as logic reads them: a skipped optional question counts as not answered."""
    return {k: v for k, v in answers.items() if v is not None and "." not in k}


def page(respondent: Respondent, *, focus: str | None = None) -> Page:
    """The page to show: the question asked for (``focus``, an earlier visible one), else the
    first visible question not yet seen; all of them on one page when the survey says so or
    when a completed response is being edited."""
    answers = respondent.answers
    shown = visible_questions(respondent, answers)
    editing = respondent.completed
    if respondent.definition.layout == "all_on_one" or editing:
        return Page(shown, 1 if shown else 0, len(shown), answers, respondent.rev, editing)
    ids = [q.id for q in shown]
    chosen = focus if focus in ids and focus in answers else None
    if chosen is None:
        chosen = next((q.id for q in shown if q.id not in answers), None)
    if chosen is None:  # every visible question seen: the last one, to submit
        chosen = ids[-1] if ids else None
    if chosen is None:
        return Page([], 0, 0, answers, respondent.rev)
    counted = [q.id for q in _may_show(respondent, answers)]
    return Page(
        [shown[ids.index(chosen)]], counted.index(chosen) + 1, len(counted), answers, respondent.rev
    )


def _may_show(respondent: Respondent, answers: dict[str, Any]) -> list[Question]:
    return logic.may_show(respondent.definition, answers, respondent.attributes)


# --- saving ------------------------------------------------------------------------------------


def save(
    *,
    session: Session,
    respondent: Respondent,
    rev: int,
    raw: dict[str, Any],
    page_ids: list[str] | None,
    finish: bool = True,
    lang: str | None = None,
    now: dt.datetime | None = None,
) -> Saved:
    """Check and store one page of answers. ``raw``: question id → the submitted value (str,
    list of option ids, {row: value}; ``<id>.other`` for an "other" option's text); ``page_ids``:
    the questions the page showed (None: every visible question, as the JSON API sends).

    A ``rev`` older than the stored one is a repeated POST: nothing is stored and the outcome is
    ``stale``. Invalid answers raise ``Invalid`` naming each question; nothing is stored then.
    With ``finish`` the response completes once no visible question is left unseen."""
    now = _naive(now or utcnow())
    response = respondent.response
    if response is not None and rev != response.step:
        dropped = _differs(respondent, raw, page_ids)
        return Saved("stale", response.status == "completed", response.id, dropped)
    if respondent.completed and not respondent.allow_edits:
        raise LinkRefused("completed", language=respondent.language)
    answers = respondent.answers
    if page_ids is None:  # a whole submission: what was saved before stands unless resent
        raw = {**{k: v for k, v in answers.items() if v is not None}, **raw}
    asked = _asked(respondent, page_ids)
    merged = check_page(respondent, answers, raw, asked)
    shown_now = visible_questions(respondent, merged)
    kept = {q.id for q in shown_now}
    merged = {k: v for k, v in merged.items() if k.split(".", 1)[0] in kept}
    unseen = [q for q in shown_now if q.id not in merged]
    done = finish and not unseen
    response = _store(session, respondent, merged, now)
    if lang:
        response.language = lang  # the language answered in: the thanks page and the feedback
    if respondent.invitation_id is not None:
        invitation = session.get(Invitation, respondent.invitation_id)
        if invitation is not None:
            _advance(invitation, "started", now)
            if done:
                _advance(invitation, "completed", now)
    if done:
        _complete(session, respondent, response, now)
    session.flush()
    return Saved("completed" if done else "saved", done, response.id)


def _differs(respondent: Respondent, raw: dict[str, Any], page_ids: list[str] | None) -> bool:
    """Whether a repeated POST carries answers other than the stored ones (a changed or refused
    answer), so the respondent is told it was not saved rather than thanked for it."""
    stored = {k: v for k, v in respondent.answers.items() if v is not None}
    if page_ids is None:
        raw = {**stored, **raw}
    try:
        asked = _asked(respondent, page_ids)
        posted = check_page(respondent, stored, raw, asked)
    except Invalid:
        return True
    keys = [key for q in asked for key in (q.id, f"{q.id}.other")]
    return any(posted.get(key) != stored.get(key) for key in keys)


def _asked(respondent: Respondent, page_ids: list[str] | None) -> list[Question]:
    """The questions this POST answers: the page's (each must exist; ``check_page`` skips the
    ones hidden by the answers before them), or every question for a whole-survey submission."""
    by_id = {q.id: q for q in respondent.definition.questions}
    if page_ids is None:
        return list(respondent.definition.questions)
    unknown = [qid for qid in page_ids if qid not in by_id]
    if unknown:
        raise Invalid([Problem("page", qid, "is not a question of this survey") for qid in unknown])
    wanted = list(dict.fromkeys(page_ids))
    return [by_id[qid] for qid in wanted]


def check_page(
    respondent: Respondent, answers: dict[str, Any], raw: dict[str, Any], asked: list[Question]
) -> dict[str, Any]:
    """The stored answers with this page's merged in, checked question by question in order
    (visibility read from the answers before each one); every problem raised at once."""
    merged = dict(answers)
    problems: list[Problem] = []
    for question in asked:
        merged.pop(question.id, None)
        merged.pop(f"{question.id}.other", None)
        if not logic.visible(question, _given(merged), respondent.attributes):
            continue
        value = raw.get(question.id)
        try:
            clean = logic.check_answer(question, value)
            other = logic.check_other(question, clean, raw.get(f"{question.id}.other"))
        except Invalid as exc:
            problems.extend(exc.problems)
            continue
        merged[question.id] = clean  # None: seen and skipped, so resume moves past it
        if other is not None:
            merged[f"{question.id}.other"] = other
    if problems:
        raise Invalid(problems)
    return merged


def _store(
    session: Session, respondent: Respondent, answers: dict[str, Any], now: dt.datetime
) -> SurveyResponse:
    response = respondent.response
    if response is None:
        response = SurveyResponse(
            survey_id=respondent.survey_id,
            version=respondent.version,
            distribution_id=respondent.distribution_id,
            invitation_id=respondent.invitation_id,
            session_key=respondent.session_key if respondent.invitation_id is None else None,
            language=respondent.language or respondent.definition.default_language,
            answers={},
            status="partial",
            step=0,
            started_at=now,
            **respondent.ids,
        )
        session.add(response)
        respondent.response = response
    response.answers = answers
    response.step = (response.step or 0) + 1
    response.updated_at = now
    return response


def _complete(
    session: Session, respondent: Respondent, response: SurveyResponse, now: dt.datetime
) -> None:
    """Completed: the clean answers, one ``survey_answers`` row each, and into the outbox."""
    edited = response.status == "completed"
    response.answers = {k: v for k, v in response.answers.items() if v is not None}
    response.status = "completed"
    response.completed_at = now
    response.feedback_id = None  # (again) waiting for ingest: an edit updates the feedback row
    response.ingest_error = None
    session.flush()
    if edited:
        session.execute(delete(SurveyAnswer).where(SurveyAnswer.response_id == response.id))
    rows = answer_values(respondent.definition, response)
    if rows:  # one executemany, without a unit-of-work object per row
        session.execute(insert(SurveyAnswer).execution_options(render_nulls=True), rows)


__all__ = [
    "LinkRefused",
    "Page",
    "Respondent",
    "Saved",
    "ingest_pending",
    "new_session_key",
    "open_anonymous",
    "open_invitation",
    "page",
    "save",
    "valid_session_key",
    "visible_questions",
    "warm_text_engine",
]
