"""A small retailer with members, generated with known effects of what customers said on what
they did next, written as the files a real company exports (Chinese headers, a billing export
with ``ended_at`` and no ``renewed`` column, slash dates, a few cancelled orders).

Planted, one visit per customer (1–3 feedback rows on the same day, one per thing said):

* churn: ``BASE_CHURN`` by segment, +0.20 for a slow-delivery complaint, −0.15 for praise of
  the service (additive risk differences, so the standardised effect is exactly that);
* spend in the 90 days after the visit: +0.8 orders of mean 100 (= +80) for praise of the
  packaging;
* a confounded topic (price said negatively by half the budget customers and a tenth of the
  premium ones) with no effect: budget customers churn more for other reasons;
* a null topic (the app crashing) and NPS drawn without regard to anything.

Non-churners sometimes switch plan: the old subscription ends (renewal unknown) and a new one
starts the same moment — not churn. Churners' subscriptions end 1–13 weeks after the visit.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np

START = dt.datetime(2025, 1, 1, 9, 0)
DATA_DAYS = 420
"""Orders run to day 420, so every churn and every 90-day window is seen before the data ends."""
BASE_CHURN = {"budget": 0.40, "premium": 0.18}
DELIVERY_CHURN = 0.20
SERVICE_PRAISE_CHURN = -0.15
PACKAGING_PRAISE_SPEND = 80.0
"""0.8 more orders in the 90 days after the visit, each of mean amount 100."""
MENTIONS = {
    # role: (chance by segment (budget, premium), texts that the text engine reads as one topic)
    "delivery_complaint": (
        (0.25, 0.25),
        ("快递太慢了，等了一个星期。", "Delivery took forever and arrived late."),
    ),
    "service_praise": (
        (0.25, 0.25),
        ("客服态度非常好，很耐心。", "The customer service was excellent and very helpful."),
    ),
    "packaging_praise": (
        (0.25, 0.25),
        ("包装很精美，很用心。", "The packaging was beautiful and well protected."),
    ),
    "price_complaint": ((0.50, 0.10), ("The price is too expensive.",)),
    "app_complaint": ((0.20, 0.20), ("APP经常闪退。", "The app keeps crashing.")),
    "churn_intent": ((0.06, 0.06), ("我要退会员了。",)),
}


@dataclass(frozen=True)
class PlantedCompany:
    """The files written and the truth behind them."""

    folder: Path
    files: dict[str, Path]
    """kind → file, in the order they must be imported (customers first)."""
    n_customers: int
    churned: int
    plan_switches: int


def _stamp(value: dt.datetime, slash: bool = False) -> str:
    return value.strftime("%Y/%m/%d %H:%M" if slash else "%Y-%m-%d %H:%M:%S")


def _write(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def generate(folder: Path, *, n_customers: int = 3000, seed: int = 20261206) -> PlantedCompany:
    """Write customers, feedback, orders and subscriptions files with the effects above."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    customers, feedback, orders, subscriptions = [], [], [], []
    churned = switches = order_no = 0
    for i in range(n_customers):
        cid = f"P{i:05d}"
        segment = "budget" if rng.random() < 0.5 else "premium"
        column = 0 if segment == "budget" else 1
        signed = START + dt.timedelta(days=float(rng.uniform(0, 120)))
        visit = START + dt.timedelta(days=float(rng.uniform(150, 270)))
        region = str(rng.choice(["华东", "华南", "华北"]))
        customers.append([cid, segment, region, _stamp(signed)])
        said = {
            role: bool(rng.random() < chances[column]) for role, (chances, _) in MENTIONS.items()
        }
        nps = int(rng.integers(0, 11))
        rows = [role for role, yes in said.items() if yes]
        texts = [str(rng.choice(MENTIONS[role][1])) for role in rows] or [""]
        for k, text in enumerate(texts):  # one survey, a comment per question, sent at once
            feedback.append([cid, "survey", _stamp(visit), nps if k == 0 else "", text])
        # orders: some before the visit (value before), the planted window after it, then more
        before = rng.poisson(4.0 if segment == "premium" else 2.0)
        after = rng.poisson(1.0 + 0.8 * said["packaging_praise"])
        later = rng.poisson(1.5)
        days_before = (visit - signed).total_seconds() / 86_400
        moments = [
            *(signed + dt.timedelta(days=float(d)) for d in rng.uniform(0, days_before, before)),
            *(visit + dt.timedelta(days=float(d)) for d in rng.uniform(0.01, 89.9, after)),
            *(
                visit + dt.timedelta(days=float(d))
                for d in rng.uniform(90.1, DATA_DAYS - (visit - START).days - 1, later)
            ),
        ]
        for moment in moments:
            order_no += 1
            amount = round(float(rng.uniform(60, 140)), 2)
            orders.append([f"O{order_no:06d}", cid, _stamp(moment), amount, "paid"])
        if rng.random() < 0.03:  # a cancelled order never counts, however big
            order_no += 1
            orders.append(
                [f"O{order_no:06d}", cid, _stamp(visit + dt.timedelta(days=5)), 999, "cancelled"]
            )
        # the membership
        plan, price = ("annual", 300.0) if rng.random() < 0.3 else ("monthly", 30.0)
        started = signed + dt.timedelta(days=float(rng.uniform(0, 10)))
        risk = BASE_CHURN[segment]
        risk += DELIVERY_CHURN * said["delivery_complaint"]
        risk += SERVICE_PRAISE_CHURN * said["service_praise"]
        sid = f"S{i:05d}"
        if rng.random() < risk:
            churned += 1
            ended = visit + dt.timedelta(days=float(rng.uniform(7, 90)))
            subscriptions.append(
                [sid, cid, plan, _stamp(started, True), _stamp(ended, True), price]
            )
        elif rng.random() < 0.15:  # a plan switch: ended, renewal unknown, continued at once
            switches += 1
            ended = visit + dt.timedelta(days=float(rng.uniform(7, 90)))
            subscriptions.append(
                [sid, cid, plan, _stamp(started, True), _stamp(ended, True), price]
            )
            subscriptions.append([f"{sid}b", cid, "annual", _stamp(ended, True), "", 300.0])
        else:
            subscriptions.append([sid, cid, plan, _stamp(started, True), "", price])
    files = {
        "customers": _write(
            folder / "customers.csv", ["用户ID", "分群", "地区", "注册时间"], customers
        ),
        "feedback": _write(
            folder / "feedback.csv", ["用户ID", "渠道", "提交时间", "nps", "内容"], feedback
        ),
        "orders": _write(
            folder / "orders.csv", ["订单号", "用户ID", "下单时间", "金额", "订单状态"], orders
        ),
        "subscriptions": _write(
            folder / "subscriptions.csv",
            ["订阅ID", "用户ID", "套餐", "开始时间", "结束时间", "金额"],
            subscriptions,
        ),
    }
    return PlantedCompany(folder, files, n_customers, churned, switches)


def exposure(role: str) -> str:
    """The exposure name ``cxloop insights outcomes`` gives what ``role`` says (``delivery/speed
    negative``), read with the text engine itself so a taxonomy rename cannot break the test;
    every text of the role must read as the same one topic and sentiment."""
    from cxloop.text import analyze

    read = set()
    for text in MENTIONS[role][1]:
        aspects = {(a.topic, a.sentiment) for a in analyze(text).aspects}
        assert len(aspects) == 1, (text, aspects)
        read |= aspects
    assert len(read) == 1, (role, read)
    topic, sentiment = read.pop()
    return f"{topic} {sentiment}"
