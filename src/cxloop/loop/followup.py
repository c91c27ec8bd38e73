"""The follow-up that verifies a fix: a resolved case's customer is asked "was your problem
solved?" (0–10) through the survey machinery; a satisfied answer verifies the case, an
unsatisfied one reopens it, no answer within ``loop_followup_days`` closes it unverified.

Three idempotent steps the job ``loop.followups`` runs (each only flushes; the caller commits):
``record_answers`` (completed answers → verify or reopen; invitations skipped or bounced → not
sent), ``close_expired``, and last ``send_due`` (one follow-up per case and resolution round,
claimed by the unique ``(case_id, round)`` index before the mail goes out): a mail cannot be
unsent, so no later step's failure may roll back the record that it went out.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Literal

from pydantic import BaseModel, ConfigDict
from sqlalchemy import and_, exists, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.errors import Invalid
from cxloop.feedback.models import Feedback
from cxloop.loop import case_actions
from cxloop.loop import followup_survey as survey
from cxloop.loop.case_reads import naive, utc
from cxloop.loop.models import Case, CaseFollowup
from cxloop.loop.policy import sla_policy
from cxloop.loop.states import SYSTEM
from cxloop.surveys import audiences, distribution, sending
from cxloop.surveys.distribution_schemas import Audience, DistributionCreate, RecipientIn
from cxloop.surveys.models import Invitation, SurveyResponse

FollowupChannel = Literal["email", "csv"]
BATCH = 500
"""Cases (or follow-ups) one step handles per run; the next run takes the rest."""
SEND_COUNTS = (
    "sent",
    "not_sent",
    "waiting_quiet_hours",
    "no_mail_server",
    "failed",
    "taken",
    "survey_archived",
)
ANSWER_COUNTS = ("verified", "reopened", "late", "unreadable", "not_sent")
CLOSE_COUNTS = ("closed_unverified", "withdrawn")


def _counts(names: tuple[str, ...], found: Counter[str]) -> dict[str, int]:
    return {name: found[name] for name in names}


# --- send_due ----------------------------------------------------------------------------------


def due_cases(session: Session, limit: int = BATCH) -> list[Case]:
    """Resolved cases without a follow-up for their current round (``reopen_count + 1``)."""
    asked = exists().where(
        and_(CaseFollowup.case_id == Case.id, CaseFollowup.round == Case.reopen_count + 1)
    )
    return list(
        session.scalars(
            select(Case).where(Case.status == "resolved", ~asked).order_by(Case.id).limit(limit)
        )
    )


def _person(session: Session, case: Case) -> tuple[RecipientIn | None, str | None, str]:
    """Whom the follow-up asks: the case's contact (B2B) or customer, else its feedback's; the
    feedback author's e-mail as a fallback address; and who that is, in words."""
    feedback = session.get(Feedback, case.origin_feedback_id) if case.origin_feedback_id else None
    contact_id = case.contact_id or (feedback.contact_id if feedback else None)
    customer_id = case.customer_id or (feedback.customer_id if feedback else None)
    email = feedback.author_email if feedback else None
    if contact_id:
        who = f"contact {contact_id}"
    elif customer_id:
        who = f"customer {customer_id}"
    else:
        who = "the feedback's author"
    if not (contact_id or customer_id):
        return None, email, who
    return RecipientIn(customer_id=customer_id, contact_id=contact_id), email, who


def _reachable(
    session: Session, case: Case, channel: FollowupChannel = "email"
) -> tuple[RecipientIn | None, distribution.Recipient | None, str]:
    """The recipient to send to and the store's view of them, or None and why nobody (by
    e-mail: nobody without an address)."""
    person, fallback, who = _person(session, case)
    if person is None and fallback is None:
        why = "an account but no contact" if case.account_id else "no customer, contact or e-mail"
        return None, None, f"the case names {why}"
    if person is None:
        person = RecipientIn(email=fallback)
    audience = Audience(kind="recipients", recipients=[person])
    (resolved,) = audiences.resolve(session, audience).recipients
    if distribution.normalise_email(resolved.email) is None and fallback:
        person = person.model_copy(update={"email": fallback})
        (resolved,) = audiences.resolve(
            session, Audience(kind="recipients", recipients=[person])
        ).recipients
    if channel == "email" and distribution.normalise_email(resolved.email) is None:
        return None, None, f"{who} has no e-mail address"
    return person, resolved, who


