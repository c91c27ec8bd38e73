"""``cxloop reports …`` in this process on a copy of the demo store: export, render, schedule
add/list/remove and tick; every data problem is a sentence with exit code 2, no traceback."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from tests.cli.support import run_in_process
from tests.reports.pdf_text import pdf_text


def _run(store: Path, folder: Path, *args: str):  # type: ignore[no-untyped-def]
    env = {"CXLOOP_DATABASE_URL": f"sqlite:///{store}", "COLUMNS": "120"}
    return run_in_process(args, cwd=folder, env=env)


def test_export_render_schedule_and_tick(demo_path: Path, tmp_path: Path) -> None:
    done = _run(demo_path, tmp_path, "reports", "export", "metrics", "-q",
                "metric=nps&by=region&since=2026-01", "-o", "m.csv")  # fmt: skip
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO((tmp_path / "m.csv").read_text("utf-8-sig"))))
    assert {"上海", "北京"} <= {r["slice.region"] for r in rows}
    assert all(int(r["n"]) > 0 for r in rows)

    done = _run(demo_path, tmp_path, "reports", "render", "-q", "since=2026-01", "--lang", "en",
                "-o", "r.pdf")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Customer experience report" in pdf_text((tmp_path / "r.pdf").read_bytes())

    done = _run(demo_path, tmp_path, "reports", "schedule", "add", "Weekly CX",
                "--to", "lead@example.com", "--every", "weekly", "--weekday", "mon",
                "-q", "last=3m")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "weekly mon 08:00 Asia/Shanghai" in done.stdout
    listed = _run(demo_path, tmp_path, "reports", "schedule", "list")
    assert "Weekly CX" in listed.stdout and "last=3m" in listed.stdout
    # no mail server is set: the due report waits for the next tick, and the tick says so
    ticked = _run(demo_path, tmp_path, "reports", "tick", "--now", "2030-01-01T00:00")
    assert ticked.returncode == 0, ticked.stderr
    assert "waiting 1" in ticked.stdout
    removed = _run(demo_path, tmp_path, "reports", "schedule", "remove", "1")
    assert removed.returncode == 0 and "removed schedule 1" in removed.stdout


def test_problems_are_sentences(demo_path: Path, tmp_path: Path) -> None:
    cases = [
        (("reports", "export", "weather", "-o", "x.csv"), "is not a view that exports"),
        (("reports", "export", "journey", "-o", "x.pdf"), "is not an export format"),
        (("reports", "render", "-o", "r.docx"), "is not a report format"),
        (("reports", "export", "journey", "-q", "where=region=火星", "-o", "j.csv"), "火星"),
        (("reports", "schedule", "add", "X", "--to", "nobody", "--timezone", "Mars/Base"),
         "Mars/Base"),
        (("reports", "schedule", "remove", "99"), "no report schedule 99"),
    ]  # fmt: skip
    for args, words in cases:
        done = _run(demo_path, tmp_path, *args)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert words in done.stderr and "Traceback" not in done.stderr
