"""The one mail sender: SMTP with the ``CXLOOP_SMTP_*`` settings, one connection per batch,
and an outcome per recipient; plus the zh/en templates mails are written from.

A recipient the server refuses for good (5xx on RCPT) is a *bounce*, with the server's reply;
a server that cannot be reached or refuses the login is :class:`MailUnavailable`, a sentence
naming ``host:port``. Addresses never reach the log: only counts do.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import smtplib
import socket
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email.errors import MessageError
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import format_datetime, make_msgid
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

import jinja2
from babel.dates import format_datetime as babel_datetime

from cxloop.config import Settings
from cxloop.errors import Invalid, Problem

TEMPLATES = Path(__file__).parent / "templates"
TEMPLATE_NAMES = ("survey_invitation", "survey_reminder", "survey_owner_alert")
Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")
FIELDS: dict[str, tuple[str, ...]] = {
    "survey_invitation": (
        "survey_title",
        "survey_url",
        "unsubscribe_url",
        "recipient_name",
        "expires_at",
    ),
    "survey_reminder": (
        "survey_title",
        "survey_url",
        "unsubscribe_url",
        "recipient_name",
        "expires_at",
    ),
    "survey_owner_alert": (
        "owner_name",
        "account_name",
        "milestone_name",
        "missing_roles",
        "deadline",
        "survey_title",
        "status_url",
    ),
}
"""The context each template needs; ``recipient_name``/``owner_name``/``expires_at``/
``status_url`` may be None (the mail then greets without a name or omits the line)."""

log = logging.getLogger(__name__)


class MailUnavailable(Invalid):
    """The mail server cannot be used (not configured, unreachable, TLS or login refused):
    nothing in the batch was sent after this point."""

    def __init__(self, reason: str, server: str) -> None:
        super().__init__(Problem("smtp", server, reason))
        self.server = server
        self.reason = reason


@dataclass(frozen=True)
class MailMessage:
    """One mail to one person. ``unsubscribe_url`` adds ``List-Unsubscribe`` and one-click
    ``List-Unsubscribe-Post`` (RFC 8058), which mail clients show as an unsubscribe button."""

    to: str
    subject: str
    text: str
    html: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    to_name: str | None = None
    unsubscribe_url: str | None = None
    attachments: Sequence[Attachment] = ()


@dataclass(frozen=True)
class Attachment:
    """A file sent with a mail (a scheduled report's PDF): ``content_type`` as ``type/sub``."""

    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class MailOutcome:
    """What the server said about one message: ``accepted`` (handed to the server, the best an
    SMTP client can know), ``bounced`` (refused for good: mark the address), ``error`` (the
    server's reply or why it was not sent), ``message_id`` of what was sent."""

    to: str
    accepted: bool
    error: str | None = None
    bounced: bool = False
    message_id: str | None = None


_VERBATIM = frozenset({"list-unsubscribe", "list-unsubscribe-post"})
_MAX_LINE = 998  # RFC 5322's hard limit, CRLF excluded


class _MailPolicy(EmailPolicy):
    """The default policy, except that the unsubscribe headers are written as set: a URL too
    long to fold would otherwise become an RFC 2047 encoded-word, which no mail client reads
    as ``<URL>`` (RFC 2369/8058)."""

    def _verbatim(self, name: str, value: str) -> str | None:
        line = f"{name}: {value}"
        if name.lower() in _VERBATIM and line.isascii() and len(line) <= _MAX_LINE:
            return line + self.linesep
        return None

    def fold(self, name: str, value: str) -> str:
        return self._verbatim(name, str(value)) or super().fold(name, value)

    def fold_binary(self, name: str, value: str) -> bytes:
        line = self._verbatim(name, str(value))
        return line.encode("ascii") if line else super().fold_binary(name, value)


POLICY = _MailPolicy()


def server_name(settings: Settings) -> str:
    return f"{settings.smtp_host or '(unset)'}:{settings.smtp_port}"


def build(message: MailMessage, settings: Settings, now: dt.datetime | None = None) -> EmailMessage:
    """The MIME message: multipart/alternative (plain text first, HTML second) with Date,
    Message-ID and the unsubscribe headers; headers are RFC 2047-encoded when not ASCII, except
    ``List-Unsubscribe``, which goes out as a plain ``<URL>`` however long."""
    mail = EmailMessage(policy=POLICY)
    sender = settings.smtp_from
    mail["From"] = sender
    mail["To"] = Address(display_name=_one_line(message.to_name or ""), addr_spec=message.to)
    mail["Subject"] = _one_line(message.subject)
    mail["Date"] = format_datetime(now or dt.datetime.now(dt.UTC))
    domain = sender.rpartition("@")[2].strip("> ") or "cxloop.localhost"
    mail["Message-ID"] = make_msgid(domain=domain)
    if message.unsubscribe_url:
        mail["List-Unsubscribe"] = f"<{message.unsubscribe_url}>"
        mail["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    for name, value in message.headers.items():
        mail[name] = _one_line(value)
    mail.set_content(message.text, charset="utf-8")
    if message.html is not None:
        mail.add_alternative(message.html, subtype="html", charset="utf-8")
    for item in message.attachments:
        maintype, _, subtype = item.content_type.partition("/")
        mail.add_attachment(
            item.data, maintype=maintype, subtype=subtype or "octet-stream",
            filename=_one_line(item.filename),
        )  # fmt: skip
    return mail


def _one_line(value: str) -> str:
    """Header values on one line: a newline in a name or subject would forge headers."""
    return re.sub(r"\s+", " ", value).strip()


def _connect(settings: Settings) -> smtplib.SMTP:
    """An open, greeted (and logged-in when a user is set) connection, or MailUnavailable."""
    where = server_name(settings)
    if not settings.smtp_host:
        raise MailUnavailable("no mail server is set (CXLOOP_SMTP_HOST)", where)
    timeout = settings.smtp_timeout_s
    context = ssl.create_default_context()
    client: smtplib.SMTP | None = None
    try:
        if settings.smtp_security == "ssl":
            client = smtplib.SMTP_SSL(
                settings.smtp_host, settings.smtp_port, timeout=timeout, context=context
            )
        else:
            client = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=timeout)
        client.ehlo_or_helo_if_needed()
        if settings.smtp_security == "starttls":
            if not client.has_extn("starttls"):
                raise MailUnavailable(
                    "does not offer STARTTLS (CXLOOP_SMTP_SECURITY=starttls)", where
                )
            client.starttls(context=context)
            client.ehlo()
        if settings.smtp_user:
            client.login(settings.smtp_user, settings.smtp_password or "")
        return client
    except MailUnavailable:
        _close(client)
        raise
    except smtplib.SMTPAuthenticationError as exc:
        _close(client)
        raise MailUnavailable(
            f"refused the login ({exc.smtp_code}; check CXLOOP_SMTP_USER/CXLOOP_SMTP_PASSWORD)",
            where,
        ) from None
    except smtplib.SMTPNotSupportedError as exc:
        _close(client)
        raise MailUnavailable(f"does not support what the settings ask: {exc}", where) from None
    except ssl.SSLError as exc:
        _close(client)
        raise MailUnavailable(
            f"TLS failed ({exc.reason or exc}; check CXLOOP_SMTP_SECURITY and CXLOOP_SMTP_PORT)",
            where,
        ) from None
    except (smtplib.SMTPException, OSError) as exc:
        _close(client)
        raise MailUnavailable(f"could not be reached ({_describe(exc)})", where) from None


def _describe(exc: BaseException) -> str:
    if isinstance(exc, socket.timeout | TimeoutError):
        return "timed out"
    if isinstance(exc, socket.gaierror):
        return "unknown host"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code} {_reply(exc.smtp_error)}"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def _reply(raw: bytes | str) -> str:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    return _one_line(text)


