"""``cxloop demo`` end to end: generate, import through the real importer, serve, log in."""

from __future__ import annotations

import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from cxloop.demo.texts import MARKERS


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _churn_by_support_complaint(database: Path) -> tuple[float, float]:
    """Churn of members who complained about slow support vs the others, from the store."""
    like = " OR ".join("f.text LIKE ?" for _ in MARKERS["support_slow"])
    query = f"""
        WITH complainers AS (
            SELECT DISTINCT f.customer_id FROM feedback f
            WHERE f.customer_id IS NOT NULL AND ({like})),
        members AS (
            SELECT customer_id, MAX(CASE WHEN ended_at IS NOT NULL AND renewed = 0
                                         THEN 1 ELSE 0 END) AS churned
            FROM subscriptions WHERE customer_id IS NOT NULL GROUP BY customer_id)
        SELECT m.customer_id IN (SELECT customer_id FROM complainers) AS complained,
               AVG(m.churned) FROM members m GROUP BY complained"""
    with sqlite3.connect(database) as db:
        rates = dict(db.execute(query, [f"%{m}%" for m in MARKERS["support_slow"]]).fetchall())
    return rates[1], rates[0]


def _enrichment(database: Path) -> tuple[int, int, int, int]:
    """Feedback rows; of them, with a ``feedback_text`` row (of the row's current text), with a
    ``feedback_topic`` row; and feature rows of no feedback row."""
    with sqlite3.connect(database) as db:
        return db.execute(
            """SELECT (SELECT COUNT(*) FROM feedback),
                      (SELECT COUNT(*) FROM feedback f JOIN feedback_text t
                         ON t.feedback_id = f.feedback_id AND t.source_row_hash = f.row_hash),
                      (SELECT COUNT(DISTINCT feedback_id) FROM feedback_topic),
                      (SELECT COUNT(*) FROM feedback_text t WHERE NOT EXISTS
                         (SELECT 1 FROM feedback f WHERE f.feedback_id = t.feedback_id))"""
        ).fetchone()


@pytest.mark.slow
def test_demo_imports_everything_cleanly_and_serves_it(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "COLUMNS": "200"}
    process = subprocess.Popen(
        [sys.executable, "-m", "cxloop", "demo", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            output.append(line)
            if "to use this database later" in line:
                break
        text = "".join(output)
        login = re.search(r"login: admin / (\S+)", text)
        assert login, text
        base = f"http://127.0.0.1:{port}"
        up = False
        for _ in range(300):
            try:
                up = httpx.get(f"{base}/healthz").status_code == 200
            except httpx.TransportError:
                up = False
            if up:
                break
            time.sleep(0.1)
        assert up, "the demo server did not answer /healthz within 30 s:\n" + text
        with httpx.Client(base_url=base, follow_redirects=True) as client:
            page = client.post("/login", data={"username": "admin", "password": login.group(1)})
            assert page.status_code == 200 and 'id="tiles"' in page.text  # the overview
            page = client.get("/data")
            assert page.status_code == 200 and 'id="rows-per-kind"' in page.text
            overview = client.get("/api/v1/overview").json()
        token = re.search(r"Authorization: Bearer (cxl_\S+)' ", text)
        assert token, "the printed curl line carries the whole token"
        by_token = httpx.get(
            f"{base}/api/v1/overview", headers={"Authorization": f"Bearer {token.group(1)}"}
        )
        assert by_token.status_code == 200 and by_token.json() == overview
    finally:
        process.terminate()
        process.wait(timeout=30)

    rows = overview["rows"]
    assert rows["customers"] == 3000 and rows["accounts"] >= 24 and rows["feedback"] > 4000
    assert overview["quarantined"] == 0, "the demo must import cleanly"
    assert set(overview["feedback_by_channel"]) == {
        "survey",
        "review",
        "social",
        "forum",
        "ticket",
        "chat",
        "email",
    }
    assert overview["feedback_linked"] > 0.6 * rows["feedback"]
    assert re.search(r"feedback\s.*\s6,?\d{3}\s", text), "the import table is printed"

    database = tmp_path / "cxloop-demo" / "demo.db"
    complained, others = _churn_by_support_complaint(database)
    assert complained > 2 * others, (complained, others)

    # the demo's feedback is enriched: every row analysed on import, most with a topic
    feedback, analysed, with_topic, orphans = _enrichment(database)
    assert feedback == rows["feedback"]
    assert analysed == feedback, f"{feedback - analysed} feedback rows lack text features"
    assert with_topic > feedback // 2, (with_topic, feedback)
    assert orphans == 0
