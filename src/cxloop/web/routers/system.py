"""Health and the overview numbers."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import text

from cxloop.ingest import service as ingest_service
from cxloop.web.deps import Reader, SessionDep

router = APIRouter()


@router.get("/healthz", tags=["system"])
def healthz(session: SessionDep) -> dict[str, str]:
    """Liveness and database reachability; needs no token."""
    session.execute(text("SELECT 1"))
    return {"status": "ok"}


@router.get("/api/v1/overview", tags=["system"])
def overview(session: SessionDep, _: Reader) -> dict[str, Any]:
    """What is loaded: rows per kind, feedback per channel, links, quarantine."""
    return ingest_service.store_counts(session=session)
