"""Reports over the API: any view exported as CSV/XLSX with the view's own filters, the
overview report as HTML or PDF, and scheduled e-mailed reports (manage_lists: admin, analyst).

A download is rendered with the caller's masking: a viewer's file holds what the viewer's page
shows, never more.
"""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from cxloop.reports import service as reports_service
from cxloop.reports.schemas import ScheduleCreate, ScheduleRead
from cxloop.web.deps import ListManager, Reader, SessionDep, SettingsDep

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])
NOT_FILTERS = frozenset({"lang", "table", "format", "sections"})
"""Query parameters of the download itself, not of the view (an export keeps ``lang``: the
topics view names its topics in it)."""


def view_query(request: Request, keep: frozenset[str] = frozenset()) -> str:
    """The request's query string without the download's own parameters but ``keep``
    (repeats kept)."""
    dropped = NOT_FILTERS - keep
    pairs = [(k, v) for k, v in request.query_params.multi_items() if k not in dropped]
    return urlencode(pairs)


def download(found: reports_service.ReportFile, inline: bool = False) -> Response:
    kind = "inline" if inline else "attachment"
    disposition = f"{kind}; filename*=UTF-8''{quote(found.filename)}"
    headers = {"Content-Disposition": disposition, "Cache-Control": "no-store"}
    return Response(found.content, media_type=found.media_type, headers=headers)


@router.get("/export/{view}.{fmt}", response_class=Response)
def export_view(
    request: Request, view: str, fmt: Literal["csv", "xlsx"], session: SessionDep,
    settings: SettingsDep, user: Reader,
    table: Annotated[str | None, Query(max_length=100, description="CSV: which table.")] = None,
) -> Response:  # fmt: skip
    """The view's result for the same query parameters as its page and API, as a file."""
    found = reports_service.export(
        session=session, settings=settings, view=view, fmt=fmt,
        query=view_query(request, keep=frozenset({"lang"})), role=user.role, table=table,
    )  # fmt: skip
    return download(found)


@router.get("/render", response_class=Response)
def render_report(
    request: Request, session: SessionDep, settings: SettingsDep, user: Reader,
    format: Annotated[Literal["html", "pdf"], Query()] = "html",
    lang: Annotated[Literal["zh", "en"], Query()] = "zh",
    sections: Annotated[list[str] | None, Query(max_length=3)] = None,
) -> Response:  # fmt: skip
    """The overview report (and chosen sections) for the filters in the query string."""
    found = reports_service.render(
        session=session, settings=settings, query=view_query(request), role=user.role,
        lang=lang, sections=sections or [], fmt=format,
    )  # fmt: skip
    return download(found, inline=format == "html")


@router.get("/schedules", response_model=list[ScheduleRead])
def list_schedules(session: SessionDep, user: ListManager) -> list[ScheduleRead]:
    """Scheduled reports (their recipients are addresses: list managers only)."""
    return reports_service.list_schedules(session=session)


@router.post("/schedules", response_model=ScheduleRead, status_code=201)
def create_schedule(
    schedule_in: ScheduleCreate, session: SessionDep, settings: SettingsDep, user: ListManager
) -> ScheduleRead:
    """Mail the report daily, weekly or monthly, rendered with ``role``'s masking."""
    return reports_service.create_schedule(
        session=session, schedule_in=schedule_in, created_by=user.username, settings=settings
    )


@router.delete("/schedules/{schedule_id}", status_code=204)
def remove_schedule(schedule_id: int, session: SessionDep, user: ListManager) -> Response:
    reports_service.remove_schedule(session=session, schedule_id=schedule_id)
    return Response(status_code=204)
