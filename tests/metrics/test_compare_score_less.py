"""``compare --period`` picks its current period from the answers that hold the metric:
feedback without that score after the last answer (a case's follow-up note) moves no period."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from cxloop import api
from cxloop.config import Settings
from cxloop.metrics.comparisons import compare


def test_score_less_feedback_after_the_last_answer_moves_no_period(tmp_path: Path) -> None:
    answers = [
        {
            "feedback_id": f"a{i}",
            "channel": "survey",
            "created_at": f"2026-{9 if i < 40 else 10:02d}-{1 + i % 28:02d}T10:00:00+08:00",
            "nps": 10 if i % 3 else 2,
        }
        for i in range(80)
    ]
    notes = [
        {
            "feedback_id": f"n{i}",
            "channel": "email",
            "created_at": f"2026-11-{1 + i:02d}T10:00:00+08:00",
            "text": "已回访，客户表示满意",
        }
        for i in range(3)
    ]
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'cxloop.db'}")
    store = api.connect(settings=settings)
    try:
        api.import_records(store, "feedback", answers + notes)
    finally:
        store.close()
    result = compare(
        settings=settings, metric="nps", period="month", now=dt.datetime(2026, 12, 6, tzinfo=dt.UTC)
    )
    assert (result.base, result.current) == ("2026-09", "2026-10")
    assert (result.rows[0].n_base, result.rows[0].n_current) == (40, 40)
