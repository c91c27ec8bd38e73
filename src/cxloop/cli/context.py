"""What every command needs: settings, an upgraded store, and a committed unit of work."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from sqlalchemy.orm import Session

from cxloop.api import Store, connect
from cxloop.config import get_settings
from cxloop.db.session import session_scope

console = Console()
errors = Console(stderr=True)


def open_store() -> Store:
    """The store of ``CXLOOP_DATABASE_URL``, created or upgraded as needed."""
    return connect(settings=get_settings())


@contextmanager
def unit_of_work(store: Store) -> Iterator[Session]:
    with session_scope(store.sessions) as session:
        yield session
