"""A real ``kill -9`` during an import never leaves stored feedback without its text features."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROWS = 12_000
TEXTS = (
    "送货很快但是客服态度很差",
    "The app keeps crashing when I pay",
    "价格便宜，包装也不错",
    "Refund still not received after two weeks",
    "",
)


def _write_file(path: Path) -> None:
    with path.open("w", encoding="utf-8") as handle:
        handle.write("feedback_id,channel,created_at,text\n")
        for i in range(ROWS):
            body = TEXTS[i % len(TEXTS)]
            handle.write(f"F{i},chat,2026-01-{1 + i % 28:02d} 10:00,{body} {i if body else ''}\n")


def _counts(database: Path) -> tuple[int, int, int]:
    with sqlite3.connect(database) as db:
        feedback = db.execute("SELECT count(*) FROM feedback").fetchone()[0]
        features = db.execute("SELECT count(*) FROM feedback_text").fetchone()[0]
        joined = db.execute(
            "SELECT count(*) FROM feedback f JOIN feedback_text t USING (feedback_id)"
        ).fetchone()[0]
    return feedback, features, joined


@pytest.mark.slow
def test_killed_import_keeps_features_with_their_chunk_and_the_rerun_finishes(
    tmp_path: Path,
) -> None:
    csv = tmp_path / "feedback.csv"
    _write_file(csv)
    database = tmp_path / "victim.db"
    env = {
        **os.environ,
        "CXLOOP_DATABASE_URL": f"sqlite:///{database}",
        "CXLOOP_IMPORT_BATCH_SIZE": "500",
        "CXLOOP_IMPORT_PARALLEL": "false",
    }
    command = [sys.executable, "-m", "cxloop", "import", "feedback", str(csv), "--json"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    stored = 0
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and process.poll() is None:
        try:
            stored = _counts(database)[0]
        except sqlite3.OperationalError:  # schema not created yet
            stored = 0
        if stored >= 1_500:
            break
        time.sleep(0.01)
    assert process.poll() is None, "the import finished before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)

    feedback, features, joined = _counts(database)
    assert 0 < feedback < ROWS, "the kill did not land mid-import"
    assert features == joined == feedback  # each committed chunk came with its features

    rerun = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    summary = json.loads(rerun.stdout)
    assert (summary["inserted"], summary["unchanged"]) == (ROWS - feedback, feedback)
    assert summary["enriched"] == ROWS - feedback  # the rows stored before the kill: not again
    assert _counts(database) == (ROWS, ROWS, ROWS)
