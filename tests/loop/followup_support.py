"""A service desk whose resolved cases get follow-ups: customers (Chinese and English, one
without an e-mail), a B2B account with a contact, the case tests' teams, a real SMTP server
(aiosmtpd, one per module) and the web app's public survey form over the store (TestClient).

The store is built once per module and copied for each test, so every test starts from the same
state and its counts are its own."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select

from cxloop import api
from cxloop.config import Settings
from cxloop.db.session import session_scope
from cxloop.loop import case_actions
from cxloop.loop import followup as followups
from cxloop.loop import service as loop_service
from cxloop.loop.models import Case, CaseEvent
from cxloop.loop.schemas import CaseCreate
from tests.loop.case_support import LEAD, WANG, add_feedback, policy, set_up_teams
from tests.smtp import SmtpServer, _Handler, free_port

LINK = re.compile(r"https?://[^\s\"'<>]+?(/s/[A-Za-z0-9_\-.~]+)")
"""A personal survey link in a mail's text; group 1 is its path."""
SECRET = "followup-tests-" + "k" * 32
CUSTOMERS = [
    {"customer_id": "C-ZH", "name": "王芳", "email": "Wang.Fang@Example.com", "segment": "gold"},
    {
        "customer_id": "C-EN",
        "name": "Amy Lee",
        "email": "amy.lee@example.com",
        "segment": "gold",
        "language": "English",
    },
    {"customer_id": "C-NOMAIL", "name": "赵六", "phone": "13800138000", "segment": "silver"},
    {"customer_id": "C-TWO", "name": "孙七", "email": "sun.qi@example.com", "segment": "gold"},
]
ACCOUNTS = [{"account_id": "A-1", "name": "华东精密制造有限公司", "segment": "enterprise"}]
CONTACTS = [
    {
        "contact_id": "K-1",
        "account_id": "A-1",
        "name": "刘项目",
        "email": "liu.pm@hd-precision.cn",
        "role": "项目经理",
    }
]


@dataclass
class Desk:
    """One test's store, settings (mail to the module's SMTP server), survey form and clock."""

    store: api.Store
    settings: Settings
    client: TestClient
    mail: SmtpServer
    now: dt.datetime

    def resolved_case(self, *, at: dt.datetime | None = None, **fields: Any) -> int:
        """A case opened by the lead for wang.fang, worked and resolved by her."""
        at = at or self.now
        data: dict[str, Any] = {"title": "配送延误投诉", "severity": "high", "team": "客服一组"}
        data["owner"] = "wang.fang"
        with session_scope(self.store.sessions) as session:
            for feedback_id in fields.get("feedback_ids", []):
                add_feedback(session, feedback_id, author_email=fields.pop("author_email", None))
            made = loop_service.open_by_hand(
                session=session,
                case_in=CaseCreate.model_validate(data | fields),
                policy=policy(),
                actor=LEAD,
                now=at - dt.timedelta(hours=2),
            )
            self.resolve(session, made.id, at)
        return made.id

    def resolve(self, session: Any, case_id: int, at: dt.datetime) -> None:
        case_actions.start(session=session, case_id=case_id, actor=WANG, now=at)
        case_actions.resolve(session=session, case_id=case_id, actor=WANG, now=at, summary="补发")

    def step(self, name: str, at: dt.datetime | None = None, **extra: Any) -> dict[str, int]:
        """Run one follow-up step in its own unit of work, as the job does."""
        settings = self.settings.model_copy(update=extra) if extra else self.settings
        with session_scope(self.store.sessions) as session:
            counts: dict[str, int] = getattr(followups, name)(
                session=session, settings=settings, now=at or self.now
            )
        return counts

    def case(self, case_id: int) -> Case:
        with self.store.sessions() as session:
            row = session.get(Case, case_id)
            assert row is not None
            session.expunge(row)
            return row

    def events(self, case_id: int) -> list[CaseEvent]:
        with self.store.sessions() as session:
            rows = list(
                session.scalars(
                    select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)
                )
            )
            session.expunge_all()
            return rows

    def followups(self, case_id: int) -> list[followups.FollowupRead]:
        with self.store.sessions() as session:
            return followups.list_followups(session=session, case_id=case_id)

    def mails_to(self, address: str) -> list[EmailMessage]:
        return self.mail.to(address)

    def link(self, address: str) -> str:
        """The survey link's path in the latest mail to ``address``."""
        (*_, message) = self.mails_to(address)
        body = message.get_body(preferencelist=("plain",))
        assert body is not None
        found = LINK.search(str(body.get_content()))
        assert found, f"no survey link in the mail to {address}"
        return found.group(1)

    def answer(self, path: str, score: int | str) -> Response:
        """Open the form as the customer's browser does, and post the score it offers."""
        page = self.client.get(path)
        assert page.status_code == 200, page.text
        assert f'name="solved" value="{score}"' in page.text
        rev = re.search(r'name="_rev" value="(\d+)"', page.text)
        assert rev is not None
        return self.client.post(
            path, data={"_rev": rev.group(1), "_page": "solved", "solved": str(score)}
        )


def now_outside_quiet_hours() -> dt.datetime:
    """Now (the form checks links against the real clock), as an aware UTC time."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


@pytest.fixture(scope="module")
def mail() -> Iterator[SmtpServer]:
    """aiosmtpd on loopback for the module; each test starts with an empty mailbox."""
    handler = _Handler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpServer("127.0.0.1", port, handler)
    finally:
        controller.stop()


def desk_settings(database: Path, mail: SmtpServer, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": f"sqlite:///{database}",
        "secret_key": SECRET,
        "import_batch_size": 1000,
        "smtp_host": mail.host,
        "smtp_port": mail.port,
        "smtp_security": "none",
        "smtp_from": "service@cxloop.test",
        "smtp_timeout_s": 5.0,
        "survey_quiet_hours": "",
        "public_url": "http://cx.example.test",
    }
    return Settings(**(values | extra))


@pytest.fixture(scope="module")
def base_store(tmp_path_factory: pytest.TempPathFactory, mail: SmtpServer) -> Path:
    """The module's store file: customers, the account and its contact, the teams."""
    database = tmp_path_factory.mktemp("followup-base") / "base.db"
    store = api.connect(settings=desk_settings(database, mail))
    for kind, rows in (("customers", CUSTOMERS), ("accounts", ACCOUNTS), ("contacts", CONTACTS)):
        summary = api.import_records(store, kind, rows)
        assert summary.inserted == len(rows), (kind, summary)
    with session_scope(store.sessions) as session:
        set_up_teams(session)
    store.close()
    return database


@pytest.fixture
def desk(base_store: Path, mail: SmtpServer, tmp_path: Path) -> Iterator[Desk]:
    from cxloop.web.app import create_app

    database = tmp_path / "desk.db"
    shutil.copy(base_store, database)
    settings = desk_settings(database, mail)
    store = api.connect(settings=settings)
    app = create_app(settings)
    mail.clear()
    try:
        yield Desk(store, settings, TestClient(app), mail, now_outside_quiet_hours())
    finally:
        app.state.engine.dispose()
        store.close()
