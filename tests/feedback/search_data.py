"""A small company's exports, written the way real ones arrive, imported through the real door
(with text enrichment) into a SQLite file: the store the verbatim-search tests read.

- ``反馈.csv``: Chinese headers (反馈ID, 用户ID, 手机号, 渠道, 提交时间, 内容, 推荐度, 触点), dates
  written three ways, a phone number inside a text, rows with a score and no text.
- ``reviews.jsonl``: English keys, no touchpoint and no NPS (CSAT and star ratings instead), one
  review without any author id.
- ``customers.csv``: segments and regions for most (not all) authors; ``accounts.csv``: one
  B2B account with a segment.

Every number the tests assert is counted from ``ROWS`` below, not from the store.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

from cxloop import api
from cxloop.config import Settings


@dataclass(frozen=True)
class Row:
    id: str
    customer: str | None
    channel: str
    at: str
    text: str | None
    nps: int | None
    touchpoint: str | None


ZH_ROWS = [
    Row("A1", "c1", "app", "2026-03-01 09:15", "物流太慢了，等了一个星期才到", 2, "delivery"),
    Row("A2", "c2", "app", "2026/03/02 10:30", "快递很快，包装也很好，非常满意", 10, "delivery"),
    Row("A3", "c3", "survey", "2026年3月3日", "客服态度很差，再也不买了", 0, "service"),
    Row("A4", "c1", "survey", "2026-03-04 20:00", "价格太贵了，性价比不高", 5, None),
    Row(
        "A5",
        "c4",
        "ticket",
        "2026-03-05 08:00",
        "快递把商品压坏了，请打电话13800138000联系我",
        1,
        "service",
    ),
    Row("A6", "c5", "app", "2026-03-06 12:00", None, 9, "app"),
    Row("A7", "c2", "survey", "2026-03-07 12:00", None, 7, None),
    Row("A8", "c6", "ticket", "2026-03-08 18:45", "配送员态度很好，送货上门，点赞", 9, "delivery"),
    Row("A9", "c3", "app", "2026-03-09 07:00", "APP经常闪退，登录不上去", 3, "app"),
    Row("A10", "c7", "survey", "2026-03-10 09:00", "物流很慢，客服也不回复", 4, "delivery"),
]
"""The Chinese export (反馈.csv); customer c7 is not in the customer file."""

EN_ROWS = [
    {
        "review_id": "R1",
        "customer_id": "c8",
        "channel": "review",
        "date": "2026-03-11T10:00:00Z",
        "comment": "Delivery was late and the package arrived damaged.",
        "csat": 1,
        "stars": 1,
    },
    {
        "review_id": "R2",
        "customer_id": "c9",
        "channel": "review",
        "date": "2026-03-12T10:00:00Z",
        "comment": "Great quality and fast shipping, I love it!",
        "csat": 5,
        "stars": 5,
    },
    {
        "review_id": "R3",
        "customer_id": "c8",
        "channel": "chat",
        "date": "2026-03-13T10:00:00Z",
        "comment": "Customer service was rude. I will cancel my membership.",
        "csat": 1,
        "stars": 2,
    },
    {
        "review_id": "R4",
        "account_id": "acct-9",
        "channel": "review",
        "date": "2026-03-14T10:00",
        "comment": "The price is too high for what you get.",
        "csat": 2,
        "stars": 2,
    },
    {
        "review_id": "R5",
        "customer_id": "c9",
        "channel": "review",
        "date": "2026-03-15T08:30:00+08:00",
        "comment": "Second order this month. The courier called ahead, the box was intact, and "
        "the support team answered my question about sizes within minutes.",
        "csat": 4,
    },
]
"""The English export (reviews.jsonl): no touchpoint, no NPS; R4 comes from a B2B account and
no customer (its segment is the account's), with a time without an offset (CXLOOP_TIMEZONE)."""

CUSTOMERS = [
    {"customer_id": "c1", "segment": "VIP", "region": "华东"},
    {"customer_id": "c2", "segment": "VIP", "region": "华北"},
    {"customer_id": "c3", "segment": "regular", "region": "华东"},
    {"customer_id": "c4", "segment": "regular", "region": "华南"},
    {"customer_id": "c5", "segment": "new", "region": "华东"},
    {"customer_id": "c6", "segment": "regular", "region": "华北"},
    {"customer_id": "c8", "segment": "VIP", "region": "US"},
    {"customer_id": "c9", "segment": "new", "region": "US"},
]
ACCOUNTS = [{"account_id": "acct-9", "name": "Acme 有限公司", "segment": "enterprise"}]
SEGMENT = {c["customer_id"]: c["segment"] for c in CUSTOMERS} | {"acct-9": "enterprise"}
PHONE = "13800138000"
ZH_SOURCE = "crm"
EN_SOURCE = "shop"


def write_files(folder: Path) -> dict[str, Path]:
    """The three exports in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    zh = folder / "反馈.csv"
    with zh.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(
            ["反馈ID", "用户ID", "手机号", "渠道", "提交时间", "内容", "推荐度", "触点"]
        )
        for r in ZH_ROWS:
            phone = "13900000" + r.id[1:].zfill(3) if r.customer else ""
            writer.writerow(
                [r.id, r.customer, phone, r.channel, r.at, r.text or "", r.nps, r.touchpoint or ""]
            )
    en = folder / "reviews.jsonl"
    en.write_text(
        "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in EN_ROWS), encoding="utf-8"
    )
    customers = folder / "customers.csv"
    with customers.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=["customer_id", "segment", "region"])
        writer.writeheader()
        writer.writerows(CUSTOMERS)
    accounts = folder / "accounts.csv"
    with accounts.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=["account_id", "name", "segment"])
        writer.writeheader()
        writer.writerows(ACCOUNTS)
    return {"feedback_zh": zh, "feedback_en": en, "customers": customers, "accounts": accounts}


def build_store(folder: Path, database_url: str | None = None) -> Path:
    """Write the exports and import them (with text enrichment) into ``folder/store.db``, or
    into the database at ``database_url`` when given."""
    files = write_files(folder / "files")
    database = folder / "store.db"
    url = database_url or f"sqlite:///{database}"
    settings = Settings(database_url=url, enrich_on_import=True)
    store = api.connect(settings=settings)
    try:
        assert api.import_file(store, "customers", files["customers"]).inserted == len(CUSTOMERS)
        assert api.import_file(store, "accounts", files["accounts"]).inserted == len(ACCOUNTS)
        for name, source, expected in (
            ("feedback_zh", ZH_SOURCE, len(ZH_ROWS)),
            ("feedback_en", EN_SOURCE, len(EN_ROWS)),
        ):
            mapping = folder / f"{name}.yaml"
            mapping.write_text(f"defaults:\n  source: {source}\n", encoding="utf-8")
            summary = api.import_file(store, "feedback", files[name], mapping=mapping)
            assert summary.inserted == expected, summary
    finally:
        store.close()
    return database
