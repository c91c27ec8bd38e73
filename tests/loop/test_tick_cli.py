"""``cxloop loop tick`` as cron runs it: the loop's jobs at ``--now``, a table of what each did,
and a bad option or an unknown job ends in one sentence with exit code 2."""

from __future__ import annotations

from pathlib import Path

from cxloop.api import connect
from tests.cli.support import run_cxloop
from tests.loop import tick_support
from tests.loop.tick_support import open_case, settings_for, sh

template = tick_support.template
db_path = tick_support.db_path


def test_loop_tick_fires_the_due_timers_at_now_and_prints_what_each_job_did(
    db_path: Path, tmp_path: Path
) -> None:
    store = connect(settings=settings_for(db_path))
    try:
        open_case(store, sh(2026, 12, 4, 17))  # p2: first response warned 09:36, due 10:00 Mon
    finally:
        store.close()
    env = {"CXLOOP_DATABASE_URL": f"sqlite:///{db_path}", "COLUMNS": "200"}
    only = ("--only", "loop.fire_timers", "--only", "notify.deliver_due")
    early = run_cxloop(tmp_path, "loop", "tick", "--now", "2026-12-07T09:35+08:00", *only, env=env)
    assert early.returncode == 0, early.stderr
    assert "cases 0, warned 0, escalated 0" in early.stdout
    ran = run_cxloop(tmp_path, "loop", "tick", "--now", "2026-12-07T02:00", *only, env=env)
    assert ran.returncode == 0, ran.stderr
    assert "loop jobs" in ran.stdout
    # 02:00 UTC is 10:00 in Shanghai: the 09:36 warning, overtaken by its breach, warns nobody
    assert "cases 1, warned 0, escalated 1" in ran.stdout
    assert "delivered 0, retrying 0, dead 0" in ran.stdout
    again = run_cxloop(tmp_path, "loop", "tick", "--now", "2026-12-07T02:00", *only, env=env)
    assert "cases 0, warned 0, escalated 0" in again.stdout
    lines = [line for line in ran.stdout.splitlines() if "loop." in line or "notify." in line]
    assert [line.split()[1] for line in lines] == ["loop.fire_timers", "notify.deliver_due"]


def test_a_bad_time_or_an_unknown_job_ends_in_one_sentence(db_path: Path, tmp_path: Path) -> None:
    env = {"CXLOOP_DATABASE_URL": f"sqlite:///{db_path}"}
    bad_time = run_cxloop(tmp_path, "loop", "tick", "--now", "next monday", env=env)
    assert bad_time.returncode == 2
    assert bad_time.stderr.strip() == (
        "error: now: 'next monday' is not a date-time such as 2026-12-07T09:45 (UTC)"
    )
    unknown = run_cxloop(tmp_path, "loop", "tick", "--only", "surveys.remind", env=env)
    assert unknown.returncode == 2
    assert "'surveys.remind' is not a loop job (loop.evaluate_feedback," in unknown.stderr
    bad_url = run_cxloop(
        tmp_path, "loop", "tick", env=env | {"CXLOOP_LOOP_WEBHOOKS": "ftp://h/x?token=s3cr3t"}
    )
    assert bad_url.returncode == 2
    assert bad_url.stderr.strip() == (
        "error: loop_webhooks: names a URL that is not http(s)://host/…: ftp://h/…"
    )
    bad_event = run_cxloop(
        tmp_path, "loop", "tick", env=env | {"CXLOOP_LOOP_WEBHOOK_EVENTS": "created,opened"}
    )
    assert bad_event.returncode == 2
    assert "names an unknown case event ('opened'); events: created," in bad_event.stderr
    printed = bad_time.stderr + unknown.stderr + bad_url.stderr + bad_event.stderr
    assert "Traceback" not in printed and "s3cr3t" not in printed
