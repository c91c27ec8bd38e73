"""A small store with effects planted by exact counts, to check filters and comparisons.

September → October 2025: chat goes from NPS −50 to +50 (a real change), survey stays at 0;
VIP customers answer +83 in both months (a real group difference). Rows vary like real
exports: Chinese regions, customers without a segment, answers without touchpoint, an answer
at 07:30 on 1 October in Shanghai (still September in UTC), B2B answers by contact role.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from cxloop import api

# (month, channel, segment): (promoters, passives, detractors)
CELLS: dict[tuple[str, str, str | None], tuple[int, int, int]] = {
    ("2025-09", "survey", "regular"): (20, 20, 20),
    ("2025-10", "survey", "regular"): (20, 20, 20),
    ("2025-09", "chat", "regular"): (6, 12, 30),
    ("2025-10", "chat", "regular"): (30, 12, 6),
    ("2025-09", "survey", "vip"): (25, 5, 0),
    ("2025-10", "survey", "vip"): (25, 5, 0),
    ("2025-10", "email", None): (2, 1, 1),
}
SCORES = {"promoter": (10, 5, 6), "passive": (7, 4, 5), "detractor": (3, 2, 2)}
"""(nps, csat, ces) each kind of answer gives."""

CUSTOMERS = [
    {"customer_id": "c-vip", "segment": "vip", "region": "上海"},
    {"customer_id": "c-regular", "segment": "regular", "region": "浙江"},
    {"customer_id": "c-none", "region": "四川"},
]
ACCOUNTS = [{"account_id": "A-1", "name": "Acme", "segment": "enterprise", "region": "北京"}]
CONTACTS = [
    {"contact_id": "k-buyer", "account_id": "A-1", "role": "purchaser"},
    {"contact_id": "k-user", "account_id": "A-1", "role": "user"},
]
B2B = [
    {"contact_id": "k-buyer", "account_id": "A-1", "nps": 9, "channel": "email"},
    {"contact_id": "k-buyer", "account_id": "A-1", "nps": 10, "channel": "email"},
    {"contact_id": "k-user", "account_id": "A-1", "nps": 2, "channel": "email"},
]
BOUNDARY_ID = "f-boundary"
NOW = dt.datetime(2026, 12, 6, 5, 30)
"""A clock long past the data, as when an export is analysed later."""


def feedback_rows() -> list[dict[str, Any]]:
    """Every planted answer, one dict per row, in the shape of an import."""
    rows: list[dict[str, Any]] = []
    for (month, channel, segment), counts in CELLS.items():
        customer = {"vip": "c-vip", "regular": "c-regular", None: "c-none"}[segment]
        kinds = ["promoter"] * counts[0] + ["passive"] * counts[1] + ["detractor"] * counts[2]
        for i, kind in enumerate(kinds):
            nps, csat, ces = SCORES[kind]
            row: dict[str, Any] = {
                "feedback_id": f"f-{month}-{channel}-{segment}-{i}",
                "channel": channel,
                "customer_id": customer,
                "created_at": f"{month}-{1 + i % 28:02d}T{8 + i % 10:02d}:15:00+00:00",
                "nps": nps,
                "csat": csat,
                "ces": ces,
            }
            if i % 3:  # a third of the answers carry no touchpoint
                row["touchpoint"] = "app" if i % 2 else "store"
            rows.append(row)
    # an answer given at 07:30 on 1 October in Shanghai is still September in UTC
    boundary = rows[0]
    assert boundary["created_at"].startswith("2025-09") and boundary["nps"] == 10
    boundary.update(feedback_id=BOUNDARY_ID, created_at="2025-10-01T07:30:00+08:00")
    rows += [
        {"feedback_id": f"b2b-{i}", "created_at": "2025-10-20T09:00:00Z", **row}
        for i, row in enumerate(B2B)
    ]
    return rows


def fill(store: api.Store) -> None:
    """Import the profiles and the answers through the import door."""
    for kind, rows in (("customers", CUSTOMERS), ("accounts", ACCOUNTS), ("contacts", CONTACTS)):
        assert api.import_records(store, kind, rows).inserted == len(rows)
    rows = feedback_rows()
    assert api.import_records(store, "feedback", rows).inserted == len(rows)


def build(database: Path) -> None:
    store = api.connect(f"sqlite:///{database}")
    try:
        fill(store)
    finally:
        store.close()
