"""A real SMTP server on loopback for the mail tests (aiosmtpd), registered in conftest.

``smtp_server`` yields an :class:`SmtpServer`: its ``host``/``port``, ``settings(**extra)``
for a :class:`~cxloop.config.Settings` pointing at it, and ``messages`` — every accepted
mail parsed as an :class:`email.message.EmailMessage` (with the envelope in ``envelopes``).
Recipients whose address starts with ``bounce`` are refused with 550, as a real server
refuses an unknown mailbox.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from cxloop.config import Settings


@dataclass
class Received:
    """One accepted mail: who the envelope named and the parsed message."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    raw: bytes = b""
    """The bytes the client sent after DATA, as a mail client would read them."""


@dataclass
class _Handler:
    received: list[Received] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    greetings: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_EHLO(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str, responses: Any
    ) -> Any:
        with self.lock:
            self.greetings += 1
        session.host_name = hostname
        return responses

    async def handle_HELO(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str
    ) -> str:
        with self.lock:
            self.greetings += 1
        session.host_name = hostname
        return f"250 {server.hostname}"

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: Any
    ) -> str:
        if address.lower().startswith("bounce"):
            with self.lock:
                self.refused.append(address)
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        raw = envelope.original_content or b""
        parsed = BytesParser(policy=policy.default).parsebytes(raw)
        assert isinstance(parsed, EmailMessage)
        with self.lock:
            self.received.append(
                Received(str(envelope.mail_from), list(envelope.rcpt_tos), parsed, raw)
            )
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class SmtpServer:
    host: str
    port: int
    handler: _Handler

    @property
    def messages(self) -> list[EmailMessage]:
        """Accepted mails, in arrival order, one per DATA (a mail to two people is one)."""
        with self.handler.lock:
            return [r.message for r in self.handler.received]

    @property
    def envelopes(self) -> list[Received]:
        with self.handler.lock:
            return list(self.handler.received)

    @property
    def refused(self) -> list[str]:
        """Recipients the server refused with 550."""
        with self.handler.lock:
            return list(self.handler.refused)

    @property
    def greetings(self) -> int:
        """EHLO/HELO commands seen: one per plain connection (a batch should make one)."""
        with self.handler.lock:
            return self.handler.greetings

    def to(self, address: str) -> list[EmailMessage]:
        """Mails whose envelope named ``address`` (case-insensitive)."""
        wanted = address.lower()
        return [r.message for r in self.envelopes if wanted in (a.lower() for a in r.rcpt_tos)]

    def clear(self) -> None:
        with self.handler.lock:
            self.handler.received.clear()
            self.handler.refused.clear()
            self.handler.greetings = 0

    def settings(self, **extra: Any) -> Settings:
        """Settings that send to this server (plain SMTP, no login) plus ``extra``."""
        values: dict[str, Any] = {
            "smtp_host": self.host,
            "smtp_port": self.port,
            "smtp_security": "none",
            "smtp_from": "surveys@cxloop.test",
            "smtp_timeout_s": 5.0,
        }
        values.update(extra)
        return Settings(**values)

    def env(self) -> dict[str, str]:
        """The same as ``CXLOOP_SMTP_*`` environment variables (for CLI subprocess tests)."""
        return {
            "CXLOOP_SMTP_HOST": self.host,
            "CXLOOP_SMTP_PORT": str(self.port),
            "CXLOOP_SMTP_SECURITY": "none",
            "CXLOOP_SMTP_FROM": "surveys@cxloop.test",
        }


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """aiosmtpd on 127.0.0.1 and a free port, for one test."""
    handler = _Handler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpServer("127.0.0.1", port, handler)
    finally:
        controller.stop()
