"""The case pages' service desk (``case_pages_support``) with what the 360 pages must also
survive: a customer with nothing but a name (c-4), ids with a slash and in Chinese, a B2B
account whose contacts give no role or a role no weight names and whose answers come from a
contact nobody imported, an account one person answered for once (A-1) and one nobody
answered for (A-2)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cxloop import api
from cxloop.customers.models import Contact
from tests.web.case_pages_support import Desk, build_desk

SLASHED = "c/5"
CHINESE = "客户-甲"
ODD_ACCOUNT = "A/北京"


def build_people(database: Path) -> Desk:
    """``build_desk``'s store with the extra customers, account, contacts and answers."""
    desk = build_desk(database)
    rows: dict[str, list[dict[str, Any]]] = {
        "customers": [
            {"customer_id": "c-4", "name": "赵敏"},  # no orders, no feedback, no case
            {"customer_id": SLASHED, "name": "Ann O'Neil", "email": "ann@example.org"},
            {"customer_id": CHINESE, "name": "欧阳娜娜", "email": "nana@例子.cn"},
        ],
        "accounts": [{"account_id": ODD_ACCOUNT, "name": "北京/一号店", "tier": "silver"}],
        "contacts": [
            {"contact_id": "K-7", "account_id": ODD_ACCOUNT, "name": "周助理", "role": "行政助理"},
        ],
        "feedback": [
            {"feedback_id": f"b2b-{i}", "source": "crm", "channel": "survey",
             "account_id": ODD_ACCOUNT, "contact_id": contact, "nps": nps,
             "created_at": f"2026-11-0{i}T09:00:00+08:00", "text": text}
            for i, (contact, nps, text) in enumerate(
                [("K-7", 9, "服务很好"), ("K-404", 3, "发票一直没到"), ("K-8", 10, "很满意")],
                start=1,
            )
        ]
        + [{"feedback_id": "b2b-9", "source": "crm", "channel": "survey", "account_id": "A-1",
            "contact_id": "K-1", "nps": 6, "created_at": "2026-11-12T09:00:00+08:00"}],
    }  # fmt: skip
    for kind, records in rows.items():
        summary = api.import_records(desk.api.store, kind, records)
        assert summary.inserted == len(records), (kind, summary)
    with desk.api.store.sessions() as session:
        # a contact stored without a role (an older store or a direct load; imports require one)
        nameless = Contact(
            contact_id="K-8", account_id=ODD_ACCOUNT, name="无名氏", role="", row_hash="no-role"
        )
        session.add(nameless)
        session.commit()
    return desk
