"""One demo company per test session for the insights tests that read a real store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cxloop.api import connect
from cxloop.config import Settings
from cxloop.demo.service import load_demo


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """The default demo company in a SQLite file, text enriched on import (10–20 s).

    Tests only read it, except churn scoring, which adds rows no other test reads."""
    folder: Path = tmp_path_factory.mktemp("insights-demo")
    settings = Settings(database_url=f"sqlite:///{folder / 'cxloop.db'}", import_batch_size=1000)
    store = connect(settings=settings)
    try:
        load_demo(sessions=store.sessions, settings=settings, folder=folder / "files")
    finally:
        store.close()
    yield settings
