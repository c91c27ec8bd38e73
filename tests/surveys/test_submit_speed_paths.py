"""The submit path stays lean: the statements one submit sends to the store (a regression here
is a slower survey for every respondent), and many respondents submitting at once through the
real app (worker threads, the write lock) lose nothing and get no error."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from cxloop.surveys.models import SurveyAnswer, SurveyResponse
from tests.surveys.respond_support import World, make_world
from tests.web.browser import serve


@pytest.fixture
def world(tmp_path: Path) -> World:
    return make_world(tmp_path, drain=False)


@contextmanager
def statements(world: World) -> Iterator[list[str]]:
    """The SQL verbs the app's engine runs inside the block (BEGIN/COMMIT are not cursor work)."""
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(str(args[2]).split()[0].upper())

    engine = world.app.state.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_an_anonymous_one_shot_submit_reads_once_and_writes_twice(world: World) -> None:
    path = world.anonymous()
    world.client.post(path, data={"nps": "9", "channel": "app"})  # warm: the version is cached
    world.client.cookies.clear()
    with statements(world) as seen:
        done = world.client.post(path, data={"nps": "3", "why": "太慢了", "channel": "web"})
    assert done.status_code == 200 and "感谢您的反馈" in done.text
    # the distribution with its survey's status; the response; its three answer rows at once
    assert seen == ["SELECT", "INSERT", "INSERT"]
    assert world.count(SurveyAnswer) == 2 + 3


def test_a_personal_link_submit_reads_once(world: World) -> None:
    warm = world.link()  # the survey version is read once per store and process
    world.client.post(warm.path, data={"_rev": "0", "nps": "9", "channel": "web"})
    link = world.link()
    with statements(world) as seen:  # every question in one POST (no _page: the whole survey)
        done = world.client.post(
            link.path, data={"_rev": "0", "nps": "4", "why": "送错地址", "channel": "app"}
        )
    assert done.status_code == 200 and "感谢您的反馈" in done.text
    assert world.invitation(link).status == "completed"
    # invitation + distribution + survey status + response in one SELECT, then the writes
    assert seen.count("SELECT") == 1, seen
    assert seen[0] == "SELECT" and set(seen[1:]) <= {"INSERT", "UPDATE"}, seen


def test_fifty_respondents_at_once_lose_nothing(world: World) -> None:
    """Real HTTP through uvicorn: 50 threads, 4 submits each, every one stored exactly once."""
    path = world.anonymous()
    failures: list[str] = []
    with serve(world.app) as base:

        def respondent(number: int) -> None:
            with httpx.Client(base_url=base, timeout=30) as client:
                for turn in range(4):
                    client.cookies.clear()
                    form = {"nps": str((number + turn) % 11), "channel": "app"}
                    if (number + turn) % 11 <= 6:
                        form["why"] = f"第{number}位：太慢"
                    sent = client.post(path, data=form)
                    if sent.status_code != 200 or "感谢" not in sent.text:
                        failures.append(f"{number}/{turn}: {sent.status_code}")

        threads = [threading.Thread(target=respondent, args=(n,)) for n in range(50)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
    assert failures == []
    completed = [r for r in world.responses() if r.status == "completed"]
    assert len(completed) == 200
    assert len({r.session_key for r in completed}) == 200
    assert world.count(SurveyResponse) == 200
