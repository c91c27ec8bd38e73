"""What every command needs: settings, an upgraded store, and a committed unit of work.

The database stack (SQLAlchemy, the store, pandas behind it) loads when a command first asks for
a store, not when a command module imports this one: ``--help`` and option errors stay fast.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console

from cxloop.errors import NotFound

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from cxloop.api import Store
    from cxloop.config import Settings

console = Console()
errors = Console(stderr=True)


def open_store() -> Store:
    """The store of ``CXLOOP_DATABASE_URL``, created or upgraded as needed."""
    from cxloop.api import connect
    from cxloop.config import get_settings

    return connect(settings=get_settings())


def existing_store() -> Store:
    """The store of ``CXLOOP_DATABASE_URL`` when it exists (upgraded as needed): for commands
    that read or analyse, a SQLite file that isn't there is an error, never an empty store
    created on the way as ``open_store`` would."""
    from cxloop.api import connect

    return connect(settings=require_store())


def require_store() -> Settings:
    """The settings, once ``CXLOOP_DATABASE_URL`` names a store that exists (``NotFound``
    otherwise); loads no database stack, so a command can refuse before its analysis code."""
    from sqlalchemy.engine import make_url

    from cxloop.config import get_settings

    settings = get_settings()
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        database = url.database or ""
        if database in ("", ":memory:") or not Path(database).is_file():
            where = Path(database).resolve() if database not in ("", ":memory:") else "memory"
            raise NotFound(
                f"no cxloop store at {where} (CXLOOP_DATABASE_URL={settings.database_url}): "
                "point CXLOOP_DATABASE_URL at a store, e.g. "
                "sqlite:///cxloop-demo/demo.db after `cxloop demo`"
            )
    return settings


@contextmanager
def unit_of_work(store: Store) -> Iterator[Session]:
    from cxloop.db.session import session_scope

    with session_scope(store.sessions) as session:
        yield session
