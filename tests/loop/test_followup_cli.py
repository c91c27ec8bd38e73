"""``cxloop cases followups`` as a user runs it (in-process, on the store's SQLite file): ``--run``
sends the due follow-up and says so, the table and JSON list it, and a wrong outcome is one
sentence with exit 2, never a traceback."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass

from click.testing import CliRunner

from cxloop.config import get_settings
from tests.loop import followup_support
from tests.loop.followup_support import Desk

mail = followup_support.mail
base_store = followup_support.base_store
desk = followup_support.desk


@dataclass
class Run:
    code: int
    output: str


def cxloop(desk: Desk, *args: str, **env: str) -> Run:
    """``cxloop ARGS`` through the CLI's ``main`` with the desk's store and mail server."""
    from cxloop.cli import context
    from cxloop.cli.app import main

    settings = desk.settings
    values = {
        "CXLOOP_DATABASE_URL": settings.database_url,
        "CXLOOP_SECRET_KEY": settings.secret_key or "",
        "CXLOOP_SMTP_HOST": settings.smtp_host or "",
        "CXLOOP_SMTP_PORT": str(settings.smtp_port),
        "CXLOOP_SURVEY_QUIET_HOURS": "",
        "CXLOOP_TIMEZONE": "Asia/Shanghai",
        "COLUMNS": "120",
        "NO_COLOR": "1",
    } | env
    widths = context.console.width, context.errors.width
    context.console.width = context.errors.width = 120
    argv = sys.argv
    with CliRunner().isolation(env=values) as (_, _, output):
        get_settings.cache_clear()
        sys.argv = ["cxloop", *args]
        code = 0
        try:
            main()
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 0 if exit_.code is None else 1
        finally:
            sys.argv = argv
            context.console.width, context.errors.width = widths
            sys.stdout.flush()
            sys.stderr.flush()
            get_settings.cache_clear()
        return Run(code, output.getvalue().decode("utf-8", "replace"))


def test_run_sends_the_due_follow_up_and_lists_it(desk: Desk) -> None:
    case_id = desk.resolved_case(customer_id="C-ZH")
    first = cxloop(desk, "cases", "followups", "--run")
    assert first.code == 0, first.output
    assert "follow-ups: sent 1" in first.output
    row = next(line for line in first.output.splitlines() if line.startswith("│"))
    assert [c.strip() for c in row.split("│")[1:5]] == [str(case_id), "1", "pending", "resolved"]
    assert len(desk.mails_to("wang.fang@example.com")) == 1

    again = cxloop(desk, "cases", "followups", "--run")
    assert "follow-ups: nothing to do" in again.output
    listed = cxloop(desk, "cases", "followups", "--format", "json", "--outcome", "pending")
    (item,) = json.loads(listed.output)
    assert (item["case_id"], item["round"], item["outcome"]) == (case_id, 1, "pending")
    assert "no follow-ups" in cxloop(desk, "cases", "followups", "--case", "999").output


def test_without_a_mail_server_run_says_what_waits(desk: Desk) -> None:
    desk.resolved_case(customer_id="C-ZH")
    printed = cxloop(desk, "cases", "followups", "--run", CXLOOP_SMTP_HOST="")
    assert printed.code == 0, printed.output
    assert "follow-ups: 1 wait for a mail server (set CXLOOP_SMTP_HOST)" in printed.output
    assert "no follow-ups" in printed.output


def test_an_unknown_outcome_is_one_sentence_and_exit_2(desk: Desk) -> None:
    printed = cxloop(desk, "cases", "followups", "--outcome", "done")
    assert printed.code == 2
    assert "Traceback" not in printed.output
    assert (
        "error: --outcome: 'done' is not a follow-up outcome (pending, verified" in printed.output
    )
