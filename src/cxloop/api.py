"""The Python entry point: a ``Store`` bound to one database, and imports into it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from cxloop.config import Settings, get_settings
from cxloop.db import migrate
from cxloop.db.session import make_engine, make_session_factory
from cxloop.ingest import service as ingest_service
from cxloop.ingest.fields import DateOrder
from cxloop.ingest.schemas import ImportSummary


@dataclass
class Store:
    """One cxloop database: settings, engine and session factory, created and upgraded."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]

    def counts(self) -> dict[str, Any]:
        with self.sessions() as session:
            return ingest_service.store_counts(session=session)

    def close(self) -> None:
        self.engine.dispose()


def connect(
    database_url: str | None = None, *, settings: Settings | None = None, upgrade: bool = True
) -> Store:
    """Open (and by default create or upgrade) the store at ``database_url``.

    >>> store = connect("sqlite://")
    >>> store.counts()["rows"]["feedback"]
    0
    """
    settings = settings or get_settings()
    if database_url:
        settings = settings.model_copy(update={"database_url": database_url})
    engine = make_engine(settings)
    if upgrade:
        migrate.upgrade(engine)
    return Store(settings, engine, make_session_factory(engine))


def import_file(
    store: Store,
    kind: str,
    path: str | Path,
    *,
    mapping: str | Path | None = None,
    encoding: str | None = None,
    defaults: dict[str, str] | None = None,
    overrides: dict[str, str] | None = None,
    date_order: DateOrder | None = None,
) -> ImportSummary:
    """Import a CSV/XLSX/XLS/JSONL/Parquet file of ``kind``; bad rows are quarantined, not
    lost. ``defaults`` fill blanks (``--set``), ``overrides`` replace values (``--force-set``)."""
    with store.sessions() as session:
        return ingest_service.import_file(
            session=session,
            settings=store.settings,
            kind=kind,
            path=Path(path),
            mapping_path=Path(mapping) if mapping else None,
            encoding=encoding,
            defaults=defaults,
            overrides=overrides,
            date_order=date_order,
        )


def import_records(store: Store, kind: str, records: list[dict[str, Any]]) -> ImportSummary:
    """Import rows given as dictionaries, through the same validation as files."""
    with store.sessions() as session:
        return ingest_service.import_records(
            session=session,
            settings=store.settings,
            kind=kind,
            records=records,
            source_name="python",
        )
