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


def _descendants(pid: int) -> set[int]:
    """Processes started by ``pid`` and by its children (text workers, a fork server)."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                status = (entry / "status").read_text()
            except OSError:
                continue
            ppid = next(ln for ln in status.splitlines() if ln.startswith("PPid:")).split()[1]
            parents[int(entry.name)] = int(ppid)
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _running(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status  # a zombie has exited


def _kill_mid_import(
    command: list[str], env: dict[str, str], database: Path, after: int
) -> set[int]:
    """Start the import, ``kill -9`` it once ``after`` rows are stored; its children's pids."""
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    stored = 0
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and process.poll() is None:
        try:
            stored = _counts(database)[0]
        except sqlite3.OperationalError:  # schema not created yet
            stored = 0
        if stored >= after:
            break
        time.sleep(0.01)
    assert process.poll() is None, "the import finished before it could be killed"
    children = _descendants(process.pid) if sys.platform == "linux" else set()
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    return children


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
    _kill_mid_import(command, env, database, after=1_500)

    feedback, features, joined = _counts(database)
    assert 0 < feedback < ROWS, "the kill did not land mid-import"
    assert features == joined == feedback  # each committed chunk came with its features

    rerun = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    summary = json.loads(rerun.stdout)
    assert (summary["inserted"], summary["unchanged"]) == (ROWS - feedback, feedback)
    assert summary["enriched"] == ROWS - feedback  # the rows stored before the kill: not again
    assert _counts(database) == (ROWS, ROWS, ROWS)


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="reads the process tree from /proc")
@pytest.mark.parametrize("output", ["--json", "--table"])
def test_killed_import_leaves_no_text_workers_behind(tmp_path: Path, output: str) -> None:
    """Chunks of 1,000 rows go to two worker processes (forked, or from a fork server when a
    progress bar runs a thread); a killed import's workers exit instead of waiting forever."""
    csv = tmp_path / "feedback.csv"
    _write_file(csv)
    database = tmp_path / "victim.db"
    env = {
        **os.environ,
        "CXLOOP_DATABASE_URL": f"sqlite:///{database}",
        "CXLOOP_IMPORT_BATCH_SIZE": "1000",
        "CXLOOP_IMPORT_PARALLEL": "false",
        "CXLOOP_TEXT_WORKERS": "2",
    }
    command = [sys.executable, "-m", "cxloop", "import", "feedback", str(csv)]
    command += ["--json"] if output == "--json" else []
    children = _kill_mid_import(command, env, database, after=2_000)
    assert len(children) >= 2, "the import ran no worker processes"

    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(map(_running, children)):
        time.sleep(0.1)
    assert not [pid for pid in children if _running(pid)], "workers outlived the killed import"
    feedback, features, joined = _counts(database)
    assert 0 < feedback < ROWS
    assert features == joined == feedback
