"""Unknown renewal is churn everywhere renewal is read, decided explicitly: a billing export
with an end date and no ``renewed`` column must not read as "nobody ever left" (pandas'
three-valued logic turned ``~active & NA`` into false before issue 11)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from cxloop import engines
from cxloop.api import connect, import_records
from cxloop.config import Settings
from cxloop.insights import profiles, voice_reports


@pytest.fixture(scope="module")
def b2b(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Twelve accounts: six whose contract ended with renewal unknown (their decision makers
    scored 2), four still running, two renewed on paper (``renewed`` true) and ended."""
    folder = tmp_path_factory.mktemp("renewal")
    settings = Settings(database_url=f"sqlite:///{folder / 'cxloop.db'}", enrich_on_import=False)
    store = connect(settings=settings)
    ids = [f"A{i:02d}" for i in range(12)]
    try:
        import_records(store, "accounts", [{"account_id": a, "name": f"Co {a}"} for a in ids])
        import_records(
            store,
            "contacts",
            [{"contact_id": f"K{a}", "account_id": a, "role": "decision_maker"} for a in ids],
        )
        answers = [
            {
                "feedback_id": f"F{a}-{k}",
                "channel": "survey",
                "contact_id": f"K{a}",
                "account_id": a,
                "created_at": f"2026-0{k + 1}-10 10:00",
                "nps": 2 if i < 6 else 9,
            }
            for i, a in enumerate(ids)
            for k in range(2)
        ]
        import_records(store, "feedback", answers)
        contracts = []
        for i, a in enumerate(ids):
            row = {"subscription_id": f"S{a}", "account_id": a, "plan": "pro"}
            row["started_at"] = "2025-06-01"
            if i < 6:  # ended, renewal unknown: the export has no renewed value
                row["ended_at"] = "2026-05-01"
            elif i >= 10:  # renewed on paper, and no contract running now
                row.update(ended_at="2026-05-01", renewed="yes")
            contracts.append(row)
        import_records(store, "subscriptions", contracts)
        import_records(
            store,
            "orders",
            [{"order_id": "O1", "account_id": "A00", "ordered_at": "2026-09-30", "amount": 1}],
        )
    finally:
        store.close()
    return settings


def test_account_churn_voice_counts_unknown_renewal_as_churn(b2b: Settings) -> None:
    result = voice_reports.account_churn_voice(settings=b2b)
    groups = {row["group"]: row for row in result.rows}
    assert groups["churned"]["accounts"] == 6 and groups["churned"]["mean_nps"] == 2.0
    assert groups["renewed"]["accounts"] == 6 and groups["renewed"]["mean_nps"] == 9.0
    assert result.details["difference"] == pytest.approx(-7.0)


def test_subscription_state_decides_unknown_renewal(tmp_path: Path) -> None:
    """Member state as of a date: a blank renewal after the last end is churn; a blank on the
    latest row is not hidden by an earlier ``renewed`` true (groupby-last skips blanks)."""
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'm.db'}", enrich_on_import=False)
    store = connect(settings=settings)
    rows = [
        ("c1", "2025-01-01", "2025-06-01", ""),  # ended, unknown: churned
        ("c2", "2025-01-01", "2025-06-01", "true"),  # renewed then stopped, later ended blank
        ("c2", "2025-06-01", "2025-12-01", ""),
        ("c3", "2025-01-01", "", ""),  # running
        ("c4", "2025-01-01", "2025-06-01", "false"),  # explicit non-renewal
        ("c5", "2025-01-01", "2025-06-01", "true"),  # renewed on paper: not churned
    ]
    try:
        import_records(
            store,
            "subscriptions",
            [
                {
                    "subscription_id": f"S{i}",
                    "customer_id": c,
                    "plan": "basic",
                    "started_at": start,
                    "ended_at": end,
                    "renewed": renewed,
                }
                for i, (c, start, end, renewed) in enumerate(rows)
            ],
        )
    finally:
        store.close()
    backend = engines.store_backend(settings)
    try:
        state = profiles.subscription_state(backend, dt.datetime(2026, 1, 1))
        # members named only by the billing export (no customers file) are still customers
        features = profiles.customer_features(backend, dt.datetime(2026, 1, 1))
    finally:
        backend.disconnect()
    assert state["churned"].to_dict() == {
        "c1": True,
        "c2": True,
        "c3": False,
        "c4": True,
        "c5": False,
    }
    assert state["active"].to_dict()["c3"] and not state["active"].to_dict()["c2"]
    assert features["sub_churned"].astype(bool).to_dict() == state["churned"].to_dict()
