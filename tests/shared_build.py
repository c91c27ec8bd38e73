"""Something slow built once per test run, not once per pytest-xdist worker.

A session fixture runs in every worker; a demo company costs ~10–15 s of CPU to build. The
first worker to ask builds it under a lock in the folder all workers of the run share (the
parent of each worker's base temp folder, as pytest-xdist's docs advise); the others wait and
reuse it. Whoever writes to what was built must copy it first (``copy_sqlite``).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest


def build_once(factory: pytest.TempPathFactory, name: str, build: Callable[[Path], None]) -> Path:
    """The folder ``name``, filled by ``build(folder)`` the first time any worker asks."""
    base = factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent
    folder = base / name
    with (base / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            done = folder / ".built"
            if not done.exists():
                shutil.rmtree(folder, ignore_errors=True)  # a build that failed half-way
                folder.mkdir(parents=True)
                build(folder)
                done.touch()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return folder


def copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy of a SQLite store through SQLite's backup API."""
    target.parent.mkdir(parents=True, exist_ok=True)
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
