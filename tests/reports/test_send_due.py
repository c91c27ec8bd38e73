"""Scheduled reports through a real SMTP server (aiosmtpd): the due one arrives with its PDF,
whose text holds the overview's numbers; a second tick, a racing tick and a restart send
nothing twice; a server that is down leaves the period for the next tick."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from cxloop import api
from cxloop.dashboards.overview import overview
from cxloop.metrics.filters import parse_scope
from cxloop.reports import service as reports_service
from cxloop.reports.models import ReportRun, ReportSchedule
from cxloop.reports.schemas import ScheduleCreate
from tests.reports.conftest import NOW, QUERY
from tests.reports.pdf_text import pdf_text, tile_line
from tests.smtp import SmtpServer, free_port

CREATED = NOW - dt.timedelta(days=2)  # Tuesday 2026-11-18 09:00 UTC
DUE = dt.datetime(2026, 11, 23, 0, 0)  # Monday 08:00 in Shanghai, after NOW


def _schedule(store: api.Store, **values: object) -> int:
    fields: dict[str, object] = {
        "name": "周报", "frequency": "weekly", "weekday": "mon", "at": "08:00",
        "timezone": "Asia/Shanghai", "role": "viewer", "query": QUERY, "language": "en",
        "recipients": ["lead@example.com", "ops@example.com"], "format": "pdf",
    }  # fmt: skip
    fields.update(values)
    with store.sessions() as session:
        read = reports_service.create_schedule(
            session=session, schedule_in=ScheduleCreate.model_validate(fields),
            created_by="analyst", now=CREATED,
        )  # fmt: skip
        session.commit()
    return read.id


def _tick(store: api.Store, server_settings: object, at: dt.datetime) -> dict[str, int]:
    with store.sessions() as session:
        return reports_service.send_due(
            session=session,
            settings=server_settings,
            now=at,  # type: ignore[arg-type]
        ).counts()


def _runs(store: api.Store, schedule_id: int) -> list[tuple[str, str, int]]:
    with store.sessions() as session:
        rows = session.scalars(select(ReportRun).where(ReportRun.schedule_id == schedule_id))
        return [(r.period, r.status, r.accepted) for r in rows]


def test_due_report_arrives_once_with_the_overview_numbers(
    demo: api.Store, smtp_server: SmtpServer
) -> None:
    schedule_id = _schedule(demo)
    settings = smtp_server.settings(database_url=demo.settings.database_url)
    assert _tick(demo, settings, DUE - dt.timedelta(minutes=1))["due"] == 0
    assert smtp_server.messages == []

    counts = _tick(demo, settings, DUE + dt.timedelta(minutes=1))
    assert counts | {"due": 0} == {"due": 0, "sent": 1, "failed": 0, "skipped": 0,
                                   "waiting": 0, "mails": 2}  # fmt: skip
    assert sorted(a for r in smtp_server.envelopes for a in r.rcpt_tos) == [
        "lead@example.com", "ops@example.com",
    ]  # fmt: skip
    message = smtp_server.to("lead@example.com")[0]
    assert "周报" in str(message["Subject"])
    attachments = list(message.iter_attachments())
    assert [a.get_content_type() for a in attachments] == ["application/pdf"]
    text = pdf_text(attachments[0].get_content())
    scope = parse_scope("2026-03", "2026-10", None, (), now=DUE)
    with demo.sessions() as session:
        expected = overview(session=session, settings=demo.settings, scope=scope, period="month",
                            now=DUE.replace(tzinfo=dt.UTC))  # fmt: skip
    for tile in expected.tiles:
        assert tile_line(tile) in text

    # a second tick, and a racing tick that still sees the old due time: nothing again
    smtp_server.clear()
    assert _tick(demo, settings, DUE + dt.timedelta(minutes=2))["due"] == 0
    with demo.sessions() as session:
        row = session.get(ReportSchedule, schedule_id)
        assert row is not None and row.next_due_at == DUE + dt.timedelta(days=7)
        row.next_due_at = DUE  # as a tick that read the row before the first one committed
        session.commit()
    assert _tick(demo, settings, DUE + dt.timedelta(minutes=3))["skipped"] == 1
    assert smtp_server.messages == []
    assert _runs(demo, schedule_id) == [("2026-11-23T08:00", "sent", 2)]

    # days later (the server was off all week): the latest period once, not every one missed
    counts = _tick(demo, settings, DUE + dt.timedelta(days=15))
    assert counts["sent"] == 1 and len(smtp_server.messages) == 2
    assert [r[0] for r in _runs(demo, schedule_id)] == ["2026-11-23T08:00", "2026-12-07T08:00"]


def test_mail_server_down_waits_for_the_next_tick_then_sends_html(
    demo: api.Store, smtp_server: SmtpServer
) -> None:
    schedule_id = _schedule(demo, frequency="daily", format="html", language="zh",
                            recipients=["boss@example.com"])  # fmt: skip
    due = dt.datetime(2026, 11, 21, 0, 0)
    down = smtp_server.settings(database_url=demo.settings.database_url, smtp_port=free_port())
    assert _tick(demo, down, due)["waiting"] == 1
    assert _runs(demo, schedule_id) == []
    up = smtp_server.settings(database_url=demo.settings.database_url)
    counts = _tick(demo, up, due + dt.timedelta(minutes=1))
    assert counts["sent"] == 1
    (message,) = smtp_server.to("boss@example.com")
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "客户体验报告" in html and "since=2026-03" in html
    assert _runs(demo, schedule_id) == [("2026-11-21T08:00", "sent", 1)]


def test_the_web_servers_clock_runs_the_job() -> None:
    from cxloop.jobs import catalog, clock  # noqa: F401 - registers every job
    from cxloop.jobs.registry import JOBS

    assert JOBS["reports.send_due"].every_s == 60
    assert "reports.send_due" in clock.due_jobs({}, 0.0, skip=clock.WEB_SKIPS)


def test_a_period_claimed_by_a_run_that_died_is_sent_after_the_lease(
    demo: api.Store, smtp_server: SmtpServer
) -> None:
    schedule_id = _schedule(demo, frequency="daily", format="html", recipients=["cfo@example.com"])
    due = dt.datetime(2026, 11, 21, 0, 0)
    with demo.sessions() as session:  # a tick claimed the period, then the process died
        session.add(ReportRun(schedule_id=schedule_id, period="2026-11-21T08:00", started_at=due))
        session.commit()
    settings = smtp_server.settings(database_url=demo.settings.database_url)
    assert _tick(demo, settings, due + dt.timedelta(minutes=1))["skipped"] == 1
    assert smtp_server.messages == []  # it may still be sending: not yet, and not dropped
    late = due + reports_service.CLAIM_LEASE + dt.timedelta(minutes=1)
    assert _tick(demo, settings, late)["sent"] == 1
    assert len(smtp_server.to("cfo@example.com")) == 1
    assert _runs(demo, schedule_id) == [("2026-11-21T08:00", "sent", 1)]