def _close(client: smtplib.SMTP | None) -> None:
    if client is None:
        return
    try:
        client.quit()
    except (smtplib.SMTPException, OSError):
        client.close()


def _send_one(client: smtplib.SMTP, mail: EmailMessage, to: str) -> MailOutcome:
    message_id = str(mail["Message-ID"])
    try:
        refused = client.send_message(mail, to_addrs=[to])
    except smtplib.SMTPRecipientsRefused as exc:
        code, reply = next(iter(exc.recipients.values()), (0, b""))
        error = f"{code} {_reply(reply)}"
        return MailOutcome(to, False, error, bounced=500 <= code < 600, message_id=message_id)
    except smtplib.SMTPNotSupportedError:
        error = "not sent: the server does not accept non-ASCII addresses (SMTPUTF8)"
        return MailOutcome(to, False, error, message_id=message_id)
    except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
        error = f"{exc.smtp_code} {_reply(exc.smtp_error)}"
        return MailOutcome(to, False, error, message_id=message_id)
    if refused:  # only with several recipients; kept for completeness
        code, reply = refused[to]
        return MailOutcome(to, False, f"{code} {_reply(reply)}", 500 <= code < 600, message_id)
    return MailOutcome(to, True, message_id=message_id)


def send(
    settings: Settings, messages: Sequence[MailMessage], *, now: dt.datetime | None = None
) -> list[MailOutcome]:
    """Send every message over one connection; outcomes in the order of ``messages``.

    Raises :class:`MailUnavailable` when the server cannot be used at all. If the connection
    drops mid-batch it reconnects once; the messages it then cannot send get an error outcome
    (not a bounce), so the caller can record what did go out and try the rest later.
    """
    if not messages:
        return []
    outcomes: list[MailOutcome] = []
    client: smtplib.SMTP | None = _connect(settings)
    reconnected = False
    for message in messages:
        try:
            mail = build(message, settings, now)
        except (ValueError, TypeError, MessageError):  # e.g. a non-ASCII local part
            error = "not sent: the address cannot be written in a mail header (malformed, or "
            error += "not ASCII before the @)"
            outcomes.append(MailOutcome(message.to, False, error))
            continue
        if client is None:
            outcomes.append(MailOutcome(message.to, False, "not sent: the connection was lost"))
            continue
        try:
            outcomes.append(_send_one(client, mail, message.to))
        except (smtplib.SMTPServerDisconnected, smtplib.SMTPResponseException, OSError) as exc:
            _close(client)
            client = None
            if not reconnected:
                reconnected = True
                try:
                    client = _connect(settings)
                    outcomes.append(_send_one(client, mail, message.to))
                    continue
                except (MailUnavailable, smtplib.SMTPException, OSError):
                    _close(client)
                    client = None
            outcomes.append(
                MailOutcome(message.to, False, f"not sent: connection lost ({_describe(exc)})")
            )
    _close(client)
    accepted = sum(o.accepted for o in outcomes)
    bounced = sum(o.bounced for o in outcomes)
    log.info(
        "mail batch via %s: %d accepted, %d bounced, %d failed",
        server_name(settings),
        accepted,
        bounced,
        len(outcomes) - accepted - bounced,
    )
    return outcomes


