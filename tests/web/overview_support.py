"""Stores for the overview tests: the demo company (built once per run, shared with the
insights tests under the same name) and small hand-made stores, each with a user and token per
role added under names the demo does not use."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from cxloop import api
from cxloop.config import Settings
from cxloop.demo.service import load_demo
from cxloop.privacy import service as privacy_service
from cxloop.privacy.roles import Role
from cxloop.privacy.schemas import TokenCreate, UserCreate
from cxloop.web.app import create_app
from tests.shared_build import build_once, copy_sqlite
from tests.web.support import PASSWORD, Api

ROLES = ("admin", "analyst", "agent", "viewer")


def _build_demo(folder: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{folder / 'cxloop.db'}", import_batch_size=1000)
    store = api.connect(settings=settings)
    try:
        load_demo(sessions=store.sessions, settings=settings, folder=folder / "files")
    finally:
        store.close()


def demo_copy(factory: pytest.TempPathFactory, name: str) -> Path:
    """A private copy of the run's demo store."""
    built = build_once(factory, "insights-demo", _build_demo)
    target = factory.mktemp(name) / "cxloop.db"
    copy_sqlite(built / "cxloop.db", target)
    return target


def settings_for(database: Path) -> Settings:
    return Settings(database_url=f"sqlite:///{database}", import_batch_size=1000)


def user_name(role: str) -> str:
    return f"o-{role}"


def app_on(database: Path) -> Api:
    """The app on ``database`` with users ``o-<role>`` (password ``PASSWORD``) and tokens."""
    settings = settings_for(database)
    store = api.connect(settings=settings)
    tokens = {}
    with store.sessions() as session:
        for role in ROLES:
            name = user_name(role)
            user_in = UserCreate(username=name, password=PASSWORD, role=Role(role))
            privacy_service.create_user(session=session, user_in=user_in)
            issued = privacy_service.create_token(
                session=session, token_in=TokenCreate(username=name, name="tests")
            )
            tokens[role] = issued.token
        session.commit()
    app = create_app(settings)
    client = TestClient(app, raise_server_exceptions=False)
    return Api(app=app, client=client, store=store, tokens=tokens)


def log_in(client: TestClient, role: str) -> None:
    response = client.post(
        "/login", data={"username": user_name(role), "password": PASSWORD}, follow_redirects=False
    )
    assert response.status_code == 303, response.text
