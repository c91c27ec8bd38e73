"""A small subscription company written as export files and imported like a user's: either
churn that follows from behaviour (members who stopped ordering leave) or churn by coin toss.

Used by the churn guard tests (a random-churn store must be refused) and the target-list tests
that must name the model their churn risks rest on.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from cxloop.api import Store
from cxloop.ingest import service as ingest_service

AS_OF = dt.datetime(2026, 6, 30, 12, 0)
"""Scoring date: training members are those active 90 days earlier (2026-04-01)."""
MEMBERS = 360
SEGMENTS = ("VIP", "regular", "new")


def write_company(folder: Path, *, predictable: bool, seed: int = 7) -> dict[str, Path]:
    """customers / subscriptions / orders CSVs. ``predictable``: the 25 % who churn after the
    cut-off stopped ordering half a year before it; otherwise churn is a coin toss
    independent of everything stored."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    ids = [f"m{i:04d}" for i in range(MEMBERS)]
    churns = rng.random(MEMBERS) < 0.25
    customers = pd.DataFrame(
        {
            "customer_id": ids,
            "segment": rng.choice(SEGMENTS, MEMBERS),
            "region": rng.choice(["north", "south", "华东"], MEMBERS),
            "signed_up_at": "2024-12-01",
        }
    )
    ends = [
        (AS_OF - dt.timedelta(days=int(rng.integers(5, 80)))).strftime("%Y-%m-%d") if c else ""
        for c in churns
    ]
    subscriptions = pd.DataFrame(
        {
            "subscription_id": [f"s{i:04d}" for i in range(MEMBERS)],
            "customer_id": ids,
            "plan": rng.choice(["basic", "plus"], MEMBERS),
            "started_at": "2025-01-01",
            "ended_at": ends,
            "renewed": ["false" if c else "" for c in churns],
            "status": ["cancelled" if c else "active" for c in churns],
        }
    )
    orders = []
    for i, customer in enumerate(ids):
        last = dt.datetime(2025, 10, 1) if predictable and churns[i] else AS_OF
        day = dt.datetime(2025, 1, 5) + dt.timedelta(days=int(rng.integers(0, 20)))
        while day < last:
            orders.append((f"o{len(orders):06d}", customer, day.isoformat(), rng.integers(20, 300)))
            day += dt.timedelta(days=int(rng.integers(15, 45)))
    order_frame = pd.DataFrame(orders, columns=["order_id", "customer_id", "ordered_at", "amount"])
    order_frame["status"] = "completed"
    paths = {}
    for kind, frame in (
        ("customers", customers),
        ("subscriptions", subscriptions),
        ("orders", order_frame),
    ):
        paths[kind] = folder / f"{kind}.csv"
        frame.to_csv(paths[kind], index=False)
    return paths


def load_company(store: Store, folder: Path, *, predictable: bool) -> None:
    """Import the company's files through the one door, as a user would."""
    for kind, path in write_company(folder, predictable=predictable).items():
        with store.sessions() as session:
            summary = ingest_service.import_file(
                session=session, settings=store.settings, kind=kind, path=path
            )
        assert summary.quarantined == 0, (kind, summary)
