"""A store holding a survey, a distribution and invitations with signed links, made row by row
(the respondent side is tested apart from how sending makes them), and the app over it."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from cxloop import api
from cxloop.config import Settings
from cxloop.surveys import definitions, tokens
from cxloop.surveys.models import (
    Distribution,
    Invitation,
    Survey,
    SurveyAnswer,
    SurveyResponse,
    SurveyVersion,
)
from cxloop.web.app import create_app

SECRET = "respond-tests-" + "s" * 32
SURVEY = """\
id: delivery
title: {zh: 配送体验调查, en: Delivery survey}
intro: {zh: "{customer.name}，您好！", en: "Hello {customer.name}!"}
thanks: {zh: 感谢您的反馈！, en: Thank you for your feedback!}
touchpoint: delivery
journey_stage: fulfilment
questions:
  - {id: nps, type: nps, required: true,
     text: {zh: 您向朋友推荐我们的可能性有多大？, en: How likely are you to recommend us?}}
  - {id: why, type: text, show_if: "nps <= 6",
     text: {zh: "订单{order.order_id}哪里做得不好？",
            en: "What went wrong with order {order.order_id}?"}}
  - id: channel
    type: single
    text: {zh: 您通过哪个渠道下单？, en: Where did you order?}
    options:
      - {id: app, text: {zh: 手机应用, en: App}}
      - {id: web, text: {zh: 网站, en: Website}}
      - {id: other, text: {zh: 其他, en: Other}, other: true}
"""
EVERY_TYPE = """\
id: every-type
title: {zh: 全题型, en: Every type}
layout: all_on_one
questions:
  - {id: nps, type: nps, required: true, text: {zh: 推荐度, en: Recommend}}
  - {id: sat, type: csat, text: {zh: 满意度, en: Satisfaction}}
  - {id: effort, type: ces, text: {zh: 费力度, en: Effort}}
  - {id: stars, type: rating, scale: 10, text: {zh: 打分, en: Stars}}
  - id: liked
    type: multiple
    max_choices: 2
    text: {zh: 您喜欢什么？, en: What did you like?}
    options:
      - {id: speed, text: {zh: 速度, en: Speed}}
      - {id: price, text: {zh: 价格, en: Price}}
      - {id: staff, text: {zh: 服务, en: Staff}}
      - {id: other, text: {zh: 其他, en: Other}, other: true}
  - id: aspects
    type: matrix
    matrix_scale: 5
    text: {zh: 请为以下方面打分, en: Rate these}
    rows:
      - {id: courier_speed, text: {zh: 配送速度, en: Courier speed}}
      - {id: packaging, text: {zh: 包装, en: Packaging}}
  - {id: lead_only, type: text, show_if: "contact.role == 'project_lead'",
     text: {zh: 项目负责人的意见, en: A word from the project lead}}
  - {id: comment, type: text, max_length: 20, text: {zh: 其他意见, en: Anything else}}
