"""The demo customers' follow-up answers, given the way a customer gives them: the follow-up is
sent through ``loop.followup`` (channel ``csv``: the links come back instead of a mail), the
customer opens the personal link and answers the one question through ``surveys.responses``,
and ``loop.followup`` records the answer (verify or reopen) or, with no answer in time, closes
the case unverified. So the demo's verified, reopened and closed-unverified cases carry real
follow-up rows, and loop health shows a verification rate.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.loop import followup
from cxloop.loop.followup_survey import QUESTION_ID, SURVEY_ID
from cxloop.surveys import distribution_reads, responses


def ask(*, session: Session, settings: Settings, case_id: int, at: dt.datetime) -> str | None:
    """Send the case's follow-up at ``at`` (the moment it was resolved); its link's token, or
    None when nobody can be asked (a community post without a customer: ``not_sent``)."""
    followup.send_due(session=session, settings=settings, now=at, channel="csv")
    rows = followup.list_followups(session=session, case_id=case_id, limit=1)
    if not rows or rows[0].outcome != "pending" or rows[0].invitation_id is None:
        return None
    name = f"case {case_id} follow-up {rows[0].round}"
    sent = [
        d
        for d in distribution_reads.list_for(
            session=session, settings=settings, survey_id=SURVEY_ID
        )
        if d.name == name
    ]
    links = distribution_reads.links(
        session=session,
        settings=settings,
        distribution_id=sent[0].id,
        now=at.astimezone(dt.UTC).replace(tzinfo=None),  # stored times are naive UTC
    )
    return links[0].link.rsplit("/", 1)[-1]


def answer(
    *, session: Session, settings: Settings, token: str, score: int, at: dt.datetime
) -> dict[str, int]:
    """The customer answers ``score`` on the form at ``at``; the follow-up step records it."""
    respondent = responses.open_invitation(session=session, settings=settings, token=token, now=at)
    responses.save(
        session=session,
        respondent=respondent,
        rev=respondent.rev,
        raw={QUESTION_ID: str(score)},
        page_ids=None,
        now=at,
    )
    return followup.record_answers(session=session, settings=settings, now=at)


def expire(*, session: Session, settings: Settings, at: dt.datetime) -> dict[str, int]:
    """No answer came: the follow-up step closes what is past its due time at ``at``."""
    followup.record_answers(session=session, settings=settings, now=at)
    return followup.close_expired(session=session, settings=settings, now=at)