def _claim(session: Session, case: Case, round_: int, now: dt.datetime, days: int) -> CaseFollowup:
    """The follow-up row, flushed inside a savepoint: a second runner's insert of the same
    (case, round) fails on the unique index and sends nothing."""
    row = CaseFollowup(
        case_id=case.id,
        round=round_,
        survey_id=survey.SURVEY_ID,
        due_at=naive(now + dt.timedelta(days=days)),
        outcome="pending",
        created_at=naive(now),
    )
    with session.begin_nested():
        session.add(row)
        session.flush()
    return row


def _not_sent(
    session: Session, row: CaseFollowup, case: Case, reason: str, now: dt.datetime
) -> None:
    row.outcome, row.reason = "not_sent", reason
    case_actions.event(
        session, case, "followup_not_sent", SYSTEM, now, followup_id=row.id, round=row.round,
        reason=reason,
    )  # fmt: skip


def _uncapped(settings: Settings) -> Settings:
    """The send's settings: the survey fatigue caps do not hold back a case's own follow-up (the
    customer just spoke to us, and likely answered the survey that opened the case); opt-outs,
    bounces and consent do; quiet hours are waited out by ``send_due`` before sending, so the
    invitation goes out at once and is never re-decided against the caps by the survey tick."""
    return settings.model_copy(
        update={
            "survey_cap_contact_days": 0,
            "survey_cap_account_days": 0,
            "survey_quiet_hours": "",
        }
    )


def send_due(
    *, session: Session, settings: Settings, now: dt.datetime, channel: FollowupChannel = "email"
) -> dict[str, int]:
    """Ask the customer of every resolved case without a follow-up this round: one invitation
    to the ``case-followup`` survey by e-mail, due back in ``loop_followup_days``. Nobody to
    reach (no customer, no e-mail, opted out, bounced) → the follow-up is ``not_sent`` with the
    reason and the case stays resolved (a lead may close it). Inside the quiet hours (in the
    recipient's zone) or without a mail server nothing is recorded: the next run sends.

    ``channel="csv"``: no mail; the links are handed to the caller, who delivers them its own
    way (``cxloop surveys links``; the demo answers them itself)."""
    at = utc(now)
    found: Counter[str] = Counter()
    cases = due_cases(session)
    if not cases:
        return _counts(SEND_COUNTS, found)
    if not survey.ensure(session):
        found["survey_archived"] = len(cases)
        return _counts(SEND_COUNTS, found)
    if channel == "email" and not settings.smtp_host:  # nothing to decide until there is one
        found["no_mail_server"] = len(cases)
        return _counts(SEND_COUNTS, found)
    days = settings.loop_followup_days
    for case in cases:
        round_ = case.reopen_count + 1
        person, resolved, why = _reachable(session, case, channel)
        if person is None or resolved is None:
            try:
                row = _claim(session, case, round_, at, days)
            except IntegrityError:
                found["taken"] += 1
                continue
            _not_sent(session, row, case, why, at)
            found["not_sent"] += 1
            continue
        zone = distribution.timezone_of(resolved, settings.timezone)
        quiet = settings.survey_quiet_hours if channel == "email" else ""
        if distribution.quiet_until(naive(at), zone, quiet):
            found["waiting_quiet_hours"] += 1
            continue
        try:
            row = _claim(session, case, round_, at, days)
        except IntegrityError:
            found["taken"] += 1
            continue
        found[_send(session, settings, case, row, (person, why, channel), at)] += 1
    session.flush()
    return _counts(SEND_COUNTS, found)


def _send(
    session: Session,
    settings: Settings,
    case: Case,
    row: CaseFollowup,
    recipient: tuple[RecipientIn, str, FollowupChannel],
    at: dt.datetime,
) -> str:
    """Send one follow-up's invitation to (person, who in words, channel); what became of it
    (sent, not_sent or failed)."""
    person, who, channel = recipient
    result = sending.send(
        session=session,
        settings=_uncapped(settings),
        survey_id=survey.SURVEY_ID,
        request=DistributionCreate(
            audience=Audience(kind="recipients", recipients=[person]),
            channel=channel,
            expires_days=settings.loop_followup_days,
            reminders=0,
            name=f"case {case.id} follow-up {row.round}",
        ),
        now=naive(at),
        created_by=survey.CREATED_BY,
    )
    invitation = session.scalar(
        select(Invitation).where(Invitation.distribution_id == result.distribution_id).limit(1)
    )
    row.invitation_id = invitation.id if invitation is not None else None
    reason = _undeliverable(invitation, who)
    if reason is not None:
        _not_sent(session, row, case, reason, at)
        return "not_sent"
    assert invitation is not None  # _undeliverable says why when there is none
    if invitation.status == "sent":
        row.sent_at = invitation.sent_at
        case_actions.event(
            session, case, "followup_sent", SYSTEM, at, followup_id=row.id, round=row.round,
            survey=survey.SURVEY_ID, invitation_id=invitation.id,
            due_at=row.due_at.isoformat(timespec="seconds"),
        )  # fmt: skip
        return "sent"
    # the mail server did not take it: the invitation stays scheduled and the survey tick
    # retries it; record_answers notes when it went out (or was refused)
    error = "; ".join(result.errors) or "no reason given"
    row.reason = f"the mail server did not take it ({error}): the survey tick retries"[:2000]
    return "failed"


