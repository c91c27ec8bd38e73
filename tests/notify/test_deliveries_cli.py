"""``cxloop notify …`` as a user runs it (a real process, a real SQLite file, a real loopback
receiver): a receiver that never succeeds leaves a dead letter the CLI lists, a resend delivers
it once the receiver recovers, and no command prints the webhook URL's token."""

from __future__ import annotations

import json
from pathlib import Path

from cxloop.api import connect
from cxloop.config import Settings
from cxloop.db.session import session_scope
from cxloop.notify import deliveries, webhooks
from tests.cli.support import run_cxloop
from tests.http_receiver import Receiver

ENV = {"CXLOOP_WEBHOOK_SECRET": "whsec-cli-test-0123", "CXLOOP_NOTIFY_MAX_ATTEMPTS": "1"}


def _queue(tmp_path: Path, url: str) -> int:
    store = connect(settings=Settings(database_url=f"sqlite:///{tmp_path / 'cli.db'}"))
    try:
        with session_scope(store.sessions) as session:
            return deliveries.enqueue(
                session=session,
                channel="webhook",
                target=url,
                payload={"event": "case.escalated", "case": 7},
                key="case:7:escalated",
            ).id
    finally:
        store.close()


def test_a_dead_letter_is_listed_resent_and_delivered_from_the_cli(
    tmp_path: Path, http_receiver: Receiver
) -> None:
    http_receiver.status = 500
    delivery_id = _queue(tmp_path, http_receiver.url + "?token=s3cr3t")
    ran = run_cxloop(tmp_path, "notify", "deliver", env=ENV)
    assert ran.returncode == 0, ran.stderr
    assert "delivered 0, retrying 0, dead 1" in ran.stdout

    listed = run_cxloop(tmp_path, "notify", "deliveries", "--dead", env=ENV)
    assert listed.returncode == 0, listed.stderr
    assert "dead letters" in listed.stdout and "case:7:escalated" in listed.stdout
    assert "HTTP 500" in listed.stdout and f"127.0.0.1:{http_receiver.port}" in listed.stdout
    as_json = run_cxloop(tmp_path, "notify", "deliveries", "--dead", "--format", "json", env=ENV)
    (row,) = json.loads(as_json.stdout)
    assert (row["id"], row["status"], row["attempts"]) == (delivery_id, "dead", 1)
    assert row["target"] == f"http://127.0.0.1:{http_receiver.port}/…"
    for output in (ran, listed, as_json):
        assert "s3cr3t" not in output.stdout + output.stderr
        assert "/hook" not in output.stdout + output.stderr

    http_receiver.status = 200
    resent = run_cxloop(tmp_path, "notify", "resend", str(delivery_id), env=ENV)
    assert resent.returncode == 0, resent.stderr
    assert f"delivery {delivery_id}" in resent.stdout and "pending again" in resent.stdout
    assert "s3cr3t" not in resent.stdout
    again = run_cxloop(tmp_path, "notify", "deliver", env=ENV)
    assert "delivered 1" in again.stdout
    assert len(http_receiver.requests) == 2
    assert "no dead letters" in run_cxloop(tmp_path, "notify", "deliveries", "--dead").stdout

    refused = run_cxloop(tmp_path, "notify", "resend", str(delivery_id))
    assert refused.returncode == 2 and "is delivered: only dead deliveries" in refused.stderr
    unknown = run_cxloop(tmp_path, "notify", "resend", "999")
    assert unknown.returncode == 2 and "no delivery 999" in unknown.stderr
    bad = run_cxloop(tmp_path, "notify", "deliveries", "--status", "lost")
    assert bad.returncode == 2 and "status: 'lost' is not a status" in bad.stderr
    for output in (refused, unknown, bad):
        assert "Traceback" not in output.stderr


def test_the_notify_commands_refuse_a_store_that_is_not_there(tmp_path: Path) -> None:
    ran = run_cxloop(tmp_path, "notify", "deliveries")
    assert ran.returncode == 2 and "no cxloop store" in ran.stderr
    assert "Traceback" not in ran.stderr


def test_notify_test_sends_a_signed_call_at_once_and_keeps_a_failure_queued(
    tmp_path: Path, http_receiver: Receiver
) -> None:
    _queue(tmp_path, http_receiver.url_for("/other"))  # due, but `notify test` sends only its own
    ok = run_cxloop(tmp_path, "notify", "test", http_receiver.url + "?token=s3cr3t", env=ENV)
    assert ok.returncode == 0, ok.stderr
    assert "delivered" in ok.stdout and "s3cr3t" not in ok.stdout
    (request,) = http_receiver.requests
    assert request.path == "/hook?token=s3cr3t" and request.json()["event"] == "cxloop.test"
    assert webhooks.verify(
        ENV["CXLOOP_WEBHOOK_SECRET"],
        request.headers["x-cxloop-timestamp"],
        request.body,
        request.headers["x-cxloop-signature"],
    )
    http_receiver.status = 500
    failed = run_cxloop(tmp_path, "notify", "test", http_receiver.url, env={})
    assert failed.returncode == 1 and failed.stderr.startswith("error: delivery 3 to http")
    assert "answered HTTP 500 (queued, next try" in failed.stderr
    assert "Traceback" not in failed.stderr
    pending = json.loads(
        run_cxloop(
            tmp_path, "notify", "deliveries", "--status", "pending", "--format", "json"
        ).stdout
    )
    assert sorted(r["key"].split(":")[0] for r in pending) == ["case", "test"]
    bad = run_cxloop(tmp_path, "notify", "test", "ftp://example.com/x?token=s3cr3t")
    assert bad.returncode == 2 and "is not an http(s) URL" in bad.stderr
    assert "s3cr3t" not in bad.stderr and "Traceback" not in bad.stderr
