"""A shop whose alert rules are in force: the case tests' two teams, five customers whose year
of orders ranks them by value, a churn score, and one rule per condition family. Built once per
test module through ingest (text enriched by the real engine) and copied per test."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.api import Store, connect
from cxloop.config import Settings
from cxloop.db.session import session_scope
from cxloop.ingest import service as ingest_service
from cxloop.insights.models import ChurnScore
from cxloop.loop import rule_store
from cxloop.loop.models import Case, FeedbackCheck
from tests.loop.case_support import set_up_teams

RULES_YAML = """\
# 一条规则一种条件
- id: detractor-service
  name: 贬损者抱怨服务
  when: nps_group == 'detractor' and aspect == 'service/*:negative'
  severity: high
  topic: matched
- id: escalation
  name: 升级威胁
  when: flag == 'escalation'
  severity: 紧急
- id: vip-delivery
  name: 高价值客户配送差评
  when: aspect == 'delivery/*:负面' and value_percentile >= 80
  severity: high
  topic: matched
- id: churn-risk
  name: 流失风险高的不满客户
  when: churn_risk >= 0.7 and sentiment == 'negative'
  severity: medium
"""


def ago(days: int) -> str:
    return (dt.datetime.now(dt.UTC) - dt.timedelta(days=days)).strftime("%Y-%m-%d")


def customers() -> list[dict[str, Any]]:
    return [
        {"customer_id": "C-1", "name": "王芳", "segment": "VIP", "region": "华北"},
        {"customer_id": "C-2", "name": "Li Na", "region": "华北"},
        {"customer_id": "C-3", "name": "赵敏"},  # never ordered
        {"customer_id": "C-4", "name": "孙丽"},
        {"customer_id": "C-5", "name": "周杰"},
    ]


def orders() -> list[dict[str, Any]]:
    # a year's spend: C-1 1000 (top 20 %), C-4 100, C-5 50, C-2 10, C-3 nothing
    spend = {"C-1": 1000, "C-4": 100, "C-5": 50, "C-2": 10}
    return [
        {"order_id": f"O-{c}", "customer_id": c, "ordered_at": ago(30), "amount": amount}
        for c, amount in spend.items()
    ]


def build(folder: Path) -> Path:
    """A migrated SQLite store with teams, customers, orders, a churn score and the rules."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "base.db"
    settings = Settings(database_url=f"sqlite:///{path}", import_batch_size=1000)
    store = connect(settings=settings)
    fill(store, settings)
    store.close()
    return path


def fill(store: Store, settings: Settings) -> None:
    """Teams, customers, orders, a churn score and the rules, into a migrated store."""
    with session_scope(store.sessions) as session:
        set_up_teams(session)
        for kind, rows in (("customers", customers()), ("orders", orders())):
            done = ingest_service.import_records(
                session=session, settings=settings, kind=kind, records=rows
            )
            assert done.quarantined == 0, done.rejected
        session.add(ChurnScore(customer_id="C-2", model_version="m1", probability=0.9, reasons=[]))
        rule_store.save_rules(
            session=session, text=RULES_YAML, actor="analyst", now=dt.datetime.now(dt.UTC)
        )


def copy_of(base: Path, folder: Path, **values: Any) -> tuple[Store, Settings]:
    """A fresh copy of the base store (settings ``values`` on top)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "cxloop.db"
    shutil.copyfile(base, path)
    settings = Settings(database_url=f"sqlite:///{path}", import_batch_size=1000, **values)
    return connect(settings=settings, upgrade=False), settings


def import_feedback(store: Store, settings: Settings, rows: list[dict[str, Any]]) -> int:
    """Store feedback rows through ingest (enriched unless the settings say not); the run id."""
    with session_scope(store.sessions) as session:
        done = ingest_service.import_records(
            session=session, settings=settings, kind="feedback", records=rows
        )
        assert done.quarantined == 0, done.rejected
        return done.run_id


def feedback(key: str, customer: str | None, text: str | None, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = {"feedback_id": key, "source": "crm", "channel": "survey"}
    row["created_at"] = ago(0)
    row |= {"customer_id": customer, "text": text, **values}
    return {k: v for k, v in row.items() if v is not None}


def matched(session: Session) -> dict[str, list[str]]:
    """feedback id (without the source) → the rules that matched it when it was checked."""
    rows = session.execute(select(FeedbackCheck.feedback_id, FeedbackCheck.matched))
    return {fid.removeprefix("crm:"): list(ids) for fid, ids in rows}


def cases(session: Session) -> list[Case]:
    return list(session.scalars(select(Case).order_by(Case.id)))
