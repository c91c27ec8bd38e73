"""notify.webhooks against a real loopback receiver: the signature verifies with the documented
recipe, 5xx/429 are retried with exponential backoff then succeed or die with the attempts
counted, 4xx and redirects are not retried, and URL secrets never reach an error."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from cxloop.errors import Invalid
from cxloop.notify import webhooks
from tests.http_receiver import Receiver
from tests.smtp import free_port

SECRET = "whsec-Ω-test"
PAYLOAD = {"survey": "post-delivery", "link": "https://cx.example.com/s/tok", "名字": "李娜"}


class Sleeps(list[float]):
    """Records the waits instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def test_a_signed_post_verifies_with_the_documented_recipe(http_receiver: Receiver) -> None:
    result = webhooks.post(http_receiver.url, PAYLOAD, secret=SECRET, sleep=Sleeps())
    assert result.ok and result.status == 200 and result.attempts == 1 and result.error is None
    (request,) = http_receiver.requests
    assert request.method == "POST" and request.json() == PAYLOAD
    assert request.headers["content-type"].startswith("application/json")
    timestamp = request.headers["x-cxloop-timestamp"]
    signature = request.headers["x-cxloop-signature"]
    # what a receiver in any language does: HMAC-SHA256 over "timestamp.body" with the secret
    expected = hmac.new(
        SECRET.encode(), timestamp.encode() + b"." + request.body, hashlib.sha256
    ).hexdigest()
    assert signature == f"sha256={expected}"
    assert webhooks.verify(SECRET, timestamp, request.body, signature)
    assert not webhooks.verify("other secret", timestamp, request.body, signature)
    assert not webhooks.verify(SECRET, timestamp, request.body + b" ", signature)
    assert not webhooks.verify(SECRET, str(int(timestamp) + 1), request.body, signature)


def test_verify_refuses_a_replay_outside_the_tolerance_and_junk_timestamps() -> None:
    body = json.dumps(PAYLOAD).encode()
    signature = webhooks.sign(SECRET, 1_000_000, body)
    assert webhooks.verify(SECRET, "1000000", body, signature, 300, now=1_000_299)
    assert not webhooks.verify(SECRET, "1000000", body, signature, 300, now=1_000_301)
    assert not webhooks.verify(SECRET, "yesterday", body, signature, now=1_000_000)
    assert webhooks.verify(SECRET, 1_000_000, body.decode(), signature, now=1_000_000)


def test_no_secret_means_no_signature_header(http_receiver: Receiver) -> None:
    assert webhooks.post(http_receiver.url, PAYLOAD).ok
    (request,) = http_receiver.requests
    assert "x-cxloop-signature" not in request.headers and "x-cxloop-timestamp" in request.headers


def test_retries_5xx_with_exponential_backoff_then_succeeds(http_receiver: Receiver) -> None:
    http_receiver.fail_next(2, status=503)
    sleeps = Sleeps()
    result = webhooks.post(
        http_receiver.url, PAYLOAD, secret=SECRET, retries=3, backoff=0.5, sleep=sleeps
    )
    assert result.ok and result.attempts == 3 and sleeps == [0.5, 1.0]
    assert len(http_receiver.requests) == 3
    for request in http_receiver.requests:  # each attempt signed afresh, each verifiable
        assert webhooks.verify(
            SECRET,
            request.headers["x-cxloop-timestamp"],
            request.body,
            request.headers["x-cxloop-signature"],
        )


def test_dead_after_the_retries_with_the_attempts_counted(http_receiver: Receiver) -> None:
    http_receiver.fail_next(10)
    sleeps = Sleeps()
    result = webhooks.post(http_receiver.url, PAYLOAD, retries=2, backoff=0.1, sleep=sleeps)
    assert not result.ok and result.status == 500 and result.attempts == 3
    assert len(http_receiver.requests) == 3 and sleeps == [0.1, 0.2]
    assert (
        result.error
        == f"http://127.0.0.1:{http_receiver.port}/… answered HTTP 500 after 3 attempts"
    )
    with pytest.raises(Invalid) as failed:
        result.raise_for_failure("webhook_url")
    assert failed.value.problems[0].field == "webhook_url"


def test_429_is_retried_and_4xx_is_not(http_receiver: Receiver) -> None:
    http_receiver.fail_next(1, status=429)
    assert webhooks.post(http_receiver.url, PAYLOAD, sleep=Sleeps()).attempts == 2
    http_receiver.clear()
    http_receiver.fail_next(5, status=400)
    sleeps = Sleeps()
    result = webhooks.post(http_receiver.url, PAYLOAD, sleep=sleeps)
    assert not result.ok and result.attempts == 1 and sleeps == [] and result.status == 400


def test_a_redirect_is_a_failure_never_followed(http_receiver: Receiver) -> None:
    http_receiver.redirect_to = http_receiver.url_for("/elsewhere")
    result = webhooks.post(http_receiver.url_for("/hook?token=s3cret"), PAYLOAD, sleep=Sleeps())
    assert not result.ok and result.status == 302 and result.attempts == 1
    assert [r.path for r in http_receiver.requests] == ["/hook?token=s3cret"]  # no GET after
    assert "s3cret" not in (result.error or "") and "redirect" in (result.error or "")


def test_connection_refused_is_retried_and_reported_without_the_secret() -> None:
    url = f"http://127.0.0.1:{free_port()}/hooks/T0KEN?sig=abc"
    sleeps = Sleeps()
    result = webhooks.post(url, PAYLOAD, retries=2, backoff=1, sleep=sleeps)
    assert not result.ok and result.status is None and result.attempts == 3
    assert sleeps == [1, 2] and "could not be reached" in (result.error or "")
    assert "T0KEN" not in (result.error or "") and "abc" not in (result.error or "")


def test_a_bad_url_is_refused_before_any_attempt() -> None:
    for url in ("ftp://x.example.com/h", "not a url", "http:///nohost"):
        result = webhooks.post(url, PAYLOAD, sleep=Sleeps())
        assert not result.ok and result.attempts == 0 and "http(s)" in (result.error or "")


def test_redact_url_keeps_scheme_host_and_port_only() -> None:
    assert webhooks.redact_url("https://u:pw@crm.example.com/h/t0ken?k=1") == (
        "https://crm.example.com/…"
    )
    assert webhooks.redact_url("http://127.0.0.1:8080/x") == "http://127.0.0.1:8080/…"
    assert webhooks.redact_url("http://[::1]:bad/x") == "…"


def test_a_refused_url_never_shows_its_token_in_the_reason(http_receiver: Receiver) -> None:
    """http.client quotes the path and query of a URL it refuses (a space, a control
    character): the reason must hide them like the target does, since they carry tokens."""
    url = f"{http_receiver.url}/hook?token=s3cr3t value"
    result = webhooks.post(url, {"a": 1}, retries=0)
    assert not result.ok and result.reason is not None
    assert "s3cr3t" not in result.reason and "s3cr3t" not in (result.error or "")
    assert "could not be reached" in result.reason
