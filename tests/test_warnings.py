"""No library warning reaches a user's terminal or the server log.

Every process here runs with ``PYTHONWARNINGS=default``, which shows deprecation and resource
warnings from every module (a plain run hides most of them), so an upstream deprecation that
our filters let through, or a file we leave open, fails the test.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.cli.support import run_cxloop_process as run_cxloop

LOUD = {"PYTHONWARNINGS": "default"}
TEXTS = (
    "送货很快，包装也不错",
    "客服态度很差，退款一直不到账",
    "The app keeps crashing when I pay",
    "Great value, fast delivery",
    "正品，会回购",
    "",
)


def _feedback_file(folder: Path) -> Path:
    """Mixed zh/en answers with scores over three months and four channels, some blank."""
    lines = ["feedback_id,channel,created_at,text,nps,csat"]
    for i in range(240):
        score = "" if i % 11 == 0 else str(i % 11)
        lines.append(
            f"W{i},{('app', 'web', '微信', 'store')[i % 4]},2026-0{1 + i % 3}-{1 + i % 28:02d} "
            f"10:00,{TEXTS[i % len(TEXTS)]} {i},{score},{1 + i % 5}"
        )
    path = folder / "answers.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def store_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("warnings")
    imported = run_cxloop(folder, "import", "feedback", str(_feedback_file(folder)), env=LOUD)
    assert imported.returncode == 0, imported.stderr
    assert "Warning" not in imported.stderr, imported.stderr
    return folder


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("metrics", "nps", "--by", "channel", "--period", "month"), 0),
        (("metrics", "sentiment", "--by", "channel"), 0),
        (("feedback", "list", "--limit", "5"), 0),
        (("insights", "rules"), 0),  # mlxtend: its import switched every DeprecationWarning on
        (("export", "parquet", "--output", "parquet"), 0),
        (("text", "analyze", "answers.csv", "--text-column", "text", "--output", "out.csv"), 0),
        (("metrics", "nps", "--by", "nosuch"), 2),
    ],
)
def test_commands_print_no_library_warning(
    store_folder: Path, args: tuple[str, ...], code: int
) -> None:
    result = run_cxloop(store_folder, *args, env=LOUD)
    assert result.returncode == code, result.stderr
    assert "Warning" not in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


PYTHON_SESSION = """
from cxloop import connect, engines, import_records
from cxloop.config import Settings
from cxloop.metrics import nps, service
from cxloop.text import analyze_batch

backend = engines.store_backend(Settings(database_url="sqlite:///cli.db"))
table = engines.feedback_table(backend)
print(len(nps(table, by=["channel"], period="month")))
print(len(service.run_metric(backend, "topic_incidence", by=["channel"])))
backend.disconnect()
store = connect("sqlite:///other.db")
import_records(store, "customers", [{"customer_id": "C1", "email": "Li.Na@Example.com"}])
store.close()
print(sum(1 for _ in analyze_batch(["送货很快", "slow refund"] * 600, workers=2)))
"""


def test_a_python_api_session_prints_no_library_warning(store_folder: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", PYTHON_SESSION],
        cwd=store_folder,
        env={**os.environ, **LOUD},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-1] == "1200"
    assert "Warning" not in result.stderr, result.stderr


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.slow
def test_the_server_log_has_no_library_warning_while_serving(store_folder: Path) -> None:
    added = run_cxloop(store_folder, "user", "add", "wu", "--role", "admin", "--token-only")
    assert added.returncode == 0, added.stderr
    token = run_cxloop(store_folder, "token", "create", "wu").stdout.strip()
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "cxloop", "serve", "--port", str(port)],
        cwd=store_folder,
        env={**os.environ, **LOUD, "CXLOOP_DATABASE_URL": f"sqlite:///{store_folder}/cli.db"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,  # uvicorn logs requests to stdout, the rest to stderr
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{base}/docs", timeout=5).close()
                break
            except OSError:
                time.sleep(0.5)
        for path in (
            "/api/v1/overview",
            "/api/v1/metrics/nps?by=channel",
            "/api/v1/feedback?limit=5",
            "/api/v1/insights/drivers",
        ):
            request = urllib.request.Request(
                base + path, headers={"Authorization": f"Bearer {token}"}
            )
            with urllib.request.urlopen(request, timeout=120) as response:
                assert response.status == 200, path
                json.load(response)
    finally:
        server.terminate()
        log, _ = server.communicate(timeout=60)
    assert "GET /api/v1/overview" in log  # the log was read while requests were served
    assert "Warning" not in log, log
