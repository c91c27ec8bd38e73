"""Fixtures for the HTTP API tests (see ``support.build_api``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.web.support import Api, build_api


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Give each schemathesis case its operation in the node id.

    schemathesis names its items ``test[GET /x]`` but leaves every node id the bare function
    name, so pytest-xdist, which keys results by node id, ran 86 fuzz cases as 2 ("84 tests
    vanished"); unique ids make parallel runs count and run every case."""
    for item in items:
        label = getattr(item, "operation_label", None)
        if label and not item.nodeid.endswith("]") and item.parent is not None:
            item._id = item.parent.id.child(item.name)  # pytest 9: the id behind ``nodeid``


@pytest.fixture(scope="module")
def shared_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """One seeded database for a whole module (tests on it must not depend on each other)."""
    built = build_api(tmp_path_factory.mktemp("web") / "cxloop.db")
    with built.client:
        yield built
    built.store.close()
    built.app.state.engine.dispose()


@pytest.fixture
def fresh_api(sqlite_url: str) -> Iterator[Api]:
    """A seeded database of its own, for tests that count what is stored."""
    built = build_api(Path(sqlite_url.removeprefix("sqlite:///")))
    with built.client:
        yield built
    built.store.close()
    built.app.state.engine.dispose()
