"""Load the demo company through the same import path a user's files take."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from cxloop.config import Settings
from cxloop.demo.generator import DemoConfig, generate_company, write_files
from cxloop.ingest import service as ingest_service
from cxloop.ingest.schemas import ImportSummary

IMPORT_ORDER = (
    "accounts",
    "contacts",
    "projects",
    "milestones",
    "customers",
    "orders",
    "events",
    "subscriptions",
    "feedback",
)
"""Feedback last so most of it links on arrival; the rest would link later anyway."""


def load_demo(
    *,
    sessions: sessionmaker[Session],
    settings: Settings,
    folder: Path,
    config: DemoConfig | None = None,
    on_import: Callable[[ImportSummary], None] | None = None,
) -> list[ImportSummary]:
    """Generate the demo company into ``folder`` as files and import every file."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = write_files(generate_company(config or DemoConfig()), folder)
    return import_files(sessions=sessions, settings=settings, paths=paths, on_import=on_import)


def import_files(
    *,
    sessions: sessionmaker[Session],
    settings: Settings,
    paths: Mapping[str, Path],
    on_import: Callable[[ImportSummary], None] | None = None,
) -> list[ImportSummary]:
    """Import the demo files ``paths`` holds (kind → file), in ``IMPORT_ORDER``."""
    summaries = []
    for kind in (k for k in IMPORT_ORDER if k in paths):
        with sessions() as session:
            summary = ingest_service.import_file(
                session=session, settings=settings, kind=kind, path=paths[kind]
            )
        summaries.append(summary)
        if on_import:
            on_import(summary)
    return summaries
