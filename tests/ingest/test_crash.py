"""A real ``kill -9`` in the middle of an import loses nothing and duplicates nothing."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from cxloop.api import connect, import_file
from cxloop.config import Settings

ROWS = 120_000


def _write_file(path: Path) -> None:
    rng = np.random.default_rng(7)
    channels = np.array(["survey", "review", "chat", "ticket", "social"])
    with path.open("w", encoding="utf-8") as handle:
        handle.write("feedback_id,channel,created_at,text,nps\n")
        for i in range(ROWS):
            nps = str(rng.integers(0, 11)) if i % 97 else "eleven"  # about 1 % bad rows
            fid = f"F{i}" if i % 5 else ""  # some rows keyed by content hash
            handle.write(
                f"{fid},{channels[i % 5]},2026-01-{1 + i % 28:02d} 10:00,"
                f"第{i}条 反馈 text {i},{nps}\n"
            )


def _state(database: Path) -> tuple[set[tuple[str, str]], set[int]]:
    with sqlite3.connect(database) as db:
        rows = set(db.execute("SELECT feedback_id, row_hash FROM feedback"))
        quarantined = [r[0] for r in db.execute("SELECT row_number FROM quarantined_rows")]
    assert len(quarantined) == len(set(quarantined)), "a row was quarantined twice"
    return rows, set(quarantined)


def _import_command(database: Path, csv: Path, parallel: bool) -> tuple[list[str], dict[str, str]]:
    env = {
        **os.environ,
        "CXLOOP_DATABASE_URL": f"sqlite:///{database}",
        "CXLOOP_IMPORT_BATCH_SIZE": "2000",
        "CXLOOP_IMPORT_PARALLEL": "true" if parallel else "false",
        "CXLOOP_IMPORT_PARALLEL_MIN_BYTES": "0",
        # what is under test is the import's chunking; text enrichment on a kill has its own
        # test (tests/feedback/test_enrichment_crash.py) and would triple this one's time
        "CXLOOP_ENRICH_ON_IMPORT": "false",
    }
    return [sys.executable, "-m", "cxloop", "import", "feedback", str(csv), "--json"], env


def _children_of(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (the import worker, when one runs)."""
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        if f"\nPPid:\t{pid}\n" in status:
            children.append(int(entry.name))
    return children


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "State:\tZ" not in state


@pytest.mark.slow
@pytest.mark.parametrize("parallel", [False, True], ids=["in-process", "worker-process"])
def test_killed_import_rerun_ends_with_the_rows_of_one_clean_import(
    tmp_path: Path, parallel: bool
) -> None:
    csv = tmp_path / "feedback.csv"
    _write_file(csv)

    reference = tmp_path / "reference.db"
    store = connect(
        settings=Settings(database_url=f"sqlite:///{reference}", enrich_on_import=False)
    )
    clean = import_file(store, "feedback", csv)
    store.close()
    expected = _state(reference)
    assert clean.read == ROWS and len(expected[0]) + len(expected[1]) == ROWS

    victim = tmp_path / "victim.db"
    command, env = _import_command(victim, csv, parallel)
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    stored = 0
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with sqlite3.connect(victim, timeout=1) as db:
                stored = db.execute("SELECT count(*) FROM feedback").fetchone()[0]
        except sqlite3.OperationalError:  # schema not created yet
            stored = 0
        if stored >= 10_000:
            break
        time.sleep(0.01)
    assert process.poll() is None, "the import finished before it could be killed"
    workers = _children_of(process.pid)
    assert bool(workers) == parallel
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    deadline = time.monotonic() + 30
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(w) for w in workers), "the worker outlived its killed parent"

    partial_rows, _ = _state(victim)
    assert 0 < len(partial_rows) < len(expected[0]), "the kill did not land mid-import"
    with sqlite3.connect(victim) as db:
        status = db.execute("SELECT status FROM import_runs").fetchone()[0]
    assert status == "running"

    rerun = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert _state(victim) == expected
    with sqlite3.connect(victim) as db:
        statuses = [r[0] for r in db.execute("SELECT status FROM import_runs ORDER BY id")]
    assert statuses == ["interrupted", "finished"]
