"""Enrichment on several worker processes stores exactly what one process stores."""

from __future__ import annotations

import multiprocessing
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import text

from cxloop.api import Store, connect, import_file
from cxloop.config import Settings
from cxloop.feedback.enrichment import POOL_MIN_ROWS
from cxloop.text.pipeline import close_pool

ZH = ("送货很快", "客服态度很差", "包装破了", "价格便宜", "退款一直不到账", "正品，会回购")
EN = ("Fast delivery", "the app keeps crashing", "refund took forever", "great value")
ODD = ("", "👍👍", "12345", "Call me on 13812345678 about order 88812", "ok", "yyds 绝绝子")


def _text(i: int) -> str:
    """Chinese, English, mixed, emoji-only, blank, numbers, PII and long texts, by row."""
    kind = i % 7
    if kind == 0:
        return "，".join(ZH[(i + k) % len(ZH)] for k in range(1 + i % 4)) + "。"
    if kind == 1:
        return ". ".join(EN[(i + k) % len(EN)] for k in range(1 + i % 3))
    if kind == 2:
        return f"{ZH[i % len(ZH)]} but {EN[i % len(EN)]}"
    if kind == 3:
        return ODD[i % len(ODD)]
    if kind == 4:
        return "；".join(ZH[(i * k) % len(ZH)] for k in range(1, 30))  # a long one
    return f"{ZH[i % len(ZH)]}，{ZH[(i // 7) % len(ZH)]}"


def _file(path: Path, rows: int) -> Path:
    lines = ["feedback_id,channel,created_at,text"]
    lines += [f'W{i:05d},review,2026-03-{1 + i % 28:02d} 09:30,"{_text(i)}"' for i in range(rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _features(store: Store) -> tuple[list[Any], list[Any]]:
    """Every stored feature and topic row, in key order, without the time of analysis."""
    with store.engine.connect() as connection:
        features = connection.execute(
            text(
                "SELECT feedback_id, language, mixed, sentiment, sentiment_score, intent, flags,"
                " emotions, keywords, aspects, pii, text_hash, model_version, taxonomy_version"
                " FROM feedback_text ORDER BY feedback_id"
            )
        ).all()
        topics = connection.execute(
            text(
                "SELECT feedback_id, topic, topic_l1, sentiment, score, mentions"
                " FROM feedback_topic ORDER BY feedback_id, topic"
            )
        ).all()
    return [tuple(r) for r in features], [tuple(r) for r in topics]


@pytest.mark.slow
def test_two_worker_processes_store_the_same_features_as_one(tmp_path: Path) -> None:
    source = _file(tmp_path / "feedback.csv", POOL_MIN_ROWS + 300)
    stored = {}
    close_pool()
    for workers in (1, 2):
        settings = Settings(
            database_url=f"sqlite:///{tmp_path}/w{workers}.db", text_workers=workers
        )
        store = connect(settings=settings)
        summary = import_file(store, "feedback", source)
        assert summary.enriched == POOL_MIN_ROWS + 300
        if workers == 2:  # the analysis really ran in worker processes, kept for the next chunk
            assert len(multiprocessing.active_children()) >= 2
        stored[workers] = _features(store)
        store.close()
    close_pool()
    assert len(stored[1][0]) == POOL_MIN_ROWS + 300
    assert len(stored[1][1]) > POOL_MIN_ROWS  # topics were found, so the comparison means something
    assert stored[2] == stored[1]


def test_text_workers_default_to_the_usable_cpus_and_below_one_is_refused() -> None:
    assert Settings().text_workers >= 1
    with pytest.raises(ValidationError, match="text_workers"):
        Settings(text_workers=0)


def test_cli_names_a_text_workers_setting_below_one(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cxloop", "init"],
        env={"CXLOOP_DATABASE_URL": f"sqlite:///{tmp_path}/x.db", "CXLOOP_TEXT_WORKERS": "0"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "text_workers" in result.stderr and "greater than or equal to 1" in result.stderr
    assert "Traceback" not in result.stderr
