"""A PostgreSQL database shared by one module's engine tests (loading the demo once)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import fresh_postgres_database


@pytest.fixture(scope="module")
def postgres_module_url() -> Iterator[str]:
    """Like ``postgres_url``, but one fresh database for the whole module, dropped afterwards."""
    with fresh_postgres_database() as url:
        yield url