# --- templates ------------------------------------------------------------------------------


def _when(value: Any, lang: str = "zh", tz: str | None = None) -> str:
    """A date and time as people read it in ``lang`` (``2026年12月8日 18:00`` / ``Dec 8, 2026,
    6:00 PM``), in ``tz`` when given; strings pass through as written."""
    if value is None or isinstance(value, str):
        return value or ""
    if isinstance(value, dt.datetime):
        pattern = "yyyy年M月d日 HH:mm" if lang == "zh" else "MMM d, y, h:mm a"
        zone = ZoneInfo(tz) if tz else None
        return babel_datetime(value, pattern, tzinfo=zone, locale="zh_CN" if lang == "zh" else "en")
    if isinstance(value, dt.date):
        if lang == "zh":
            return f"{value.year}年{value.month}月{value.day}日"
        return f"{value:%b} {value.day}, {value.year}"
    return str(value)


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default=False),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = _when
    return env


def render(
    template: str, lang: str, context: Mapping[str, Any], *, tz: str | None = None
) -> tuple[str, str, str]:
    """``(subject, text, html)`` of ``notify/templates/<template>.<lang>.{txt,html}``; the
    subject is the ``subject`` the text template sets. A missing context value is an error
    (StrictUndefined), so a caller that forgets one fails its tests instead of mailing a gap."""
    if template not in FIELDS:
        raise Invalid("is not a mail template (" + ", ".join(FIELDS) + ")", "template", template)
    if lang not in LANGS:
        raise Invalid("is not a mail language (zh, en)", "lang", lang)
    missing = [name for name in FIELDS[template] if name not in context]
    if missing:
        raise Invalid(f"misses {', '.join(missing)}", "context", template)
    values = {**context, "lang": lang, "tz": tz}
    env = _environment()
    text_template = env.get_template(f"{template}.{lang}.txt")
    module = text_template.make_module(values)
    subject = _one_line(str(getattr(module, "subject", "")))
    text = str(module).lstrip("\n")
    html = env.get_template(f"{template}.{lang}.html").render(values)
    return subject, text, html
