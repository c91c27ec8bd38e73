"""Run ``python -m cxloop`` as a user would: a real process on a SQLite file in ``tmp_path``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run_cxloop(
    tmp_path: Path,
    *args: str,
    stdin: str | None = None,
    env: dict[str, str] | None = None,
    timeout: int = 300,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cxloop", *args],
        env={
            **os.environ,
            "CXLOOP_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
            "COLUMNS": "200",
            **(env or {}),
        },
        cwd=tmp_path,
        capture_output=True,
        text=True,
        input=stdin,
        timeout=timeout,
    )
