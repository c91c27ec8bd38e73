"""Stores for the topic explorer tests, imported through the real door with text enrichment.

``build_weekly``: ten weeks (Mondays from 2026-03-02) of Chinese and English feedback, some
without a touchpoint, a journey stage or any score; delivery and service at a steady level,
returns at 2 a week then 14 in the last week (the emerging/spiking case), one text with a phone
number (masked for roles without read_pii), texts no topic covers (discovery candidates), and
one answer with a score and no text. Every count the tests assert is counted from ``ROWS``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from cxloop import api
from cxloop.config import Settings

START = dt.datetime(2026, 3, 2, 9, 0)
WEEKS = 10
PHONE = "13800138000"


@dataclass(frozen=True)
class Row:
    id: str
    at: dt.datetime
    text: str | None
    topic: str | None  # the shipped taxonomy's first level it mentions (None: no topic)
    touchpoint: str | None = None
    stage: str | None = None
    nps: int | None = None


def _rows() -> list[Row]:
    rows: list[Row] = []
    for week in range(WEEKS):
        monday = START + dt.timedelta(weeks=week)
        for i in range(6):
            at = monday + dt.timedelta(hours=i)
            rows.append(Row(f"d{week}-{i}", at, "物流太慢了，等了一个星期", "delivery",
                            "配送", "交付", 3))  # fmt: skip
            rows.append(Row(f"s{week}-{i}", at, "Customer service was very friendly and helpful.",
                            "service", None, None, 9))  # fmt: skip
        returns = 14 if week == WEEKS - 1 else 2
        for i in range(returns):
            at = monday + dt.timedelta(days=1, minutes=i)
            rows.append(Row(f"r{week}-{i}", at, "退货太麻烦了，退款一直没到", "returns",
                            "售后", "售后服务", 2))  # fmt: skip
        for i in range(2):
            at = monday + dt.timedelta(days=2, minutes=i)
            rows.append(Row(f"n{week}-{i}", at, "点赞点赞，非常满意，下次还来", None))
    last = START + dt.timedelta(weeks=WEEKS - 1, days=3)
    rows.append(Row("pii", last, f"物流太慢，请打电话{PHONE}联系我", "delivery", "配送", "交付", 1))
    rows.append(Row("blank", last, None, None, None, None, 8))
    return rows


ROWS = _rows()


def records() -> list[dict[str, object]]:
    out = []
    for r in ROWS:
        record: dict[str, object] = {
            "feedback_id": r.id,
            "channel": "app" if r.id[0] in "dr" else "review",
            "created_at": r.at.isoformat() + "+00:00",
        }
        for key, value in (("text", r.text), ("touchpoint", r.touchpoint),
                           ("journey_stage", r.stage), ("nps", r.nps)):  # fmt: skip
            if value is not None:
                record[key] = value
        out.append(record)
    return out


def settings_for(database: Path) -> Settings:
    return Settings(database_url=f"sqlite:///{database}", enrich_on_import=True)


def build_weekly(folder: Path) -> Path:
    """``ROWS`` imported into ``folder/store.db``; returns the file."""
    database = folder / "store.db"
    store = api.connect(settings=settings_for(database))
    try:
        summary = api.import_records(store, "feedback", records())
        assert summary.inserted == len(ROWS), summary
    finally:
        store.close()
    return database


def build_empty(folder: Path) -> Path:
    """A migrated store with nothing in it."""
    database = folder / "empty.db"
    api.connect(settings=settings_for(database)).close()
    return database


CHINESE_TAXONOMY = {
    "nodes": [
        {
            "id": "logistics",
            "name": {"zh": "物流配送", "en": "Logistics"},
            "terms": {"zh": ["物流"], "en": []},
            "children": [
                {
                    "id": "wait",
                    "name": {"zh": "等待", "en": "Waiting"},
                    "terms": {"zh": ["太慢", "一个星期"], "en": []},
                }
            ],
        },
        {
            "id": "after_sales",
            "name": {"zh": "售后", "en": "After sales"},
            "children": [
                {
                    "id": "refund",
                    "name": {"zh": "退款退货", "en": "Refunds"},
                    "children": [
                        {"id": "money", "name": {"zh": "退款", "en": "Money back"},
                         "terms": {"zh": ["退款"], "en": []}},
                        {"id": "goods", "name": {"zh": "退货", "en": "Goods back"},
                         "terms": {"zh": ["退货"], "en": []}},
                    ],
                }
            ],
        },
        {
            "id": "people",
            "name": {"zh": "服务人员", "en": "Staff"},
            "terms": {"zh": [], "en": ["customer service", "friendly"]},
        },
        {
            "id": "privacy",
            "name": {"zh": "隐私", "en": "Privacy"},
            "terms": {"zh": ["隐私泄露"], "en": ["data breach"]},
        },
    ]
}  # fmt: skip
"""Chinese names, a three-level branch (售后 > 退款退货 > 退款/退货) and a topic nobody
mentions (隐私)."""
