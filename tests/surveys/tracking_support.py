"""Survey rows for tracking, completeness and page tests, written straight into a real store:
a survey, distributions and invitations at chosen steps, as sending and answering leave them."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from sqlalchemy.orm import Session

from cxloop.surveys.models import Distribution, Invitation, Survey, SurveyResponse, SurveyVersion

NOW = dt.datetime(2026, 3, 10, 9, 0)
_ids = itertools.count(1)

DEFINITION: dict[str, Any] = {
    "id": "post-delivery",
    "title": {"zh": "配送体验调查", "en": "Delivery survey"},
    "questions": [
        {
            "id": "nps",
            "type": "nps",
            "required": True,
            "text": {
                "zh": "您向朋友推荐我们的可能性有多大？",
                "en": "How likely are you to recommend us?",
            },
        },
        {
            "id": "why",
            "type": "text",
            "show_if": "nps <= 6",
            "text": {"zh": "我们哪里做得不好？", "en": "What went wrong?"},
        },
    ],
}


def add_survey(session: Session, survey_id: str = "post-delivery", **changes: Any) -> Survey:
    definition = {**DEFINITION, "id": survey_id, **changes}
    survey = Survey(survey_id=survey_id, title=definition["title"], current_version=1)
    session.add(survey)
    session.flush()
    session.add(
        SurveyVersion(
            survey_id=survey_id, version=1, definition=definition, definition_hash="h" * 64
        )
    )
    session.flush()
    return survey


def add_distribution(
    session: Session, survey_id: str = "post-delivery", **fields: Any
) -> Distribution:
    values: dict[str, Any] = {
        "survey_id": survey_id,
        "version": 1,
        "audience_kind": "list",
        "audience": {},
        "channel": "email",
        "link_days": 14,
        "created_at": NOW,
    }
    values.update(fields)
    row = Distribution(**values)
    session.add(row)
    session.flush()
    return row


STEP_STAMPS = {
    "sent": ("sent_at",),
    "bounced": ("sent_at", "bounced_at"),
    "opened": ("sent_at", "delivered_at", "opened_at"),
    "started": ("sent_at", "delivered_at", "opened_at", "started_at"),
    "completed": ("sent_at", "delivered_at", "opened_at", "started_at", "completed_at"),
    "expired": ("sent_at", "delivered_at"),
}


def add_invitation(
    session: Session, distribution: Distribution, status: str, **fields: Any
) -> Invitation:
    """An invitation at ``status`` with the timestamps its way there leaves (``sent`` is also
    delivered for e-mail: SMTP accepted it)."""
    number = next(_ids)
    stamps = dict.fromkeys(STEP_STAMPS.get(status, ()), NOW)
    if status == "sent" and distribution.channel == "email":
        stamps["delivered_at"] = NOW
    values: dict[str, Any] = {
        "distribution_id": distribution.id,
        "survey_id": distribution.survey_id,
        "public_id": f"p{number:06d}",
        "context": {},
        "status": status,
        "account_id": distribution.account_id,
        **stamps,
    }
    values.update(fields)
    row = Invitation(**values)
    session.add(row)
    session.flush()
    if status == "completed":
        session.add(
            SurveyResponse(
                survey_id=distribution.survey_id,
                version=1,
                distribution_id=distribution.id,
                invitation_id=row.id,
                account_id=row.account_id,
                contact_id=row.contact_id,
                role=row.role,
                language="zh",
                answers={"nps": 9},
                status="completed",
                completed_at=NOW,
            )
        )
        session.flush()
    return row


def add_response(session: Session, distribution: Distribution, status: str) -> SurveyResponse:
    """A response without an invitation (an anonymous link), partial or completed."""
    row = SurveyResponse(
        survey_id=distribution.survey_id,
        version=1,
        distribution_id=distribution.id,
        session_key=f"k{next(_ids)}",
        language="en",
        answers={"nps": 3},
        status=status,
        completed_at=NOW if status == "completed" else None,
    )
    session.add(row)
    session.flush()
    return row