"""


@dataclass
class Link:
    token: str
    invitation_id: int
    public_id: str

    @property
    def path(self) -> str:
        return f"/s/{self.token}"


@dataclass
class World:
    """One store, the app over it, and ways to make links and look at what was stored."""

    store: api.Store
    settings: Settings
    client: TestClient
    app: FastAPI
    survey_id: str
    distribution_id: int
    links: list[Link] = field(default_factory=list)

    def link(
        self,
        *,
        language: str = "zh",
        context: dict[str, Any] | None = None,
        customer_id: str | None = "c-1",
        role: str | None = None,
        expires_in: dt.timedelta = dt.timedelta(days=14),
        distribution_id: int | None = None,
    ) -> Link:
        public_id = tokens.new_public_id()
        expires_at = (dt.datetime.now(dt.UTC) + expires_in).replace(tzinfo=None, microsecond=0)
        with self.store.sessions() as session:
            invitation = Invitation(
                distribution_id=distribution_id or self.distribution_id,
                survey_id=self.survey_id,
                public_id=public_id,
                customer_id=customer_id,
                contact_id=None,
                account_id=None,
                role=role,
                email="li.na@example.com",
                language=language,
                context=context
                if context is not None
                else {"customer": {"name": "李娜"}, "order": {"order_id": "O-778"}},
                status="sent",
                sent_at=dt.datetime.now(dt.UTC).replace(tzinfo=None),
                expires_at=expires_at,
            )
            session.add(invitation)
            session.commit()
            invitation_id = invitation.id
        token = tokens.make_link(public_id, expires_at, SECRET.encode())
        made = Link(token, invitation_id, public_id)
        self.links.append(made)
        return made

    def invitation(self, link: Link) -> Invitation:
        with self.store.sessions() as session:
            row = session.get(Invitation, link.invitation_id)
            assert row is not None
            session.expunge(row)
            return row

    def responses(self) -> list[SurveyResponse]:
        with self.store.sessions() as session:
            rows = list(session.scalars(select(SurveyResponse).order_by(SurveyResponse.id)))
            for row in rows:
                session.expunge(row)
            return rows

    def answer_rows(self) -> list[tuple[str, str, float | None, str | None]]:
        with self.store.sessions() as session:
            return [
                (a.question_id, a.item, a.number, a.text)
                for a in session.scalars(
                    select(SurveyAnswer).order_by(SurveyAnswer.question_id, SurveyAnswer.item)
                )
            ]

    def count(self, model: Any) -> int:
        with self.store.sessions() as session:
            return int(session.scalar(select(func.count()).select_from(model)) or 0)

    def set_distribution(self, **values: Any) -> None:
        with self.store.sessions() as session:
            row = session.get(Distribution, self.distribution_id)
            assert row is not None
            for name, value in values.items():
                setattr(row, name, value)
            session.commit()

    def anonymous(self) -> str:
        """An anonymous distribution of the same survey; its path."""
        public_id = secrets.token_urlsafe(9)
        with self.store.sessions() as session:
            row = _distribution(self.survey_id, audience_kind="anonymous", channel="link")
            row.anonymous_public_id = public_id
            session.add(row)
            session.commit()
        return f"/s/a/{public_id}"


def _distribution(survey_id: str, **values: Any) -> Distribution:
    defaults: dict[str, Any] = {
        "survey_id": survey_id,
        "version": 1,
        "audience_kind": "list",
        "audience": {"list": "tests"},
        "channel": "email",
        "link_days": 14,
        "allow_edits": False,
        "max_reminders": 0,
        "status": "active",
    }
    return Distribution(**{**defaults, **values})


def add_survey(store: api.Store, yaml_text: str) -> tuple[str, int]:
    """Store a survey (version 1) and a distribution of it; their ids."""
    definition = definitions.parse_definition(definitions.read_yaml(yaml_text))
    data = definitions.canonical(definition)
    digest = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()
    with store.sessions() as session:
        session.add(Survey(survey_id=definition.id, title=data["title"], current_version=1))
        session.flush()
        session.add(
            SurveyVersion(
                survey_id=definition.id, version=1, definition=data, definition_hash=digest
            )
        )
        distribution = _distribution(definition.id)
        session.add(distribution)
        session.commit()
        return definition.id, distribution.id


def make_world(
    tmp_path: Path, yaml_text: str = SURVEY, *, drain: bool = True, **settings: Any
) -> World:
    """``drain=False``: the app's outbox thread never starts (a test drains by hand)."""
    database = tmp_path / "cxloop.db"
    config = Settings(
        database_url=f"sqlite:///{database}",
        secret_key=SECRET,
        import_batch_size=1000,
        text_workers=1,
        **settings,
    )
    store = api.connect(settings=config)
    survey_id, distribution_id = add_survey(store, yaml_text)
    app = create_app(config)
    if not drain:
        app.state.survey_drain.close()
    client = TestClient(app, raise_server_exceptions=False)
    return World(store, config, client, app, survey_id, distribution_id)
