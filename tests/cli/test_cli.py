"""The ``cxloop`` command as a user runs it: real processes, real files."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from tests.cli.support import run_cxloop as _cxloop


def test_import_prints_a_json_summary_and_quarantines_bad_rows(tmp_path: Path) -> None:
    path = tmp_path / "answers.csv"
    path.write_text(
        "用户ID,渠道,提交时间,评论内容,推荐度\n"
        "C1,问卷,2026/01/02 10:00,送货很快,9\n"
        "C2,问卷,2026/01/03 10:00,太慢了,12\n",
        encoding="gb18030",
    )
    result = _cxloop(tmp_path, "import", "feedback", str(path), "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert (summary["read"], summary["inserted"], summary["quarantined"]) == (2, 1, 1)
    assert summary["rejected"][0] == {
        "row": 3,
        "problems": [{"field": "nps", "value": "12", "reason": "is outside 0–10"}],
    }

    again = json.loads(_cxloop(tmp_path, "import", "feedback", str(path), "--json").stdout)
    assert (again["inserted"], again["unchanged"]) == (0, 1)

    listed = _cxloop(tmp_path, "quarantine", "list", "--json")
    rows = json.loads(listed.stdout)
    assert len(rows) == 1 and rows[0]["field"] == "nps" and rows[0]["raw"]["推荐度"] == "12"

    export = tmp_path / "rejected.csv"
    assert _cxloop(tmp_path, "quarantine", "export", str(export)).returncode == 0
    frame = pd.read_csv(export, dtype=str, encoding="utf-8-sig")
    assert list(frame["quarantine_row"]) == ["3"]
    assert "outside 0–10" in frame["quarantine_problems"].iloc[0]
    assert frame["评论内容"].iloc[0] == "太慢了"


def test_defaults_fill_a_field_the_file_lacks(tmp_path: Path) -> None:
    path = tmp_path / "reviews.jsonl"
    path.write_text(
        '{"id": "r1", "date": "2026-01-01", "review": "good", "stars": 5}\n', encoding="utf-8"
    )
    result = _cxloop(
        tmp_path,
        "import",
        "feedback",
        str(path),
        "--set",
        "channel=review",
        "--set",
        "source=tmall",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["inserted"] == 1


def test_an_unreadable_file_exits_nonzero_with_a_clear_message(tmp_path: Path) -> None:
    result = _cxloop(tmp_path, "import", "feedback", str(tmp_path / "missing.csv"))
    assert result.returncode == 2
    assert "no such file" in result.stderr and "Traceback" not in result.stderr
    bad_kind = _cxloop(tmp_path, "import", "complaints", str(tmp_path / "missing.csv"))
    assert bad_kind.returncode == 2 and "is not an import kind" in bad_kind.stderr


def test_a_file_missing_a_required_column_names_it(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text("order_id,customer_id\nO1,C1\n", encoding="utf-8")
    result = _cxloop(tmp_path, "import", "orders", str(path))
    assert result.returncode == 2
    assert "ordered_at" in result.stderr and "amount" in result.stderr


def test_init_user_and_token(tmp_path: Path) -> None:
    assert _cxloop(tmp_path, "init").returncode == 0
    added = _cxloop(
        tmp_path, "user", "add", "ana", "--role", "analyst", "--password", "correct horse"
    )
    assert added.returncode == 0, added.stderr
    token = _cxloop(tmp_path, "token", "create", "ana").stdout.strip()
    assert token.startswith("cxl_") and len(token) > 40
    duplicate = _cxloop(tmp_path, "user", "add", "ana", "--role", "viewer", "--no-password")
    assert duplicate.returncode == 2 and "already exists" in duplicate.stderr
    bad_role = _cxloop(tmp_path, "user", "add", "bob", "--role", "boss", "--no-password")
    assert bad_role.returncode != 0 and "boss" in bad_role.stderr
