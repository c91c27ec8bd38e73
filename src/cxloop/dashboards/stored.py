"""Stored results of the dashboards' slow views (model fits), so a page answers in milliseconds
and its numbers are still the fit's own.

A result is stored under (view, hash of its normalised parameters, data version). The data
version fingerprints what the fits read: the analytics snapshot's signature when analytics read
the snapshot, else the store's (per table: rows and last change, the same facts the snapshot's
refresh compares). Any import, delete, re-enrichment or taxonomy change moves the version, so a
stored result of older data is never read again: the next request fits anew, stores that, and
prunes the view's results of other versions.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections.abc import Callable, Mapping
from functools import cache
from importlib import metadata
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy import delete, func, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.dashboards.models import DashboardResult
from cxloop.db.base import utcnow
from cxloop.engines.snapshot import read_state
from cxloop.engines.snapshot_refresh import database_label
from cxloop.metrics.filters import Scope

RESULT_FORMAT = 1
"""Part of every parameters hash: raise it when a view's stored payload would differ from what
the code now computes (a new field, a changed method), so older rows are never read."""
KEEP_PER_VIEW = 200
"""Stored results kept per view (the newest); older parameter sets are fitted again if asked."""

SIGNATURE_SQL = {
    "feedback": "count(*), max(updated_at)",
    "feedback_text": "count(*), max(enriched_at)",
    "feedback_topic": "count(*), count(DISTINCT topic)",
    "customers": "count(*), max(updated_at)",
    "accounts": "count(*), max(updated_at)",
    "contacts": "count(*), max(updated_at)",
    "orders": "count(*), max(updated_at)",
    "subscriptions": "count(*), max(updated_at)",
    "events": "count(*), max(updated_at)",
    "churn_scores": "count(*), max(scored_at)",
    "churn_models": "count(*), max(id)",
}
"""What tells a changed table in the store: every table the drivers and outcomes fits read,
directly or through a ``where`` filter. Re-analysed text is rewritten with a new ``enriched_at``
(topics with it), so the topics need no scan of their mentions; a taxonomy re-applied without
changing any topic only relabels ``taxonomy_version``, which no fit reads. On SQLite this costs
~10 ms on the demo store and ~0.8 s at a million answers (``enriched_at`` has no index): at that
size analytics read the snapshot, whose signature is read from its state file instead."""

Model = TypeVar("Model", bound=BaseModel)


class Computed(BaseModel):
    """When and how long the fit behind a section took, and whether this answer read it from
    the stored results (``stored``) or fitted it now."""

    model_config = ConfigDict(frozen=True)

    computed_at: dt.datetime
    seconds: float
    stored: bool
    data_version: str


def _hash(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def _store_signature(session: Session) -> dict[str, list[str]]:
    """Rows and last change of each table, in one statement (a few ms on the demo store)."""
    selects = [
        f"(SELECT {column} FROM {table}) AS {table}_{i}"
        for table, columns in SIGNATURE_SQL.items()
        for i, column in enumerate(columns.split(", "))
    ]
    with session.no_autoflush:  # see ``stored_or_computed``: reads never flush
        values = iter(session.execute(text("SELECT " + ", ".join(selects))).one())
    return {
        table: [_plain(next(values)) for _ in columns.split(", ")]
        for table, columns in SIGNATURE_SQL.items()
    }


def _plain(value: Any) -> str:
    return "" if value is None else str(value)


def data_version(session: Session, settings: Settings) -> str:
    """The fingerprint of the data the fits read now: the snapshot's signature when analytics
    read the snapshot (free: its state file), else the store's tables' rows and last changes."""
    state = read_state(settings.analytics_snapshot_dir)
    if state is not None and state.database == database_label(settings):
        basis: dict[str, Any] = {"snapshot": state.signature}
    else:
        basis = {"store": _store_signature(session)}
    return _hash(basis)[:32]


def scope_params(scope: Scope) -> dict[str, Any]:
    """A scope as parameters that hash alike however the URL ordered its conditions."""
    return {
        "since": scope.since.isoformat() if scope.since else None,
        "until": scope.until.isoformat() if scope.until else None,
        "where": sorted([list(pair) for pair in scope.where]),
    }


@cache
def _release() -> str:
    """cxloop's installed version: a new release fits again rather than trust older rows."""
    try:
        return metadata.version("cxloop")
    except metadata.PackageNotFoundError:
        return "unknown"


