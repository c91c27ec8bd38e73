"""One demo company per test session for the insights tests that read a real store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cxloop.api import connect
from cxloop.config import Settings
from cxloop.demo.service import load_demo
from tests.shared_build import build_once, copy_sqlite


def _build_demo(folder: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{folder / 'cxloop.db'}", import_batch_size=1000)
    store = connect(settings=settings)
    try:
        load_demo(sessions=store.sessions, settings=settings, folder=folder / "files")
    finally:
        store.close()


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """The default demo company in a SQLite file, text enriched on import (10–20 s), built
    once per run and copied into each pytest-xdist worker.

    Tests only read it, except churn scoring, which adds rows no other test reads."""
    built = build_once(tmp_path_factory, "insights-demo", _build_demo)
    folder: Path = tmp_path_factory.mktemp("insights-demo")
    copy_sqlite(built / "cxloop.db", folder / "cxloop.db")
    yield Settings(database_url=f"sqlite:///{folder / 'cxloop.db'}", import_batch_size=1000)
