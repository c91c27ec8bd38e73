"""The topic explorer's weekly store (``tests/dashboards/topics_data``) built once per test run,
copied per module and served with one user and API token per role."""

from __future__ import annotations

import re

import pytest

from tests.dashboards.topics_data import build_weekly
from tests.shared_build import build_once, copy_sqlite
from tests.web.support import Api, build_api


def weekly_api(factory: pytest.TempPathFactory, name: str) -> Api:
    built = build_once(factory, "topics-weekly", build_weekly) / "store.db"
    target = factory.mktemp(name) / "store.db"
    copy_sqlite(built, target)
    return build_api(target, seed=False)


def page_volumes(html: str) -> dict[str, int]:
    """Topic path → the volume the page shows (its ``data-value``)."""
    rows = re.findall(
        r'<tr class="depth-\d" data-topic="([^"]+)">.*?data-field="volume" data-value="(\d+)"',
        html,
        flags=re.S,
    )
    return {path: int(value) for path, value in rows}


def close(api: Api) -> None:
    api.store.close()
    api.app.state.engine.dispose()


def login(api: Api, role: str) -> None:
    """The page's session cookie for ``role`` on the TestClient."""
    api.client.cookies.set("cxloop_token", api.tokens[role])
