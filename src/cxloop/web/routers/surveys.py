"""Survey definitions: stored, versioned, checked; analysts and admins manage, viewers read.

A definition is sent as JSON, or as the YAML file itself (``Content-Type: application/yaml``).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response, status

from cxloop.errors import Invalid
from cxloop.surveys import definitions
from cxloop.surveys import service as surveys_service
from cxloop.surveys.schemas import SurveyCheck, SurveyRead, SurveyVersionRead
from cxloop.web.deps import Reader, SessionDep, SurveyManager

router = APIRouter(prefix="/api/v1/surveys", tags=["surveys"])
BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"type": "object"}},
            "application/yaml": {"schema": {"type": "string"}},
        },
    }
}


async def definition_body(request: Request) -> object:
    """The request body as data: YAML when the content type says so, JSON otherwise."""
    raw = await request.body()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Invalid("is not UTF-8 text", "body") from None
    kind = request.headers.get("content-type", "").lower()
    if "yaml" in kind or kind.startswith("text/"):
        return definitions.read_yaml(text, "body")
    try:
        return json.loads(text)
    except ValueError as exc:
        raise Invalid(f"is not valid JSON: {exc}", "body") from None
    except RecursionError:
        raise Invalid("is nested too deeply to be a survey", "body") from None


Definition = Annotated[object, Depends(definition_body)]


async def checked_body(request: Request) -> object:
    """The body as data, or the ``Invalid`` that names why it cannot be read: ``validate``
    answers unreadable YAML or JSON like any other problem (valid false, line and column)."""
    try:
        return await definition_body(request)
    except Invalid as exc:
        return exc


CheckedDefinition = Annotated[object, Depends(checked_body)]


@router.get("", response_model=list[SurveyRead])
def list_surveys(session: SessionDep, _user: Reader) -> list[SurveyRead]:
    """Every stored survey with its current version."""
    return surveys_service.list_all(session=session)


@router.post("", response_model=SurveyRead, status_code=201, openapi_extra=BODY)
def create_survey(
    data: Definition, session: SessionDep, user: SurveyManager, response: Response
) -> SurveyRead:
    """Store a definition: 201 with a new version when it changed, 200 when it is the same
    as the current version; 422 lists every problem by its path."""
    definition = definitions.parse_definition(data)
    saved = surveys_service.create(session=session, definition=definition, created_by=user.username)
    if not saved.changed:
        response.status_code = status.HTTP_200_OK
    return saved


@router.post("/validate", response_model=SurveyCheck, openapi_extra=BODY)
def validate_survey(data: CheckedDefinition, _user: Reader) -> SurveyCheck:
    """Check a definition without storing it: ``valid``, every problem, and warnings (200 even
    when the body is not valid YAML or JSON: that is a problem named by line and column)."""
    if isinstance(data, Invalid):
        return surveys_service.check_failed(data)
    return surveys_service.check(data)


@router.get("/{survey_id}", response_model=SurveyRead)
def read_survey(survey_id: str, session: SessionDep, _user: Reader) -> SurveyRead:
    return surveys_service.get(session=session, survey_id=survey_id)


@router.get("/{survey_id}/versions", response_model=list[SurveyVersionRead])
def list_versions(survey_id: str, session: SessionDep, _user: Reader) -> list[SurveyVersionRead]:
    """Every version, oldest first, each with its full definition."""
    return surveys_service.versions(session=session, survey_id=survey_id)


@router.get("/{survey_id}/versions/{version}", response_model=SurveyVersionRead)
def read_version(
    survey_id: str, version: int, session: SessionDep, _user: Reader
) -> SurveyVersionRead:
    return surveys_service.version_info(session=session, survey_id=survey_id, version=version)


@router.post("/{survey_id}/archive", response_model=SurveyRead)
def archive_survey(survey_id: str, session: SessionDep, _user: SurveyManager) -> SurveyRead:
    """Stop a survey: no new sends or answers; its versions and answers stay."""
    return surveys_service.archive(session=session, survey_id=survey_id)
