"""Case notices end to end: the ticker queues them from the cases' history, the outbox sends them
through the one sender — mails into a real SMTP server (aiosmtpd) in the reader's language,
signed webhooks to a loopback receiver that fails twice and then takes the third try, and a
receiver that never recovers leaves a dead letter ``cxloop notify deliveries`` shows."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from sqlalchemy import select

from cxloop.api import Store, connect
from cxloop.db.session import session_scope
from cxloop.loop import notices
from cxloop.loop import service as loop_service
from cxloop.loop.models import CaseEvent, LoopState
from cxloop.loop.policy import sla_policy
from cxloop.notify import deliveries, webhooks
from cxloop.notify.schemas import DeliveryRun
from tests.cli.support import run_cxloop
from tests.http_receiver import Receiver
from tests.loop import tick_support
from tests.loop.tick_support import LEAD, SECRET, WANG, open_case, outbox, settings_for, sh, tick
from tests.smtp import SmtpServer

template = tick_support.template
db_path = tick_support.db_path

OPENED = sh(2026, 12, 4, 17)  # Friday; p2 first response warned Mon 09:36, due Mon 10:00


def deliver(store: Store, at: dt.datetime) -> DeliveryRun:
    with session_scope(store.sessions) as session:
        return deliveries.deliver_due(session=session, settings=store.settings, now=at)


def test_mails_reach_the_smtp_server_in_each_readers_language(
    db_path: Path, smtp_server: SmtpServer
) -> None:
    store = connect(
        settings=smtp_server.settings(
            database_url=f"sqlite:///{db_path}", loop_notify_languages={"li.na": "en"}
        )
    )
    try:
        zh_case = open_case(store, OPENED, owner="wang.fang", customer="C-1")
        en_case = open_case(store, OPENED, owner="li.na", customer="C-2")
        assert tick(store, OPENED + tick_support.MINUTE)["mails"] == 2  # both assigned
        warned = tick(store, sh(2026, 12, 7, 9, 36))  # first response warned
        assert (warned["warned"], warned["escalated"], warned["mails"]) == (2, 0, 2)
        escalated = tick(store, sh(2026, 12, 7, 10))  # then escalated
        assert (escalated["warned"], escalated["escalated"], escalated["mails"]) == (0, 2, 2)
        sent = deliver(store, sh(2026, 12, 7, 10))
    finally:
        store.close()
    assert (sent.delivered, sent.retrying, sent.dead) == (6, 0, 0)
    subjects = {(m["To"].addresses[0].addr_spec, str(m["Subject"])) for m in smtp_server.messages}
    assert subjects == {
        ("wang.fang@example.com", f"【cxloop】案件 #{zh_case} 已分配给你：客户投诉配送延误"),
        ("li.na@example.com", f"[cxloop] Case #{en_case} is yours: 客户投诉配送延误"),
        (
            "wang.fang@example.com",
            f"【cxloop】案件 #{zh_case} 首次响应即将超时（2026-12-07 10:00）",
        ),
        ("li.na@example.com", f"[cxloop] Case #{en_case}: first response due 2026-12-07 10:00"),
        ("chen.lead@example.com", f"【cxloop】案件 #{zh_case} 首次响应已超时，升级给你"),
        ("chen.lead@example.com", f"【cxloop】案件 #{en_case} 首次响应已超时，升级给你"),
    }
    (escalation,) = [
        m for m in smtp_server.to("chen.lead@example.com") if f"#{en_case}" in str(m["Subject"])
    ]
    body = escalation.get_content()
    assert f"案件 #{en_case} 的首次响应已于 2026-12-07 10:00 (Asia/Shanghai) 超时" in body
    assert "负责人：li.na" in body and f"/cases/{en_case}" in body


def test_a_webhook_refused_twice_is_delivered_signed_on_the_third_try(
    db_path: Path, http_receiver: Receiver
) -> None:
    store = connect(settings=settings_for(db_path, loop_webhooks=(http_receiver.url,)))
    try:
        case_id = open_case(store, OPENED)
        queued = tick(store, OPENED)
        assert (queued["events"], queued["webhooks"]) == (2, 1)  # created; assigned is not sent
        http_receiver.fail_next(2)
        first = deliver(store, OPENED)
        assert (first.delivered, first.retrying) == (0, 1)
        assert deliver(store, OPENED + dt.timedelta(seconds=59)).counts() == DeliveryRun().counts()
        second = deliver(store, OPENED + dt.timedelta(minutes=1))  # backoff: 1 minute
        assert (second.delivered, second.retrying) == (0, 1)
        third = deliver(store, OPENED + dt.timedelta(minutes=6))  # then 5 minutes
        assert (third.delivered, third.retrying, third.dead) == (1, 0, 0)
        assert deliver(store, OPENED + dt.timedelta(hours=3)).delivered == 0
    finally:
        store.close()
    tries = http_receiver.requests
    assert len(tries) == 3
    assert len({r.headers["x-cxloop-delivery"] for r in tries}) == 1
    for request in tries:
        stamp = request.headers["x-cxloop-timestamp"]
        signature = request.headers["x-cxloop-signature"]
        assert webhooks.verify(SECRET, stamp, request.body, signature, now=float(stamp))
        assert not webhooks.verify("another-secret-0123", stamp, request.body, signature)
    body = tries[-1].json()
    assert (body["event"], body["case"]["id"], body["case"]["owner"]) == (
        "created",
        case_id,
        "wang.fang",
    )
    assert body["case"]["first_response_due"] == "2026-12-07T02:00:00Z"  # Mon 10:00 CST


def test_a_webhook_that_never_succeeds_is_dead_lettered_and_listed(
    db_path: Path, http_receiver: Receiver, tmp_path: Path
) -> None:
    http_receiver.status = 500
    url = http_receiver.url + "?token=s3cr3t"
    settings = settings_for(
        db_path, loop_webhooks=(url,), loop_webhook_events=("escalated",), notify_max_attempts=3
    )
    store = connect(settings=settings)
    breach = sh(2026, 12, 7, 10)
    try:
        case_id = open_case(store, OPENED)
        assert tick(store, breach)["webhooks"] == 1  # the first-response escalation only
        runs = [deliver(store, breach + dt.timedelta(minutes=m)) for m in (0, 1, 6)]
    finally:
        store.close()
    assert [(r.retrying, r.dead) for r in runs] == [(1, 0), (1, 0), (0, 1)]
    assert len(http_receiver.requests) == 3
    assert http_receiver.requests[0].json()["details"]["to"] == "chen.lead"

    env = {"CXLOOP_DATABASE_URL": f"sqlite:///{db_path}", "COLUMNS": "240"}
    listed = run_cxloop(tmp_path, "notify", "deliveries", "--status", "dead", env=env)
    assert listed.returncode == 0, listed.stderr
    assert f"case:{case_id}:event:" in listed.stdout and "webhook" in listed.stdout
    assert "HTTP 500" in listed.stdout and "gave up after 3 tries" in listed.stdout
    assert "s3cr3t" not in listed.stdout
    as_json = run_cxloop(
        tmp_path, "notify", "deliveries", "--status", "dead", "--format", "json", env=env
    )
    (row,) = json.loads(as_json.stdout)
    assert (row["status"], row["attempts"], row["channel"]) == ("dead", 3, "webhook")


def test_reopened_cases_mail_their_owner_and_a_missing_address_or_server_is_counted(
    db_path: Path,
) -> None:
    store = connect(settings=settings_for(db_path))
    try:
        no_address = open_case(store, OPENED, owner="zhao.min", customer="C-9")
        counted = tick(store, OPENED)
        assert (counted["no_address"], counted["no_mail_server"], counted["mails"]) == (1, 0, 0)
        case_id = open_case(store, OPENED, customer="C-10")
        at = OPENED + dt.timedelta(minutes=30)
        with session_scope(store.sessions) as session:
            loop_service.resolve(session=session, case_id=case_id, actor=WANG, now=at)
            loop_service.reopen(
                session=session,
                case_id=case_id,
                actor=LEAD,
                now=at,
                reason="客户说还没收到",
                policy=sla_policy(store.settings),
            )
        counted = tick(store, at)  # assigned and reopened: mails due, no CXLOOP_SMTP_HOST
        assert (counted["no_mail_server"], counted["mails"], counted["webhooks"]) == (2, 0, 0)
        assert no_address and outbox(store) == []
    finally:
        store.close()

    with_mail = connect(settings=settings_for(db_path, smtp_host="127.0.0.1"))
    try:
        with session_scope(with_mail.sessions) as session:
            loop_service.note(
                session=session, case_id=case_id, text="已安排补发", actor=WANG, now=at
            )
            loop_service.start(session=session, case_id=case_id, actor=WANG, now=at)
            loop_service.resolve(session=session, case_id=case_id, actor=WANG, now=at)
            loop_service.reopen(session=session, case_id=case_id, actor=LEAD, now=at)
        assert tick(with_mail, at)["mails"] == 1
        (mail,) = outbox(with_mail)
    finally:
        with_mail.close()
    assert mail[:2] == ("email", "wang.fang@example.com")
    assert mail[2].startswith(f"case:{case_id}:event:") and mail[2].endswith(":reopened:mail")


def test_an_event_committed_after_a_later_one_is_still_noticed(db_path: Path) -> None:
    """PostgreSQL may commit event 3 after event 5: the ticker that saw 5 keeps 3 and 4 as gaps
    and looks at them again for an hour."""
    url = "http://127.0.0.1:9/hooks"
    store = connect(
        settings=settings_for(db_path, loop_webhooks=(url,), loop_webhook_events=("note",))
    )

    def note(event_id: int) -> None:
        with session_scope(store.sessions) as session:
            session.add(
                CaseEvent(
                    id=event_id, case_id=case_id, at=OPENED, actor="wang.fang", kind="note", data={}
                )
            )

    def state() -> dict[str, object]:
        with session_scope(store.sessions) as session:
            row = session.get(LoopState, "notices")
            assert row is not None
            return dict(row.value)

    try:
        case_id = open_case(store, OPENED)  # events 1 (created) and 2 (assigned)
        tick(store, OPENED)
        note(5)
        assert tick(store, OPENED)["webhooks"] == 1
        assert state()["event_id"] == 5 and sorted(state()["gaps"]) == ["3", "4"]
        note(3)
        assert tick(store, OPENED + tick_support.MINUTE)["webhooks"] == 1
        assert sorted(state()["gaps"]) == ["4"]
        assert tick(store, OPENED + dt.timedelta(hours=2))["webhooks"] == 0
        assert state()["gaps"] == {}  # an id nobody committed within the hour was rolled back
        keys = [key for _, _, key in outbox(store)]
    finally:
        store.close()
    assert [key.split(":")[3] for key in keys] == ["5", "3"]


def test_the_first_run_passes_over_a_past_longer_than_one_batch(db_path: Path) -> None:
    """A store with history before its ticker ran: the past is not mailed, not even by the
    runs after the first (each looks at one event here); what happens next is."""
    url = "http://127.0.0.1:9/hooks"
    events = ("created", "assigned", "note")
    store = connect(
        settings=settings_for(db_path, loop_webhooks=(url,), loop_webhook_events=events)
    )
    later = OPENED + dt.timedelta(days=3)

    def run() -> dict[str, int]:
        with session_scope(store.sessions) as session:
            return notices.send_notices(
                session=session, settings=store.settings, now=later, limit=1
            )

    try:
        for _ in range(2):
            open_case(store, OPENED)  # 4 events, 3 days old
        assert [run()["events"] for _ in range(5)] == [0, 0, 0, 0, 0]
        with session_scope(store.sessions) as session:
            state = session.get(LoopState, "notices")
            assert state is not None and state.value == {"event_id": 4, "gaps": {}}
            case_id = session.scalar(select(CaseEvent.case_id).limit(1))
            assert case_id is not None
            loop_service.note(session=session, case_id=case_id, text="x", actor=WANG, now=later)
        assert run()["webhooks"] == 1
    finally:
        store.close()
