"""A small service desk for the case page tests (TestClient and Chromium): customers with
orders, subscriptions and voice in Chinese and English, a B2B account with contacts, a project
and milestones, a churn score with reasons, two teams of agents with passwords, and cases in
both teams, one long overdue."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from cxloop import api
from cxloop.insights.models import ChurnScore
from cxloop.loop import service as loop_service
from cxloop.loop import teams as loop_teams
from cxloop.loop.policy import DEFAULT_POLICY_YAML
from cxloop.loop.schemas import CaseCreate, TeamWrite
from cxloop.loop.sla import load_policy
from cxloop.loop.states import Actor
from cxloop.privacy import service as privacy_service
from cxloop.privacy.roles import Role
from cxloop.privacy.schemas import TokenCreate, UserCreate
from cxloop.web.deps import COOKIE
from tests.web.support import PASSWORD, Api, build_api

AGENTS = ("wang.fang", "li.na", "chen.lead", "zhao.min")
ADMIN = Actor("root", frozenset({"admin"}))
PHONE = "13800138000"
SERVICE = TeamWrite(
    name="客服一组",
    lead="chen.lead",
    members=[{"name": "wang.fang"}, {"name": "li.na"}, {"name": "chen.lead", "role": "lead"}],
)
EAST = TeamWrite(name="east", lead="zhao.min", members=[{"name": "zhao.min"}])


def seed(store: api.Store) -> None:
    """Customers with orders (c-1 spends most), a subscription, Chinese and English voice, a
    B2B account with contacts, a project and milestones, and a churn score with reasons."""
    rows: dict[str, list[dict[str, Any]]] = {
        "customers": [
            {"customer_id": "c-1", "name": "李娜", "email": "li.na@example.com",
             "phone": f"+86{PHONE}", "segment": "gold", "region": "华东", "city": "上海"},
            {"customer_id": "c-2", "name": "Tom Baker", "email": "tom@example.com"},
            {"customer_id": "c-3", "name": "王芳"},  # no orders, no voice
        ],
        "orders": [
            {"order_id": "O-100", "customer_id": "c-1", "ordered_at": "2026-11-02 10:00",
             "amount": 1299.0, "currency": "CNY", "product": "空气净化器 X3", "status": "paid"},
            {"order_id": "O-101", "customer_id": "c-1", "ordered_at": "2026-11-20 09:30",
             "amount": 199.0, "currency": "CNY", "product": "滤芯", "status": "paid"},
            {"order_id": "O-102", "customer_id": "c-1", "ordered_at": "2026-11-21 09:30",
             "amount": 5000.0, "currency": "CNY", "product": "退货", "status": "refunded"},
            {"order_id": "O-200", "customer_id": "c-2", "ordered_at": "2026-10-01",
             "amount": 99.0, "currency": "CNY", "product": "滤芯"},
            {"order_id": "O-900", "account_id": "A-1", "ordered_at": "2026-09-01",
             "amount": 88000.0, "currency": "CNY", "product": "商用新风系统"},
        ],
        "subscriptions": [
            {"subscription_id": "S-1", "customer_id": "c-1", "plan": "滤芯订阅",
             "started_at": "2026-06-01", "renewed": True, "status": "active"},
        ],
        "feedback": [
            {"feedback_id": "fb-1", "source": "crm", "channel": "survey", "customer_id": "c-1",
             "nps": 2, "created_at": "2026-11-22T10:00:00+08:00",
             "text": f"配送太慢了，等了五天。客服态度也很差，请回电 {PHONE}"},
            {"feedback_id": "fb-2", "source": "crm", "channel": "review", "customer_id": "c-1",
             "rating": 4, "created_at": "2026-11-05T10:00:00+08:00",
             "text": "The purifier is quiet."},
            {"feedback_id": "fb-9", "source": "crm", "channel": "email", "account_id": "A-1",
             "created_at": "2026-11-10T10:00:00+08:00", "text": "安装延期，项目进度受影响"},
        ],
        "accounts": [
            {"account_id": "A-1", "name": "华东精密", "tier": "gold", "owner": "赵经理",
             "annual_value": 88000, "industry": "制造"},
            {"account_id": "A-2", "name": "小店", "annual_value": 1000},
        ],
        "contacts": [
            {"contact_id": "K-2", "account_id": "A-1", "name": "钱工", "role": "使用者",
             "email": "qian@hd.cn"},
            {"contact_id": "K-1", "account_id": "A-1", "name": "孙总", "role": "决策者",
             "email": "sun@hd.cn", "phone": "+8613900139000", "title": "总经理"},
        ],
        "projects": [
            {"project_id": "P-1", "account_id": "A-1", "name": "新风改造一期",
             "status": "active", "start_date": "2026-08-01"},
        ],
        "milestones": [
            {"milestone_id": "M-1", "project_id": "P-1", "name": "安装验收",
             "due_date": "2026-11-30", "status": "late"},
        ],
    }  # fmt: skip
    for kind, records in rows.items():
        summary = api.import_records(store, kind, records)
        assert summary.inserted == len(records), (kind, summary)


class Desk:
    """The app, a signed-in browser-like client per user (session cookie), and named cases."""

    def __init__(self, built: Api) -> None:
        self.api = built
        self.cases: dict[str, int] = {}
        self.clients: dict[str, TestClient] = {}

    def client(self, who: str) -> TestClient:
        if who not in self.clients:
            self.clients[who] = TestClient(
                self.api.app,
                raise_server_exceptions=False,
                cookies={COOKIE: self.api.tokens[who]},
                follow_redirects=False,
            )
        return self.clients[who]

    def page(
        self, who: str, url: str, status: int = 200, headers: dict[str, str] | None = None
    ) -> str:
        got = self.client(who).get(url, headers=headers)
        assert got.status_code == status, (url, got.status_code, got.text[:500])
        return got.text

    def post(self, who: str, url: str, data: dict[str, str] | None = None, **headers: str) -> Any:
        return self.client(who).post(url, data=data or {}, headers=headers)

    def json(self, who: str, url: str) -> Any:
        got = self.api.client.get(url, headers=self.api.auth(who))
        assert got.status_code == 200, got.text
        return got.json()

    def open(
        self,
        title: str,
        severity: str,
        *,
        team: str = "客服一组",
        now: dt.datetime | None = None,
        **values: Any,
    ) -> int:
        case_in = CaseCreate(title=title, severity=severity, team=team, **values)
        with self.api.store.sessions() as session:
            case = loop_service.open_by_hand(
                session=session,
                case_in=case_in,
                policy=load_policy(DEFAULT_POLICY_YAML),
                actor=ADMIN,
                now=now or dt.datetime.now(dt.UTC),
            )
            session.commit()
        return case.id

    def close(self) -> None:
        for client in self.clients.values():
            client.close()
        self.api.store.close()
        self.api.app.state.engine.dispose()


def build_desk(database: Path) -> Desk:
    """The store seeded, agents (password ``PASSWORD``) and teams saved, and the named cases
    opened by an admin: ``p1_owned`` (wang.fang's, customer c-1), ``p4_new`` (unowned),
    ``overdue`` (li.na's, opened in January), ``east`` (the other team's), ``b2b`` (account A-1)."""
    built = build_api(database, seed=False)
    seed(built.store)
    with built.store.sessions() as session:
        for name in AGENTS:
            user_in = UserCreate(username=name, password=PASSWORD, role=Role.agent)
            privacy_service.create_user(session=session, user_in=user_in)
            issued = privacy_service.create_token(
                session=session, token_in=TokenCreate(username=name, name="tests")
            )
            built.tokens[name] = issued.token
        for team in (SERVICE, EAST):
            loop_teams.save_team(session=session, team_in=team)
        session.add(
            ChurnScore(
                customer_id="c-1",
                model_version="m-1",
                probability=0.62,
                reasons=[{"feature": "days_since_last_order", "value": 16, "contribution": 0.8}],
            )
        )
        session.commit()
    desk = Desk(built)
    desk.cases["p1_owned"] = desk.open(
        f"客户来电：配送晚了五天，回电 {PHONE}", "critical", customer_id="c-1",
        owner="wang.fang", feedback_ids=["crm:fb-1"], topic="配送/速度", value_percentile=95,
        churn_risk=0.62,
    )  # fmt: skip
    desk.cases["p4_new"] = desk.open("咨询滤芯", "low", customer_id="c-2", topic="产品")
    desk.cases["overdue"] = desk.open(
        "退款未到账", "high", customer_id="c-2", owner="li.na", topic="账单",
        now=dt.datetime(2026, 1, 5, 2, tzinfo=dt.UTC),
    )  # fmt: skip
    desk.cases["east"] = desk.open("east case", "high", customer_id="c-3", team="east")
    desk.cases["b2b"] = desk.open(
        "安装延期", "medium", account_id="A-1", owner="wang.fang", feedback_ids=["crm:fb-9"]
    )
    return desk
