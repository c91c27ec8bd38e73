"""``cxloop surveys on`` and ``cxloop surveys triggers`` as a user runs them: a real process on a
SQLite file; bad events, delays and surveys end in a sentence and exit code 2, never a
traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from cxloop import api
from cxloop.config import Settings
from tests.cli.support import run_cxloop

SURVEY = """\
id: after-ticket
title: {zh: 服务评价, en: Support survey}
questions:
  - {id: ces, type: ces, required: true, text: {zh: 问题解决得容易吗？, en: Was it easy?}}
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    store = api.connect(settings=Settings(database_url=f"sqlite:///{tmp_path / 'cli.db'}"))
    rows = [{"customer_id": "c1", "name": "王芳", "email": "wang@example.com"}]
    assert api.import_records(store, "customers", rows).inserted == 1
    store.close()
    (tmp_path / "after-ticket.yaml").write_text(SURVEY, encoding="utf-8")
    assert run_cxloop(tmp_path, "surveys", "create", "after-ticket.yaml").returncode == 0
    return tmp_path


def test_a_trigger_made_then_run_lists_its_scheduled_invitation(folder: Path) -> None:
    made = run_cxloop(
        folder, "surveys", "on", "after-ticket", "--event", "ticket_closed", "--delay", "1d12h"
    )
    assert made.returncode == 0, made.stderr
    assert "trigger 1: after-ticket goes out 36h after each ticket_closed, by email" in made.stdout
    (folder / "events.csv").write_text(
        "用户ID,事件类型,发生时间\nc1,工单已关闭,2099-01-01 10:00\n", encoding="utf-8"
    )  # a closure far ahead: surely after the trigger
    assert run_cxloop(folder, "import", "events", "events.csv").returncode == 0

    listed = run_cxloop(folder, "surveys", "triggers", "--run")

    assert listed.returncode == 0, listed.stderr
    assert "1 new event(s), 1 scheduled (1 invitation(s))" in listed.stdout
    row = next(line for line in listed.stdout.splitlines() if "after-ticket" in line)
    assert "ticket_closed +36h" in row
    assert [cell.strip() for cell in row.split("│")[5:10]] == ["1", "1", "0", "0", "0"]


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("--event", "order_shipped"), "event: 'order_shipped' is not a trigger event"),
        (("--event", "ticket_closed", "--delay", "soon"), "delay: 'soon' is not a delay"),
        (("--event", "ticket_closed", "--channel", "webhook"), "channel webhook needs"),
        (("--event", "ticket_closed", "--channel", "fax"), "channel: 'fax'"),
        (("--event", "ticket_closed", "--channel", "csv"), "channel: 'csv' is for one-off"),
    ],
)
def test_a_bad_trigger_is_refused_with_the_field_and_value(
    folder: Path, args: tuple[str, ...], said: str
) -> None:
    result = run_cxloop(folder, "surveys", "on", "after-ticket", *args)
    assert result.returncode == 2
    assert said in result.stderr and "Traceback" not in result.stderr


def test_an_unknown_survey_and_an_empty_list_are_sentences(folder: Path) -> None:
    unknown = run_cxloop(folder, "surveys", "on", "nope", "--event", "ticket_closed")
    empty = run_cxloop(folder, "surveys", "triggers")
    assert unknown.returncode == 2 and "survey 'nope' does not exist" in unknown.stderr
    assert empty.returncode == 0 and "no triggers yet" in empty.stdout