def _undeliverable(invitation: Invitation | None, who: str) -> str | None:
    if invitation is None:
        return f"no invitation could be made for {who}"
    if invitation.status == "skipped":
        return f"the invitation to {who} was skipped: {invitation.skip_reason}"
    if invitation.status == "bounced":
        return f"the mail to {who} bounced: {invitation.bounce_reason or 'refused'}"
    return None


# --- record_answers ----------------------------------------------------------------------------


def record_answers(*, session: Session, settings: Settings, now: dt.datetime) -> dict[str, int]:
    """Completed follow-up answers: ``loop_followup_solved_from`` (7) or more verifies the
    resolved case, less reopens it (back to its owner, the resolution clock restarted). An
    answer that comes after the case was closed unverified (or moved on by hand) is recorded on
    the follow-up and changes nothing: a closed case is not reopened by a late answer. Also
    notes invitations that went out late (a mail server that was down) or were refused."""
    at = utc(now)
    found: Counter[str] = Counter()
    _sync_invitations(session, at, found)
    answered = session.execute(
        select(CaseFollowup, SurveyResponse)
        .join(SurveyResponse, SurveyResponse.invitation_id == CaseFollowup.invitation_id)
        .where(
            CaseFollowup.answered_at.is_(None),
            CaseFollowup.outcome.in_(("pending", "closed_unverified", "withdrawn")),
            SurveyResponse.status == "completed",
        )
        .order_by(CaseFollowup.id)
        .limit(BATCH)
    ).all()
    for row, response in answered:
        score = survey.score_of(response.answers)
        if score is None:  # recorded once (not looked at again each run); the window still ends
            row.answered_at, row.response_id = response.completed_at or naive(at), response.id
            row.reason = "answered without a 0–10 score: no verdict, the window still runs"
            found["unreadable"] += 1
            continue
        found[_answer(session, settings, row, response, score, at)] += 1
    session.flush()
    return _counts(ANSWER_COUNTS, found)


def _answer(
    session: Session,
    settings: Settings,
    row: CaseFollowup,
    response: SurveyResponse,
    score: int,
    at: dt.datetime,
) -> str:
    solved = score >= settings.loop_followup_solved_from
    row.answered_at = response.completed_at or naive(at)
    row.score, row.solved, row.response_id = float(score), solved, response.id
    case = session.get(Case, row.case_id)
    if case is None:  # deleted with its follow-ups by the cascade; for the type checker
        return "late"
    answered = {"followup_id": row.id, "round": row.round, "score": score, "solved": solved}
    current = case.status == "resolved" and case.reopen_count + 1 == row.round
    if row.outcome != "pending" or not current:
        if case.status in ("closed_unverified", "closed", "verified"):
            effect = "the case is not reopened by a late answer"
        else:  # moved on by hand, or resolved again: a newer follow-up asks about that
            effect = "it answers an earlier round and changes nothing"
        row.reason = f"answered {score} after the case was {case.status}: recorded, {effect}"
        if row.outcome == "pending":  # moved on by hand before close_expired could withdraw it
            row.outcome = "withdrawn"
        case_actions.event(session, case, "followup_answered", SYSTEM, at, **answered, late=True)
        return "late"
    case_actions.event(session, case, "followup_answered", SYSTEM, at, **answered)
    if solved:
        case_actions.verify(
            session=session, case_id=case.id, actor=SYSTEM, now=at,
            evidence=f"follow-up {row.id} (round {row.round}): the customer answered {score}",
        )  # fmt: skip
        row.outcome = "verified"
        return "verified"
    case_actions.reopen(
        session=session, case_id=case.id, actor=SYSTEM, now=at,
        reason=f"the customer answered {score}: not solved", policy=sla_policy(settings),
    )  # fmt: skip
    row.outcome = "reopened"
    return "reopened"