def params_key(view: str, params: Mapping[str, Any]) -> tuple[str, str]:
    """The hash a result is stored under, and the normalised parameters as JSON text."""
    normal = {"view": view, "format": RESULT_FORMAT, "cxloop": _release(), **params}
    as_text = json.dumps(normal, sort_keys=True, default=str)
    return hashlib.sha256(as_text.encode()).hexdigest(), as_text


def lookup(
    session: Session, view: str, key: str, version: str, model: type[Model]
) -> tuple[Model, DashboardResult] | None:
    """The stored result for (view, key, version), or None. A row that no longer parses as
    ``model`` (stored by another version of cxloop) is removed and counts as missing."""
    row = session.scalar(
        select(DashboardResult).where(
            DashboardResult.view == view,
            DashboardResult.params_key == key,
            DashboardResult.data_version == version,
        )
    )
    if row is None:
        return None
    try:
        return model.model_validate_json(row.payload), row
    except ValidationError:
        session.delete(row)  # flushed with the new result's insert
        return None


def store(
    session: Session,
    *,
    view: str,
    key: str,
    params: str,
    version: str,
    payload: str,
    seconds: float,
    computed_at: dt.datetime,
) -> None:
    """Keep one result (a concurrent request that stored the same one first wins), then prune
    the view's results of other data versions and all but its newest ``KEEP_PER_VIEW``."""
    values = {
        "view": view,
        "params_key": key,
        "data_version": version,
        "params": params,
        "payload": payload,
        "seconds": seconds,
        "computed_at": computed_at,
    }
    dialect = session.get_bind().dialect.name
    insert: Any = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(DashboardResult).values(**values).on_conflict_do_nothing()
    session.execute(statement)
    session.execute(
        delete(DashboardResult).where(
            DashboardResult.view == view, DashboardResult.data_version != version
        )
    )
    kept = session.scalar(select(func.count()).where(DashboardResult.view == view)) or 0
    if kept > KEEP_PER_VIEW:
        newest = (
            select(DashboardResult.id)
            .where(DashboardResult.view == view)
            .order_by(DashboardResult.computed_at.desc(), DashboardResult.id.desc())
            .limit(KEEP_PER_VIEW)
        )
        session.execute(
            delete(DashboardResult).where(
                DashboardResult.view == view, DashboardResult.id.not_in(newest)
            )
        )
    session.flush()


def stored_or_computed(
    session: Session | None,
    *,
    view: str,
    params: Mapping[str, Any],
    version: str | None,
    model: type[Model],
    compute: Callable[[], Model],
) -> tuple[Model, Computed]:
    """The stored result of ``view`` for ``params`` at data ``version``, else ``compute()``
    stored for the next request. Without a session or a version it only computes.

    Reads never flush the session: a request's pending write (its token's last use) would
    take SQLite's write lock and hold it through a fit of seconds, stalling every other writer.
    """
    key, as_text = params_key(view, params)
    if session is not None and version is not None:
        try:
            with session.no_autoflush:
                found = lookup(session, view, key, version, model)
        except SQLAlchemyError:  # a store without the table (not upgraded): fit, keep nothing
            session.rollback()
            found, version = None, None
        if found is not None:
            result, row = found
            done = Computed(
                computed_at=row.computed_at, seconds=row.seconds, stored=True, data_version=version
            )
            return result, done
    started, at = time.perf_counter(), utcnow()
    result = compute()
    seconds = round(time.perf_counter() - started, 3)
    done = Computed(computed_at=at, seconds=seconds, stored=False, data_version=version or "")
    if session is not None and version is not None:
        try:
            store(
                session, view=view, key=key, params=as_text, version=version,
                payload=result.model_dump_json(), seconds=seconds, computed_at=at,
            )  # fmt: skip
        except SQLAlchemyError:
            session.rollback()
    return result, done
