"""The shared fixtures themselves: the SMTP server accepts and bounces, the receiver records
and fails on demand (stdlib clients only, so these hold whatever notify does)."""

from __future__ import annotations

import smtplib
import urllib.error
import urllib.request
from email.message import EmailMessage

import pytest

from tests.http_receiver import Receiver
from tests.smtp import SmtpServer


def test_smtp_server_collects_parsed_mail_and_refuses_bounce_addresses(
    smtp_server: SmtpServer,
) -> None:
    message = EmailMessage()
    message["From"] = "a@example.com"
    message["To"] = "b@example.com"
    message["Subject"] = "配送体验调查"
    message.set_content("您好")
    with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=5) as client:
        refused = client.send_message(message, to_addrs=["b@example.com", "bounce1@example.com"])
    assert list(refused) == ["bounce1@example.com"] and refused["bounce1@example.com"][0] == 550
    (got,) = smtp_server.to("B@example.com")
    assert got["Subject"] == "配送体验调查" and got.get_content().strip() == "您好"
    assert smtp_server.refused == ["bounce1@example.com"]


def test_http_receiver_records_and_fails_on_demand(http_receiver: Receiver) -> None:
    http_receiver.fail_next(1, status=503)
    request = urllib.request.Request(
        http_receiver.url, data=b'{"a": 1}', method="POST", headers={"X-Test": "yes"}
    )
    with pytest.raises(urllib.error.HTTPError) as failed:
        urllib.request.urlopen(request, timeout=5)
    assert failed.value.code == 503
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200
    first, second = http_receiver.requests
    assert first.method == "POST" and first.path == "/hook" and first.json() == {"a": 1}
    assert second.headers["x-test"] == "yes"
