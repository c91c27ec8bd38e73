"""The delivery outbox against a real loopback receiver and a real SMTP server (aiosmtpd), on a
real SQLite file, with an injected clock: signed deliveries, retries across runs with backoff,
dead letters after N tries, resends, dedupe by key, restarts and two runs at once."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import update

from cxloop.api import Store, connect
from cxloop.config import Settings
from cxloop.db.session import session_scope
from cxloop.errors import Conflict, Invalid, NotFound
from cxloop.jobs import tick
from cxloop.notify import deliveries, webhooks
from cxloop.notify.models import Delivery
from tests.http_receiver import Receiver
from tests.smtp import SmtpServer

SECRET = "whsec-outbox-test-Ω"
T0 = dt.datetime(2026, 12, 7, 9, 0)
PAYLOAD = {"event": "case.escalated", "case": 12, "customer": "李娜", "priority": "P1"}


@pytest.fixture
def outbox(database_url: str) -> Iterator[Store]:
    """A store on a SQLite file (and on PostgreSQL under ``-m postgres``)."""
    settings = Settings(
        database_url=database_url,
        webhook_secret=SECRET,
        notify_max_attempts=3,
    )
    store = connect(settings=settings)
    yield store
    store.close()


def _queue(store: Store, url: str, key: str = "case:12:escalated", now: dt.datetime = T0) -> int:
    with session_scope(store.sessions) as session:
        row = deliveries.enqueue(
            session=session, channel="webhook", target=url, payload=PAYLOAD, key=key, now=now
        )
    return row.id


def _run(store: Store, now: dt.datetime, settings: Settings | None = None) -> dict[str, int]:
    with session_scope(store.sessions) as session:
        run = deliveries.deliver_due(session=session, settings=settings or store.settings, now=now)
    return run.counts()


def _get(store: Store, delivery_id: int) -> deliveries.DeliveryRead:
    with session_scope(store.sessions) as session:
        return deliveries.get(session=session, delivery_id=delivery_id)


def test_a_queued_webhook_arrives_signed_with_its_delivery_id(
    outbox: Store, http_receiver: Receiver
) -> None:
    delivery_id = _queue(outbox, http_receiver.url + "?token=s3cr3t")
    assert _get(outbox, delivery_id).status == "pending"
    assert _run(outbox, T0) == {"delivered": 1, "retrying": 0, "dead": 0, "released": 0}
    (request,) = http_receiver.requests
    assert request.json() == PAYLOAD
    assert request.headers["x-cxloop-delivery"] == str(delivery_id)
    timestamp = request.headers["x-cxloop-timestamp"]
    assert webhooks.verify(SECRET, timestamp, request.body, request.headers["x-cxloop-signature"])
    assert not webhooks.verify("another secret", timestamp, request.body, request.headers[
        "x-cxloop-signature"
    ])  # fmt: skip
    row = _get(outbox, delivery_id)
    assert (row.status, row.attempts, row.last_status, row.delivered_at) == (
        "delivered", 1, 200, T0
    )  # fmt: skip
    assert "s3cr3t" not in row.target and "/hook" not in row.target
    assert _run(outbox, T0 + dt.timedelta(hours=5))["delivered"] == 0  # never sent twice
    assert len(http_receiver.requests) == 1


def test_a_receiver_answering_500_twice_gets_it_on_the_third_run(
    outbox: Store, http_receiver: Receiver
) -> None:
    http_receiver.fail_next(2)
    delivery_id = _queue(outbox, http_receiver.url)
    assert _run(outbox, T0)["retrying"] == 1  # one try per run: no inline retries
    assert len(http_receiver.requests) == 1
    row = _get(outbox, delivery_id)
    assert (row.status, row.attempts, row.last_status) == ("pending", 1, 500)
    assert row.next_attempt_at == T0 + dt.timedelta(minutes=1)
    assert "HTTP 500" in (row.last_error or "")
    assert _run(outbox, T0 + dt.timedelta(seconds=59))["retrying"] == 0  # not due yet
    assert len(http_receiver.requests) == 1
    t1 = T0 + dt.timedelta(minutes=1)
    assert _run(outbox, t1)["retrying"] == 1
    assert _get(outbox, delivery_id).next_attempt_at == t1 + dt.timedelta(minutes=5)
    assert _run(outbox, t1 + dt.timedelta(minutes=4))["delivered"] == 0
    assert _run(outbox, t1 + dt.timedelta(minutes=5))["delivered"] == 1
    row = _get(outbox, delivery_id)
    assert (row.status, row.attempts, row.last_status, row.last_error) == (
        "delivered", 3, 200, None
    )  # fmt: skip
    assert len(http_receiver.requests) == 3
    assert {r.headers["x-cxloop-delivery"] for r in http_receiver.requests} == {str(delivery_id)}


def test_a_receiver_that_never_succeeds_is_dead_lettered_then_resent(
    outbox: Store, http_receiver: Receiver
) -> None:
    http_receiver.status = 503
    delivery_id = _queue(outbox, http_receiver.url)
    moment = T0
    outcomes = []
    for _ in range(3):
        outcomes.append(_run(outbox, moment))
        moment += dt.timedelta(hours=3)
    assert [o["retrying"] for o in outcomes] == [1, 1, 0] and outcomes[-1]["dead"] == 1
    with session_scope(outbox.sessions) as session:
        (dead,) = deliveries.dead_letters(session=session)
    assert (dead.id, dead.status, dead.attempts, dead.last_status) == (delivery_id, "dead", 3, 503)
    assert dead.dead_at == T0 + dt.timedelta(hours=6) and dead.next_attempt_at is None
    assert "HTTP 503" in (dead.last_error or "") and "gave up after 3 tries" in (
        dead.last_error or ""
    )
    assert _run(outbox, moment + dt.timedelta(days=1))["retrying"] == 0  # dead stays dead
    assert len(http_receiver.requests) == 3
    http_receiver.status = 200
    with session_scope(outbox.sessions) as session:
        again = deliveries.resend(session=session, delivery_id=delivery_id, now=moment)
    assert (again.status, again.attempts, again.dead_at) == ("pending", 0, None)
    assert _run(outbox, moment)["delivered"] == 1
    assert len(http_receiver.requests) == 4
    with session_scope(outbox.sessions) as session:
        assert deliveries.dead_letters(session=session) == []
        with pytest.raises(Conflict, match="is delivered"):
            deliveries.resend(session=session, delivery_id=delivery_id)
        with pytest.raises(NotFound, match="no delivery 999"):
            deliveries.resend(session=session, delivery_id=999)


@pytest.mark.parametrize(("status", "retried"), [(404, False), (410, False), (429, True)])
def test_a_refusal_for_good_is_dead_at_once_but_429_waits(
    outbox: Store, http_receiver: Receiver, status: int, retried: bool
) -> None:
    http_receiver.status = status
    delivery_id = _queue(outbox, http_receiver.url)
    counts = _run(outbox, T0)
    assert (counts["retrying"], counts["dead"]) == ((1, 0) if retried else (0, 1))
    row = _get(outbox, delivery_id)
    if not retried:
        assert row.last_error is not None and "refused for good" in row.last_error


def test_a_redirect_is_not_followed_and_is_dead(outbox: Store, http_receiver: Receiver) -> None:
    http_receiver.redirect_to = http_receiver.url_for("/elsewhere")
    delivery_id = _queue(outbox, http_receiver.url)
    assert _run(outbox, T0)["dead"] == 1
    assert "redirect" in (_get(outbox, delivery_id).last_error or "")
    assert [r.path for r in http_receiver.requests] == ["/hook"]


def test_the_same_key_queued_twice_is_one_delivery(outbox: Store, http_receiver: Receiver) -> None:
    first = _queue(outbox, http_receiver.url)
    second = _queue(outbox, http_receiver.url_for("/other"), now=T0 + dt.timedelta(minutes=3))
    third = _queue(outbox, http_receiver.url, key="case:12:warned")
    assert first == second != third
    assert _run(outbox, T0 + dt.timedelta(minutes=5))["delivered"] == 2
    assert sorted(r.path for r in http_receiver.requests) == ["/hook", "/hook"]
    assert _queue(outbox, http_receiver.url) == first  # delivered: still never queued again
    assert _run(outbox, T0 + dt.timedelta(hours=1))["delivered"] == 0


def test_bad_deliveries_are_refused_with_every_problem_named(outbox: Store) -> None:
    with session_scope(outbox.sessions) as session, pytest.raises(Invalid) as caught:
        deliveries.enqueue(
            session=session,
            channel="sms",
            target="ftp://files.example.com/drop?token=s3cr3t",
            payload={"x": dt.date(2026, 1, 1)},
            key="",
        )
    fields = {p.field for p in caught.value.problems}
    assert fields == {"channel", "key", "payload"}
    with session_scope(outbox.sessions) as session, pytest.raises(Invalid) as caught:
        deliveries.enqueue(
            session=session,
            channel="webhook",
            target="ftp://files.example.com/drop?token=s3cr3t",
            payload={},
            key="k",
        )
    (problem,) = caught.value.problems
    assert problem.field == "target" and "s3cr3t" not in str(caught.value)
    with session_scope(outbox.sessions) as session, pytest.raises(Invalid) as caught:
        deliveries.enqueue(
            session=session, channel="email", target="nobody", payload={"text": " "}, key="m"
        )
    assert {p.field for p in caught.value.problems} == {"target", "payload.subject", "payload.text"}
    with session_scope(outbox.sessions) as session:
        assert deliveries.list_deliveries(session=session) == []
        with pytest.raises(Invalid, match="is not a status"):
            deliveries.list_deliveries(session=session, status="lost")


@pytest.mark.parametrize(
    "target",
    [
        "http://[::1/hook?token=s3cr3t",
        "http://[zz]/hook?token=s3cr3t",
        "http://h:99999/hook?token=s3cr3t",
    ],
)
def test_a_webhook_url_that_does_not_parse_is_refused_with_a_sentence(
    outbox: Store, target: str
) -> None:
    with session_scope(outbox.sessions) as session, pytest.raises(Invalid) as caught:
        deliveries.enqueue(session=session, channel="webhook", target=target, payload={}, key="k")
    (problem,) = caught.value.problems
    assert problem.field == "target" and problem.reason == "is not an http(s) URL"
    assert "s3cr3t" not in str(caught.value)


@pytest.mark.parametrize("token", ["s3 cr3t", "s3\tcr3t", "s3\ncr3t"])
def test_a_webhook_url_with_a_space_or_control_character_is_refused_when_queued(
    outbox: Store, token: str
) -> None:
    # sent, http.client refuses it on every try quoting the path and query (the token) into
    # last_error, which `notify deliveries` shows
    with session_scope(outbox.sessions) as session, pytest.raises(Invalid) as caught:
        deliveries.enqueue(
            session=session,
            channel="webhook",
            target=f"https://hooks.example.com/hook?token={token}",
            payload={},
            key="k",
        )
    (problem,) = caught.value.problems
    assert problem.field == "target" and "percent-encode" in problem.reason
    assert "cr3t" not in str(caught.value)
    with session_scope(outbox.sessions) as session:
        assert deliveries.list_deliveries(session=session) == []


def test_a_queued_mail_lands_in_a_real_smtp_server(outbox: Store, smtp_server: SmtpServer) -> None:
    settings = smtp_server.settings(database_url=outbox.settings.database_url)
    context = {
        "survey_title": "配送体验",
        "survey_url": "https://cx.example.com/s/abc",
        "unsubscribe_url": "https://cx.example.com/u/abc",
        "recipient_name": "李娜",
        "expires_at": dt.datetime(2026, 12, 20, 10, 0),
    }
    with session_scope(outbox.sessions) as session:
        sent = deliveries.enqueue_mail(
            session=session, to="li.na@example.com", template="survey_invitation", lang="zh",
            context=context, key="invite:1", to_name="李娜", now=T0,
            unsubscribe_url="https://cx.example.com/u/abc",
        )  # fmt: skip
        bounced = deliveries.enqueue_mail(
            session=session, to="bounce@example.com", template="survey_invitation", lang="en",
            context=context, key="invite:2", now=T0,
        )  # fmt: skip
    assert _run(outbox, T0, settings) == {"delivered": 1, "retrying": 0, "dead": 1, "released": 0}
    (message,) = smtp_server.to("li.na@example.com")
    assert "配送体验" in str(message["Subject"])
    plain = message.get_body(("plain",))
    assert plain is not None and "https://cx.example.com/s/abc" in plain.get_content()
    assert message["List-Unsubscribe"] == "<https://cx.example.com/u/abc>"
    assert _get(outbox, sent.id).status == "delivered"
    dead = _get(outbox, bounced.id)
    assert dead.status == "dead" and "550" in (dead.last_error or "")
    assert smtp_server.refused == ["bounce@example.com"]


def test_a_mail_server_that_is_down_is_retried_later(
    outbox: Store, smtp_server: SmtpServer
) -> None:
    with session_scope(outbox.sessions) as session:
        mail_id = deliveries.enqueue(
            session=session, channel="email", target="ops@example.com",
            payload={"subject": "P1 case 12 escalated", "text": "Case 12 breached its SLA."},
            key="case:12:escalated:mail", now=T0,
        ).id  # fmt: skip
    assert _run(outbox, T0)["retrying"] == 1  # no CXLOOP_SMTP_HOST in these settings
    row = _get(outbox, mail_id)
    assert row.status == "pending" and "CXLOOP_SMTP_HOST" in (row.last_error or "")
    settings = smtp_server.settings(database_url=outbox.settings.database_url)
    assert _run(outbox, T0 + dt.timedelta(minutes=1), settings)["delivered"] == 1
    (message,) = smtp_server.messages
    assert message["Subject"] == "P1 case 12 escalated"


def test_what_was_pending_is_delivered_after_a_restart(
    outbox: Store, http_receiver: Receiver
) -> None:
    http_receiver.fail_next(1)
    delivery_id = _queue(outbox, http_receiver.url)
    assert _run(outbox, T0)["retrying"] == 1
    outbox.close()  # the process stops
    restarted = connect(settings=outbox.settings)
    try:
        assert _run(restarted, T0 + dt.timedelta(minutes=2))["delivered"] == 1
        assert _get(restarted, delivery_id).attempts == 2
    finally:
        restarted.close()


def test_a_claim_left_by_a_run_that_died_mid_send_is_released(
    outbox: Store, http_receiver: Receiver
) -> None:
    delivery_id = _queue(outbox, http_receiver.url)
    with session_scope(outbox.sessions) as session:  # a run claimed it, then the process died
        session.execute(
            update(Delivery).where(Delivery.id == delivery_id).values(
                status="delivering", claimed_at=T0
            )
        )  # fmt: skip
    assert _run(outbox, T0 + dt.timedelta(minutes=10))["delivered"] == 0  # maybe still sending
    assert _run(outbox, T0 + dt.timedelta(minutes=31)) == {
        "delivered": 1, "retrying": 0, "dead": 0, "released": 1
    }  # fmt: skip
    assert len(http_receiver.requests) == 1


def test_a_row_claimed_by_one_run_is_not_sent_by_another(
    outbox: Store, http_receiver: Receiver
) -> None:
    ids = [_queue(outbox, http_receiver.url, key=f"k{i}") for i in range(3)]
    first = outbox.sessions()
    try:
        claimed, _ = deliveries._claim(first, T0, 10)
        assert [r.id for r in claimed] == ids
        assert _run(outbox, T0)["delivered"] == 0  # the second run finds nothing to claim
        assert http_receiver.requests == []
    finally:
        first.close()


def test_two_runs_at_once_never_send_a_row_twice(outbox: Store, http_receiver: Receiver) -> None:
    ids = [_queue(outbox, http_receiver.url, key=f"case:{i}:opened") for i in range(24)]
    start = threading.Barrier(2)
    results: list[dict[str, int]] = []
    errors: list[BaseException] = []

    def one_run() -> None:
        try:
            start.wait()
            results.append(_run(outbox, T0))
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=one_run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    sent = sorted(int(r.headers["x-cxloop-delivery"]) for r in http_receiver.requests)
    assert sent == ids  # each row exactly once, whichever run sent it
    assert sum(r["delivered"] for r in results) == 24


def test_the_tick_runs_the_notify_job(outbox: Store, http_receiver: Receiver) -> None:
    delivery_id = _queue(outbox, http_receiver.url)
    outcomes = tick.run(outbox.settings, T0, only=["notify.deliver_due"])
    assert outcomes["notify.deliver_due"].error is None
    assert outcomes["notify.deliver_due"].counts["delivered"] == 1
    assert _get(outbox, delivery_id).status == "delivered"


def test_a_mail_missing_a_template_value_is_refused_when_queued(outbox: Store) -> None:
    with session_scope(outbox.sessions) as session, pytest.raises(Invalid, match="misses"):
        deliveries.enqueue_mail(
            session=session, to="li.na@example.com", template="survey_invitation", lang="zh",
            context={"survey_title": "配送体验"}, key="invite:9",
        )  # fmt: skip
    with session_scope(outbox.sessions) as session:
        assert deliveries.list_deliveries(session=session) == []
