"""``cxloop surveys send|tick|links`` as a user runs them: a real process on a SQLite file, a
real SMTP server; data problems end in a sentence and exit code 2, never a traceback."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from cxloop import api
from cxloop.config import Settings
from tests.cli.support import run_cxloop
from tests.smtp import SmtpServer

SURVEY = """\
id: quick
title: {zh: 快速调查, en: Quick survey}
questions:
  - {id: nps, type: nps, required: true, text: {zh: 推荐的可能性？, en: Would you recommend us?}}
"""
NOW = "2026-03-02T03:00"  # 11:00 in Shanghai


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    store = api.connect(settings=Settings(database_url=f"sqlite:///{tmp_path / 'cli.db'}"))
    rows = [
        {"customer_id": "c1", "name": "王芳", "email": "Wang.Fang@Example.com", "segment": "vip"},
        {
            "customer_id": "c2",
            "name": "Ann Lee",
            "email": "ann@example.com",
            "segment": "VIP",
            "language": "en",
        },
        {"customer_id": "c3", "name": "李雷", "segment": "vip"},  # no e-mail
        {"customer_id": "c4", "name": "赵四", "email": "zhao@example.com", "segment": "new"},
    ]
    assert api.import_records(store, "customers", rows).inserted == 4
    store.close()
    (tmp_path / "quick.yaml").write_text(SURVEY, encoding="utf-8")
    created = run_cxloop(tmp_path, "surveys", "create", "quick.yaml")
    assert created.returncode == 0, created.stderr
    return tmp_path


def test_send_by_mail_then_a_dry_run_shows_the_cap(folder: Path, smtp_server: SmtpServer) -> None:
    env = smtp_server.env()
    sent = run_cxloop(
        folder, "surveys", "send", "quick", "--where", "segment=vip", "--now", NOW, env=env
    )
    assert sent.returncode == 0, sent.stderr
    assert "distribution 1: survey quick v1 to customers segment=vip, by email" in sent.stdout
    assert "recipients 3: sent 2" in sent.stdout
    assert "no_address" in sent.stdout
    assert len(smtp_server.messages) == 2
    again = run_cxloop(
        folder, "surveys", "send", "quick", "--where", "segment=vip", "--dry-run", "--now", NOW
    )
    assert again.returncode == 0, again.stderr
    assert "dry run" in again.stdout and "capped_contact" in again.stdout
    assert len(smtp_server.messages) == 2


def test_csv_links_and_links_again(folder: Path) -> None:
    out = folder / "links.csv"
    sent = run_cxloop(
        folder,
        "surveys",
        "send",
        "quick",
        "--where",
        "segment=vip",
        "--channel",
        "csv",
        "--out",
        str(out),
        "--now",
        NOW,
    )
    assert sent.returncode == 0, sent.stderr
    with out.open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["customer_id"] for r in rows] == ["c1", "c2", "c3"]
    assert rows[0]["address"] == "wang.fang@example.com" and rows[1]["language"] == "en"
    assert rows[2]["address"] == "customer:c3"
    again = folder / "again.csv"
    printed = run_cxloop(folder, "surveys", "links", "1", "--out", str(again))
    assert printed.returncode == 0, printed.stderr
    with again.open(encoding="utf-8-sig") as handle:
        assert [r["link"] for r in csv.DictReader(handle)] == [r["link"] for r in rows]


def test_tick_runs_every_job_and_prints_counts(folder: Path) -> None:
    ran = run_cxloop(folder, "surveys", "tick", "--now", NOW)
    assert ran.returncode == 0, ran.stderr
    for name in ("surveys.send_scheduled", "surveys.remind", "surveys.expire"):
        assert name in ran.stdout
    assert "expired 0" in ran.stdout
    assert "notify.deliver_due" in ran.stdout  # every tick sends the outbox
    assert "loop." not in ran.stdout  # the loop's jobs are `cxloop loop tick`'s
    other = run_cxloop(folder, "surveys", "tick", "--job", "loop.fire_timers")
    assert other.returncode == 2, other.stdout + other.stderr
    assert "job: 'loop.fire_timers' is not a survey job" in " ".join(other.stderr.split())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--where", "segment=gold", "--channel", "csv", "--out", "x.csv"],
            "where.segment: 'gold' matches no customer; new, VIP, vip",
        ),
        (["--list", "nobody", "--channel", "csv", "--out", "x.csv"], "no target list named"),
        (["--where", "segment=vip"], "needs a mail server"),
        (["--where", "segment=vip", "--channel", "csv"], "needs --out FILE"),
        (["--where", "segment=vip", "--account", "A1"], "give exactly one audience"),
        (["--roles", "user", "--where", "segment=vip"], "go with --account"),
        (["--account", "A9", "--channel", "csv", "--out", "x.csv"], "no account"),
        (["--where", "segment=vip", "--channel", "sms"], "is not a channel"),
        (
            [
                "--where",
                "segment=vip",
                "--remind-after",
                "soon",
                "--channel",
                "csv",
                "--out",
                "x.csv",
            ],
            "is not a delay",
        ),
    ],
)
def test_bad_options_and_data_end_in_a_sentence(
    folder: Path, args: list[str], message: str
) -> None:
    ran = run_cxloop(folder, "surveys", "send", "quick", *args)
    assert ran.returncode == 2, ran.stdout
    assert message in ran.stderr
    assert "Traceback" not in ran.stderr


def test_a_survey_that_does_not_exist_is_named(folder: Path) -> None:
    ran = run_cxloop(folder, "surveys", "send", "nope", "--anonymous")
    assert ran.returncode == 2
    assert "no survey 'nope'" in ran.stderr
