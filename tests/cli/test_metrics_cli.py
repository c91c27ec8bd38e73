"""``cxloop metrics …`` as a person reads it: period names, a small-n mark that survives a
pipe, internal sums hidden and floats rounded in tables (full in csv/json), filters, and
``cxloop metrics compare``."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest

from tests.cli.support import run_cxloop
from tests.metrics import scope_data

pytestmark = pytest.mark.filterwarnings("ignore:The 'future.infer_string' option is deprecated")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("metrics-cli")
    scope_data.build(folder / "cli.db")
    return folder


def _ok(folder: Path, *args: str) -> str:
    done = run_cxloop(folder, *args)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return done.stdout


def test_periods_are_named_and_small_n_rows_are_marked_in_plain_text(store: Path) -> None:
    out = _ok(store, "metrics", "nps", "--by", "channel", "--period", "month", "--min-n", "40")
    assert "2025-09" in out and "2025-10" in out and "2025-09-01" not in out
    assert "\x1b[" not in out  # a pipe gets no colour: the mark must carry the meaning
    email = next(line for line in out.splitlines() if "email" in line)
    assert "7 *" in email  # 4 B2C + 3 B2B answers, below --min-n 40
    chat = next(line for line in out.splitlines() if "chat" in line and "2025-10" in line)
    assert "*" not in chat
    assert out.rstrip().endswith("* n below 40: too few answers to read on their own")
    weeks = _ok(store, "metrics", "responses", "--period", "week", "--where", "channel=email")
    assert "2025-W43" in weeks  # 2025-10-20 is the Monday of ISO week 43


def test_tables_round_and_hide_internal_sums_while_csv_keeps_everything(store: Path) -> None:
    table = _ok(store, "metrics", "ces", "--where", "channel=survey")
    assert "total" not in table and "squares" not in table and "share_easy" in table
    rows = list(csv.DictReader(io.StringIO(_ok(store, "metrics", "ces", "--format", "csv"))))
    assert {"total", "squares"} <= set(rows[0])
    nps_table = _ok(store, "metrics", "nps", "--where", "channel=survey")
    assert "+27.8" in nps_table  # (90 − 40) / 180 promoters minus detractors
    [full] = csv.DictReader(
        io.StringIO(_ok(store, "metrics", "nps", "--where", "channel=survey", "--format", "csv"))
    )
    assert full["score"] == "27.77777777777778"


def test_filters_name_the_scope_and_an_empty_window_says_where_the_data_is(store: Path) -> None:
    out = _ok(store, "metrics", "csat", "--since", "2025-10", "--where", "segment=vip")
    assert "csat · 2025-10-01 … now, segment=vip" in out
    assert re.search(r"│\s+30\s+│", out)  # the 30 VIP answers of October
    empty = _ok(store, "metrics", "nps", "--last", "30d")
    assert "no responses with nps in" in empty
    assert "the store's answers run 2025-09-01 … 2025-10-28" in " ".join(empty.split())
    body = json.loads(_ok(store, "metrics", "nps", "--until", "2025-09", "--format", "json"))
    assert body["scope"]["until"] == "2025-10-01T00:00:00" and body["rows"][0]["n"] == 138


def test_bad_filters_end_in_one_sentence_and_exit_2(store: Path) -> None:
    done = run_cxloop(store, "metrics", "nps", "--where", "segmnt=vip", "--since", "1/9/2025")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "since: '1/9/2025' is not a date" in done.stderr
    assert "where: 'segmnt' is not a field to filter on" in done.stderr
    typo = run_cxloop(store, "metrics", "index", "cx_index", "--where", "region=上梅")
    assert typo.returncode == 2 and "close: 上海" in typo.stderr


def test_compare_month_over_month_by_channel(store: Path) -> None:
    out = _ok(store, "metrics", "compare", "nps", "--period", "month", "--by", "channel")
    assert "nps: 2025-10 against 2025-09" in out
    chat = next(line for line in out.splitlines() if line.startswith("│ chat"))
    assert "+100.0" in chat and "yes" in chat and "<0.001" in chat
    assert "Benjamini–Hochberg over 2 tests" in " ".join(out.split())  # email is not a test
    rows = list(
        csv.DictReader(
            io.StringIO(
                _ok(store, "metrics", "compare", "nps", "--period", "month", "--by", "channel",
                    "--format", "csv")
            )
        )
    )  # fmt: skip
    assert [r["channel"] for r in rows] == ["chat", "email", "survey"]
    assert float(rows[0]["difference"]) == 100.0 and rows[0]["significant"] == "True"


def test_compare_groups_against_the_rest_and_windows(store: Path) -> None:
    groups = json.loads(
        _ok(store, "metrics", "compare", "csat", "--by", "segment", "--format", "json")
    )
    assert groups["kind"] == "groups" and groups["base"] == "rest"
    vip = next(r for r in groups["rows"] if r["group"] == "vip")
    assert vip["significant"] and vip["difference"] > 0
    table = _ok(
        store, "metrics", "compare", "ces", "--base-since", "2025-09", "--base-until", "2025-09",
        "--since", "2025-10", "--until", "2025-10", "--where", "channel=chat",
    )  # fmt: skip
    assert "ces: 2025-10-01 … 2025-10-31 against 2025-09-01 … 2025-09-30 · channel=chat" in (
        " ".join(table.split())
    )
    refused = run_cxloop(store, "metrics", "compare", "sentiment", "--by", "channel")
    assert refused.returncode == 2 and "metric: 'sentiment' is not one of: nps, csat, ces" in (
        refused.stderr
    )
