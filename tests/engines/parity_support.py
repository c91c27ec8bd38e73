"""What the engine-parity tests share: the small demo company with calendar-edge answers, the
slicings every metric is checked under, and the two calls (topic incidence by full topic, the
experience index) compared beyond the metric registry."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from ibis.backends import BaseBackend

from cxloop.api import connect, import_records
from cxloop.config import Settings
from cxloop.demo.generator import DemoConfig
from cxloop.demo.service import load_demo
from cxloop.metrics import indices
from cxloop.metrics import service as metrics_service

SMALL = DemoConfig(seed=7, n_customers=400, n_accounts=8)
SLICINGS = [
    pytest.param(("channel",), "month", id="channel x month"),
    pytest.param(("touchpoint", "journey_stage"), "week", id="touchpoint x stage x week"),
    pytest.param(("account_id",), None, id="account"),
    pytest.param((), "quarter", id="quarter"),
    pytest.param(("segment",), "month", id="segment x month"),
    pytest.param(("region", "role"), None, id="region x role"),
]


EDGES = {
    "edge-sunday-last-instant": ("2025-03-30T23:59:59.999500+00:00", "2025-03-24"),
    "edge-sunday-last-microsecond": ("2026-01-04T23:59:59.999999+00:00", "2025-12-29"),
    "edge-new-years-eve": ("2024-12-31T23:59:59.999999+00:00", "2024-12-30"),
    "edge-new-year": ("2025-01-01T00:00:00+00:00", "2024-12-30"),
    "edge-leap-day": ("2024-02-29T23:59:59.999999+00:00", "2024-02-26"),
}
"""Answers at calendar edges (feedback_id: created_at, first day of its week), added to the demo:
the last instant of a Sunday, a year boundary and 29 February."""


def load_demo_with_edges(database_url: str, folder: Path) -> Settings:
    """The small demo company imported through the real importer (text features stored, for
    the text metrics), plus the ``EDGES`` answers."""
    settings = Settings(database_url=database_url, import_batch_size=1000, enrich_on_import=True)
    store = connect(settings=settings)
    try:
        load_demo(sessions=store.sessions, settings=settings, folder=folder, config=SMALL)
        edges = [
            {
                "feedback_id": key,
                "channel": "forum",
                "touchpoint": "edge-calendar",
                "created_at": stamp,
                "nps": 10,
                "ces": 4,
            }
            for key, (stamp, _) in EDGES.items()
        ]
        assert import_records(store, "feedback", edges).inserted == len(edges)
    finally:
        store.close()
    return settings


def topic_table(backend: BaseBackend, by: tuple[str, ...], period: str | None) -> pd.DataFrame:
    """Topic incidence by the full topic path."""
    return metrics_service.run_metric(
        backend, "topic_incidence", by=by, period=period, level="topic"
    )


def index_table(backend: BaseBackend, by: tuple[str, ...], period: str | None) -> pd.DataFrame:
    """The shipped ``cx_index`` over the sliceable feedback."""
    table = metrics_service.sliceable_feedback(backend, by)
    return indices.experience_index(
        table, indices.default_indices()["cx_index"], by=by, period=period
    )
