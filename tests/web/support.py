"""Building a test app: a real SQLite file, one user and one API token per role, a few rows
holding PII, and a ``TestClient`` that turns server exceptions into 500 responses."""

from __future__ import annotations

import atexit
import os
import shutil
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from cxloop import api
from cxloop.config import Settings
from cxloop.privacy import service as privacy_service
from cxloop.privacy.roles import Role
from cxloop.privacy.schemas import TokenCreate, UserCreate
from cxloop.web.app import create_app

ROLES = ("admin", "analyst", "agent", "viewer")
PASSWORD = "correct horse battery staple"

CUSTOMER = {
    "customer_id": "c-1",
    "name": "Li Na",
    "email": "li.na@example.com",
    "phone": "+8613800138000",
    "segment": "gold",
}
FEEDBACK = {
    "feedback_id": "fb-1",
    "channel": "survey",
    "created_at": "2024-03-01T10:00:00+08:00",
    "author": "Wang Fang",
    "author_email": "wang.fang@example.com",
    "author_phone": "+8613900139000",
    "text": "Delivery was late",
    "nps": 3,
}


@dataclass
class Api:
    """One app on one SQLite file, with a token (``tokens[role]``) for a user of each role."""

    app: FastAPI
    client: TestClient
    store: api.Store
    tokens: dict[str, str]

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


def build_api(database: Path, *, seed: bool = True) -> Api:
    """The app on ``database``: a new file starts as a copy of this process's first build
    (migrations, four argon2 password hashes and the seed import cost ~1 s of CPU, a page copy
    ~10 ms); an existing store gets the users and seed rows added to it.
    ``CXLOOP_TEST_FRESH_STORES=1`` builds every store anew (to compare, or rule the copy out)."""
    settings = Settings(database_url=f"sqlite:///{database}", import_batch_size=1000)
    if database.exists() or os.environ.get("CXLOOP_TEST_FRESH_STORES") == "1":
        store, tokens = _seeded(settings, seed=seed)
    else:
        template, tokens = _template(seed)
        _copy_sqlite(template, database)
        store = api.connect(settings=settings)
    app = create_app(settings)
    # A server exception must come back as a 500 the test can see, not vanish or be re-raised
    # somewhere a status assertion would not look.
    client = TestClient(app, raise_server_exceptions=False)
    return Api(app=app, client=client, store=store, tokens=dict(tokens))


_TEMPLATES: dict[bool, tuple[Path, dict[str, str]]] = {}
"""Per process, by ``seed``: a built store file (closed) and its users' tokens."""


def _template(seed: bool) -> tuple[Path, dict[str, str]]:
    if seed not in _TEMPLATES:
        folder = Path(tempfile.mkdtemp(prefix="cxloop-api-template-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        database = folder / "template.db"
        store, tokens = _seeded(
            Settings(database_url=f"sqlite:///{database}", import_batch_size=1000), seed=seed
        )
        store.close()
        _TEMPLATES[seed] = database, tokens
    return _TEMPLATES[seed]


def _copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy through SQLite's backup API (WAL pages included)."""
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def _seeded(settings: Settings, *, seed: bool) -> tuple[api.Store, dict[str, str]]:
    """Users and tokens for every role, and with ``seed`` one customer and one feedback row."""
    store = api.connect(settings=settings)
    tokens = {}
    with store.sessions() as session:
        for role in ROLES:
            user_in = UserCreate(username=role, password=PASSWORD, role=Role(role))
            privacy_service.create_user(session=session, user_in=user_in)
            issued = privacy_service.create_token(
                session=session, token_in=TokenCreate(username=role, name="tests")
            )
            tokens[role] = issued.token
        session.commit()
    if seed:
        assert api.import_records(store, "customers", [CUSTOMER]).inserted == 1
        assert api.import_records(store, "feedback", [FEEDBACK]).inserted == 1
    return store, tokens
