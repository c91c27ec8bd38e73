"""One demo store per test module (a copy of the run's demo build), opened as a store."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from cxloop import api
from tests.web.overview_support import demo_copy, settings_for

NOW = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)
"""Inside the demo's span (feedback 2025-11 … 2026-11): a fixed clock for every report."""
QUERY = "since=2026-03&until=2026-10&period=month"


@pytest.fixture(scope="module")
def demo_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_copy(tmp_path_factory, "reports-demo")


@pytest.fixture(scope="module")
def demo(demo_path: Path) -> Iterator[api.Store]:
    store = api.connect(settings=settings_for(demo_path))
    yield store
    store.close()
