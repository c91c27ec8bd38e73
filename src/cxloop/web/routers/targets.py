"""Target lists: saved queries over voice and behaviour, previewed, refreshed and exported."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response, status

from cxloop.act import operations
from cxloop.act import service as act_service
from cxloop.act.schemas import (
    PushResult,
    RefreshResult,
    TargetListCreate,
    TargetListRead,
    TargetListSchedule,
    TargetPreview,
    TargetQuery,
)
from cxloop.privacy.models import User
from cxloop.privacy.roles import Permission, allows
from cxloop.web.deps import ListManager, Reader, SessionDep, SettingsDep

router = APIRouter(prefix="/api/v1/targets", tags=["targets"])


def _for(user: User, read: TargetListRead) -> TargetListRead:
    """Only those who manage lists see a webhook's full URL (it often holds a token)."""
    if read.webhook_url and not allows(user.role, Permission.manage_lists):
        return read.model_copy(update={"webhook_url": act_service.redact_url(read.webhook_url)})
    return read


@router.get("", response_model=list[TargetListRead])
def list_target_lists(session: SessionDep, user: Reader) -> list[TargetListRead]:
    """Every saved list with its size at the last refresh."""
    return [_for(user, r) for r in act_service.list_all(session=session)]


@router.post("", response_model=TargetListRead, status_code=status.HTTP_201_CREATED)
def create_target_list(
    list_in: TargetListCreate, session: SessionDep, settings: SettingsDep, user: ListManager
) -> TargetListRead:
    """Save a list; its members come with the first refresh. Segments, regions and topics
    not in the store are refused (422) with the closest stored values."""
    return act_service.create(
        session=session, list_in=list_in, created_by=user.username, settings=settings
    )


@router.post("/preview", response_model=TargetPreview)
def preview_target_list(
    query: TargetQuery, session: SessionDep, settings: SettingsDep, _user: Reader
) -> TargetPreview:
    """Who a query selects now, condition by condition, and the churn models behind the risks;
    nothing is saved."""
    return act_service.preview(settings=settings, query=query, session=session)


@router.get("/{name}", response_model=TargetListRead)
def read_target_list(name: str, session: SessionDep, user: Reader) -> TargetListRead:
    return _for(user, act_service.get(session=session, name=name))


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT)
def delete_target_list(name: str, session: SessionDep, _user: ListManager) -> Response:
    act_service.remove(session=session, name=name)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{name}/refresh", response_model=RefreshResult)
def refresh_target_list(
    name: str, session: SessionDep, settings: SettingsDep, _user: ListManager
) -> RefreshResult:
    """Re-run the query, store the members, push them to the list's webhook if it has one."""
    return act_service.refresh(session=session, settings=settings, name=name)


@router.put("/{name}/schedule", response_model=TargetListRead)
def schedule_target_list(
    name: str, schedule_in: TargetListSchedule, session: SessionDep, _user: ListManager
) -> TargetListRead:
    """Set how often the list refreshes (``refresh_hours``) and its webhook; null clears."""
    return operations.schedule(session=session, name=name, schedule_in=schedule_in)


@router.post("/{name}/push", response_model=PushResult)
def push_target_list(name: str, session: SessionDep, _user: ListManager) -> PushResult:
    """Send the members of the last refresh to the list's webhook again (no re-run); a
    failed delivery is said in ``push_error``."""
    return operations.push(session=session, name=name)


@router.get("/{name}/members")
def read_members(
    name: str,
    session: SessionDep,
    _user: Reader,
    format: Annotated[Literal["json", "csv"], Query()] = "json",
) -> Response:
    """The stored members (ids and non-personal facts) as JSON records or CSV."""
    frame = act_service.members(session=session, name=name)
    if format == "csv":
        return Response(act_service.to_csv(frame), media_type="text/csv; charset=utf-8")
    return Response(
        frame.to_json(orient="records", force_ascii=False), media_type="application/json"
    )
