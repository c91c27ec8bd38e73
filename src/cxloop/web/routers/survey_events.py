"""Events that trigger surveys: posted by other systems, and the standing distributions that
listen to them (``cxloop surveys on``)."""

from __future__ import annotations

from fastapi import APIRouter, status

from cxloop.db.base import utcnow
from cxloop.surveys import triggers
from cxloop.surveys.trigger_schemas import EventResult, SurveyEventIn, TriggerCreate, TriggerRead
from cxloop.web.deps import Importer, Reader, SessionDep, SettingsDep, SurveyManager

router = APIRouter(prefix="/api/v1/surveys", tags=["surveys"])


@router.post("/events", response_model=EventResult, status_code=status.HTTP_202_ACCEPTED)
def post_event(
    event_in: SurveyEventIn, session: SessionDep, settings: SettingsDep, _user: Importer
) -> EventResult:
    """An event for the triggers listening to it (``api:<event>`` and the built-in one of the
    same name): each schedules invitations at the event's time plus its delay. Posting the
    same ``event_id`` again schedules nothing new; events older than a trigger are not
    surveyed by it."""
    return triggers.post_event(session=session, settings=settings, event_in=event_in, now=utcnow())


@router.get("/triggers", response_model=list[TriggerRead])
def list_triggers(
    session: SessionDep, _user: Reader, survey: str | None = None
) -> list[TriggerRead]:
    """Standing distributions sent after events, with their events and invitations by status."""
    return triggers.list_all(session=session, survey_id=survey)


@router.post("/triggers", response_model=TriggerRead, status_code=status.HTTP_201_CREATED)
def create_trigger(
    trigger_in: TriggerCreate, session: SessionDep, settings: SettingsDep, user: SurveyManager
) -> TriggerRead:
    """Send ``survey_id`` ``delay_hours`` after each ``event`` from now on."""
    return triggers.create(
        session=session, trigger_in=trigger_in, created_by=user.username, settings=settings
    )