def _sync_invitations(session: Session, at: dt.datetime, found: Counter[str]) -> None:
    """Pending follow-ups whose invitation was not sent at once: sent since (note when), or
    skipped or bounced on the retry (not sent, with the reason)."""
    rows = session.execute(
        select(CaseFollowup, Invitation)
        .join(Invitation, Invitation.id == CaseFollowup.invitation_id)
        .where(CaseFollowup.outcome == "pending", CaseFollowup.sent_at.is_(None))
        .limit(BATCH)
    ).all()
    for row, invitation in rows:
        case = session.get(Case, row.case_id)
        reason = _undeliverable(invitation, "the customer")
        if reason is not None and case is not None:
            _not_sent(session, row, case, reason, at)
            found["not_sent"] += 1
        elif invitation.sent_at is not None:
            row.sent_at, row.reason = invitation.sent_at, None


# --- close_expired -----------------------------------------------------------------------------


def close_expired(*, session: Session, settings: Settings, now: dt.datetime) -> dict[str, int]:
    """Pending follow-ups past their due time without an answer: the resolved case is closed
    unverified. A case someone moved on by hand meanwhile (reopened, closed) is left as it is
    and its follow-up ``withdrawn``. Run after ``record_answers``: an answer waiting to be
    recorded keeps its follow-up out of here (one recorded without a score does not)."""
    at = utc(now)
    found: Counter[str] = Counter()
    answered = exists().where(
        and_(
            SurveyResponse.invitation_id == CaseFollowup.invitation_id,
            SurveyResponse.status == "completed",
        )
    )
    rows = session.scalars(
        select(CaseFollowup)
        .where(
            CaseFollowup.outcome == "pending",
            CaseFollowup.due_at <= naive(at),
            or_(CaseFollowup.answered_at.is_not(None), ~answered),  # recorded without a score
        )
        .order_by(CaseFollowup.due_at, CaseFollowup.id)
        .limit(BATCH)
    ).all()
    for row in rows:
        case = session.get(Case, row.case_id)
        if case is None or case.status != "resolved" or case.reopen_count + 1 != row.round:
            row.outcome = "withdrawn"
            row.reason = f"the case was {case.status if case else 'deleted'} before an answer"
            found["withdrawn"] += 1
            continue
        case_actions.close_unverified(session=session, case_id=case.id, actor=SYSTEM, now=at)
        row.outcome = "closed_unverified"
        row.reason = f"no answer within {settings.loop_followup_days} days"
        found["closed_unverified"] += 1
    session.flush()
    return _counts(CLOSE_COUNTS, found)


def run(*, session: Session, settings: Settings, now: dt.datetime) -> dict[str, int]:
    """The three steps, sending last (what ``cxloop cases followups --run`` does), counts
    merged."""
    found = {
        step: step(session=session, settings=settings, now=now)
        for step in (record_answers, close_expired, send_due)
    }
    counts: dict[str, int] = {}
    for step in (send_due, record_answers, close_expired):  # shown as a case lives them
        for name, value in found[step].items():
            counts[name] = counts.get(name, 0) + value
    return counts


# --- reads -------------------------------------------------------------------------------------


class FollowupRead(BaseModel):
    """A follow-up as stored, with its case's status now (times in UTC)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    case_id: int
    round: int
    outcome: str
    case_status: str
    survey_id: str | None
    invitation_id: int | None
    response_id: int | None
    sent_at: dt.datetime | None
    due_at: dt.datetime
    answered_at: dt.datetime | None
    score: float | None
    solved: bool | None
    reason: str | None


OUTCOMES = ("pending", "verified", "reopened", "closed_unverified", "not_sent", "withdrawn")


def list_followups(
    *,
    session: Session,
    case_id: int | None = None,
    outcome: str | None = None,
    limit: int = 50,
) -> list[FollowupRead]:
    """Follow-ups, newest first; of one case, or with one outcome."""
    if outcome is not None and outcome not in OUTCOMES:
        raise Invalid(f"is not a follow-up outcome ({', '.join(OUTCOMES)})", "outcome", outcome)
    query = (
        select(CaseFollowup, Case.status)
        .join(Case, Case.id == CaseFollowup.case_id)
        .order_by(CaseFollowup.id.desc())
        .limit(limit)
    )
    if case_id is not None:
        query = query.where(CaseFollowup.case_id == case_id)
    if outcome is not None:
        query = query.where(CaseFollowup.outcome == outcome)
    return [
        FollowupRead.model_validate(
            {**{c: getattr(row, c) for c in FollowupRead.model_fields if c != "case_status"},
             "case_status": status}
        )
        for row, status in session.execute(query)
    ]  # fmt: skip
