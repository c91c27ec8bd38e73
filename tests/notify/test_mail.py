"""notify.mail against a real SMTP server (aiosmtpd on loopback): zh and en mails decode,
plain + HTML parts, unsubscribe headers, bounces per recipient, clear errors for a server that
cannot be used, and no address in the log."""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
import socket
import ssl
import subprocess
from email.message import EmailMessage
from email.utils import parseaddr, parsedate_to_datetime
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from cxloop.config import Settings
from cxloop.errors import Invalid
from cxloop.notify import mail
from cxloop.notify.mail import MailMessage, MailUnavailable
from tests.smtp import SmtpServer, _Handler, free_port

DEADLINE = dt.datetime(2026, 12, 8, 10, 0, tzinfo=dt.UTC)
SURVEY = {
    "survey_title": "配送体验调查",
    "survey_url": "https://cx.example.com/s/tok-abc",
    "unsubscribe_url": "https://cx.example.com/u/tok-def",
    "recipient_name": "李娜",
    "expires_at": dt.datetime(2026, 12, 20, 10, 0, tzinfo=dt.UTC),
}
ALERT = {
    "owner_name": "王芳",
    "account_name": "华东制造 & Co",
    "milestone_name": "上线验收",
    "missing_roles": ["决策者", "最终用户"],
    "deadline": DEADLINE,
    "survey_title": "验收调查",
    "status_url": "https://cx.example.com/surveys/acceptance/completeness",
}


def parts(message: EmailMessage) -> tuple[str, str]:
    """The decoded plain-text and HTML bodies."""
    assert message.get_content_type() == "multipart/alternative"
    plain = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert plain is not None and html is not None
    return plain.get_content(), html.get_content()


def invitation(lang: str, to: str, **extra: object) -> MailMessage:
    subject, text, html = mail.render("survey_invitation", lang, {**SURVEY, **extra})
    return MailMessage(
        to=to,
        subject=subject,
        text=text,
        html=html,
        to_name=str(extra.get("recipient_name", SURVEY["recipient_name"]) or ""),
        unsubscribe_url=str(SURVEY["unsubscribe_url"]),
    )


def test_zh_and_en_invitations_arrive_decoded_with_both_parts_and_unsubscribe_headers(
    smtp_server: SmtpServer,
) -> None:
    outcomes = mail.send(
        smtp_server.settings(),
        [
            invitation("zh", "li.na@example.com"),
            invitation("en", "Ann@Example.com", recipient_name="Ann O'Neil"),
        ],
    )
    assert [(o.to, o.accepted, o.bounced, o.error) for o in outcomes] == [
        ("li.na@example.com", True, False, None),
        ("Ann@Example.com", True, False, None),
    ]
    zh, en = smtp_server.messages
    assert zh["Subject"] == "邀请您参与：配送体验调查"
    assert parseaddr(str(zh["To"])) == ("李娜", "li.na@example.com")
    assert parseaddr(str(zh["From"]))[1] == "surveys@cxloop.test"
    text, html = parts(zh)
    assert "李娜，您好" in text and "https://cx.example.com/s/tok-abc" in text
    assert "2026年12月20日" in text  # expiry in the reader's words
    assert "https://cx.example.com/u/tok-def" in text
    assert 'href="https://cx.example.com/s/tok-abc"' in html and 'lang="zh-CN"' in html
    assert zh["List-Unsubscribe"] == "<https://cx.example.com/u/tok-def>"
    assert zh["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert str(zh["Message-ID"]).endswith("@cxloop.test>")
    assert zh["Message-ID"] != en["Message-ID"] == outcomes[1].message_id
    assert parsedate_to_datetime(str(zh["Date"])).tzinfo is not None
    assert en["Subject"] == "Your opinion, please: 配送体验调查"
    text, html = parts(en)
    assert "Hello Ann O'Neil," in text and "Hello Ann O&#39;Neil," in html  # escaped in HTML
    assert "Dec 20, 2026" in text


def test_the_raw_mail_is_utf8_and_rfc2047_not_mojibake(smtp_server: SmtpServer) -> None:
    mail.send(smtp_server.settings(), [invitation("zh", "li.na@example.com")])
    (message,) = smtp_server.messages
    raw = message.as_bytes()
    assert b"=?utf-8?" in raw  # the Chinese subject is encoded for 7-bit transports
    for part in message.walk():
        if part.get_content_maintype() == "text":
            assert part.get_content_charset() == "utf-8"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_long_unsubscribe_url_goes_out_as_a_plain_angle_bracketed_header(
    smtp_server: SmtpServer, lang: str
) -> None:
    """RFC 2369/8058: mail clients read ``<URL>`` — an RFC 2047 encoded-word (what Python's
    folder writes for a URL longer than a line) is no unsubscribe link to them."""
    url = "http://127.0.0.1:18765/u/AXUA" + "b7Kq-_9zR" * 14  # a real token's length and more
    subject, text, html = mail.render("survey_invitation", lang, {**SURVEY, "unsubscribe_url": url})
    message = MailMessage("li.na@example.com", subject, text, html, unsubscribe_url=url)
    (outcome,) = mail.send(smtp_server.settings(), [message])
    assert outcome.accepted
    (received,) = smtp_server.envelopes
    headers = received.raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    lines = headers.split("\r\n")
    (line,) = [h for h in lines if h.lower().startswith("list-unsubscribe:")]
    assert line == f"List-Unsubscribe: <{url}>"  # one line, not folded, not encoded
    assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in lines
    assert all(len(h) <= 998 for h in lines)  # RFC 5322's hard line limit still holds
    assert "=?utf-8?" in headers  # the other headers are still encoded (the subject)
    assert received.message["List-Unsubscribe"] == f"<{url}>"


def test_a_refused_recipient_is_a_bounce_with_the_servers_reply_and_the_rest_go_out(
    smtp_server: SmtpServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="cxloop.notify")
    outcomes = mail.send(
        smtp_server.settings(),
        [
            invitation("zh", "a@example.com"),
            invitation("zh", "bounce-me@example.com"),
            invitation("en", "b@example.com"),
        ],
    )
    accepted = [o.to for o in outcomes if o.accepted]
    (bounce,) = [o for o in outcomes if not o.accepted]
    assert accepted == ["a@example.com", "b@example.com"]
    assert bounce.bounced and bounce.to == "bounce-me@example.com"
    assert bounce.error is not None and bounce.error.startswith("550") and "No such" in bounce.error
    assert len(smtp_server.messages) == 2 and smtp_server.refused == ["bounce-me@example.com"]
    assert "2 accepted, 1 bounced, 0 failed" in caplog.text
    assert "@example.com" not in caplog.text  # counts only, never addresses


def test_one_connection_for_a_batch(smtp_server: SmtpServer) -> None:
    batch = [invitation("zh", f"p{i}@example.com") for i in range(5)]
    assert all(o.accepted for o in mail.send(smtp_server.settings(), batch))
    assert len(smtp_server.messages) == 5 and smtp_server.greetings == 1


def test_a_server_that_cannot_be_reached_is_a_sentence_naming_host_and_port() -> None:
    port = free_port()  # nothing listens there
    settings = Settings(smtp_host="127.0.0.1", smtp_port=port, smtp_timeout_s=2)
    with pytest.raises(MailUnavailable) as failed:
        mail.send(settings, [MailMessage("a@example.com", "s", "t")])
    assert f"127.0.0.1:{port}" in str(failed.value) and "could not be reached" in str(failed.value)
    assert "Traceback" not in str(failed.value)
    assert isinstance(failed.value, Invalid)  # edges already turn Invalid into a sentence
    assert failed.value.problems[0].field == "smtp"


def test_no_host_set_is_a_clear_error_and_an_empty_batch_needs_no_server() -> None:
    assert mail.send(Settings(), []) == []
    with pytest.raises(MailUnavailable, match="CXLOOP_SMTP_HOST"):
        mail.send(Settings(), [MailMessage("a@example.com", "s", "t")])


def test_starttls_or_ssl_against_a_plain_server_says_what_to_check(
    smtp_server: SmtpServer,
) -> None:
    with pytest.raises(MailUnavailable, match="STARTTLS"):
        mail.send(
            smtp_server.settings(smtp_security="starttls"), [MailMessage("a@x.org", "s", "t")]
        )
    with pytest.raises(MailUnavailable) as failed:
        mail.send(smtp_server.settings(smtp_security="ssl"), [MailMessage("a@x.org", "s", "t")])
    assert f"{smtp_server.host}:{smtp_server.port}" in str(failed.value)
    assert "CXLOOP_SMTP_SECURITY" in str(failed.value) or "reached" in str(failed.value)
    assert smtp_server.messages == []


def _auth_server(password: str) -> tuple[Controller, int, _Handler]:
    def authenticator(
        server: object, session: object, envelope: object, mechanism: str, data: object
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and data.password == password.encode()
        return AuthResult(success=ok, handled=False)

    handler, port = _Handler(), free_port()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticator,
        auth_require_tls=False,
    )
    controller.start()
    return controller, port, handler


def test_login_when_a_user_is_set_and_a_refused_login_names_the_settings() -> None:
    controller, port, handler = _auth_server("s3cret")
    try:
        good = Settings(
            smtp_host="127.0.0.1", smtp_port=port, smtp_user="mailer", smtp_password="s3cret"
        )
        (outcome,) = mail.send(good, [MailMessage("a@example.com", "登录", "正文")])
        assert outcome.accepted and len(handler.received) == 1
        bad = good.model_copy(update={"smtp_password": "wrong"})
        with pytest.raises(MailUnavailable) as failed:
            mail.send(bad, [MailMessage("a@example.com", "s", "t")])
        assert "CXLOOP_SMTP_USER" in str(failed.value) and f"127.0.0.1:{port}" in str(failed.value)
        assert "wrong" not in str(failed.value)  # the password never appears
    finally:
        controller.stop()


def test_a_newline_in_a_name_or_subject_cannot_forge_headers(smtp_server: SmtpServer) -> None:
    message = MailMessage(
        "a@example.com", "Hi\r\nBcc: victim@example.com", "t", to_name="Eve\nBcc: x@y.z"
    )
    (outcome,) = mail.send(smtp_server.settings(), [message])
    (got,) = smtp_server.messages
    assert outcome.accepted and got["Bcc"] is None
    assert got["Subject"] == "Hi Bcc: victim@example.com"


def test_addresses_a_server_cannot_take_fail_alone_and_are_not_bounces(
    smtp_server: SmtpServer,
) -> None:
    """A non-ASCII mailbox cannot go in a header; a non-ASCII domain needs SMTPUTF8. Neither
    is the person's fault: no bounce, and the rest of the batch goes out."""
    batch = [
        MailMessage("王芳@例子.公司", "主题", "正文"),
        MailMessage("li@例子.公司", "主题", "正文", to_name="李"),
        MailMessage("ok@example.com", "主题", "正文"),
    ]
    first, second, third = mail.send(smtp_server.settings(), batch)
    assert not first.accepted and not first.bounced and "header" in (first.error or "")
    assert second.accepted and third.accepted  # this server offers SMTPUTF8
    assert parseaddr(str(smtp_server.to("li@例子.公司")[0]["To"])) == ("李", "li@例子.公司")
    handler, port = _Handler(), free_port()
    plain = Controller(handler, hostname="127.0.0.1", port=port, enable_SMTPUTF8=False)
    plain.start()
    try:
        settings = Settings(smtp_host="127.0.0.1", smtp_port=port)
        _, second, third = mail.send(settings, batch)
    finally:
        plain.stop()
    assert not second.accepted and not second.bounced and "SMTPUTF8" in (second.error or "")
    assert third.accepted and len(handler.received) == 1


def test_owner_alert_in_both_languages_names_account_milestone_roles_and_deadline() -> None:
    subject, text, html = mail.render("survey_owner_alert", "zh", ALERT, tz="Asia/Shanghai")
    assert subject == "「华东制造 & Co」的「上线验收」调查还缺决策者、最终用户的回答"
    assert "王芳，您好" in text and "- 决策者" in text and "- 最终用户" in text
    assert "2026年12月8日 18:00" in text  # 10:00 UTC in Shanghai
    assert "华东制造 &amp; Co" in html and "<li>决策者</li>" in html
    subject, text, html = mail.render("survey_owner_alert", "en", ALERT, tz="Asia/Shanghai")
    assert subject == "华东制造 & Co: the 上线验收 survey still misses 决策者, 最终用户"
    assert "expire): Dec 8, 2026, 6:00 PM (Asia/Shanghai)" in text  # the deadline, zone named
    assert ALERT["status_url"] in html


def test_reminder_without_a_name_or_expiry_greets_plainly() -> None:
    context = {**SURVEY, "recipient_name": None, "expires_at": None}
    for lang, greeting, subject_start in (
        ("zh", "您好：", "提醒："),
        ("en", "Hello,", "Reminder:"),
    ):
        subject, text, _ = mail.render("survey_reminder", lang, context)
        assert text.startswith(greeting) and subject.startswith(subject_start)
        assert "None" not in text and "2026" not in text


def test_render_refuses_unknown_template_language_and_missing_values() -> None:
    with pytest.raises(Invalid, match="template"):
        mail.render("newsletter", "zh", SURVEY)
    with pytest.raises(Invalid, match="lang"):
        mail.render("survey_invitation", "fr", SURVEY)
    partial = {k: v for k, v in SURVEY.items() if k != "survey_url"}
    with pytest.raises(Invalid, match="survey_url"):
        mail.render("survey_invitation", "en", partial)


def test_every_template_exists_in_both_languages_and_both_formats() -> None:
    for name in mail.TEMPLATE_NAMES:
        for lang in mail.LANGS:
            for ext in ("txt", "html"):
                assert (mail.TEMPLATES / f"{name}.{lang}.{ext}").is_file()


def test_free_port_helper_gives_a_closed_port() -> None:
    """The unreachable-server test relies on nothing listening on a fresh free port."""
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", free_port())) != 0


@pytest.fixture
def certificate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ssl.SSLContext:
    """A self-signed certificate for 127.0.0.1 that the client trusts (``SSL_CERT_FILE``), as
    a company CA would be trusted: the server's TLS context."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed: cannot make a test certificate")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    request = "req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1"
    names = "subjectAltName=IP:127.0.0.1"
    subprocess.run(
        ["openssl", *request.split(), "-addext", names, "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


def test_starttls_and_ssl_deliver_over_a_verified_tls_connection(
    certificate: ssl.SSLContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    handler, port = _Handler(), free_port()
    starttls = Controller(
        handler, hostname="127.0.0.1", port=port, tls_context=certificate, require_starttls=True
    )
    starttls.start()
    try:
        settings = Settings(smtp_host="127.0.0.1", smtp_port=port, smtp_security="starttls")
        (outcome,) = mail.send(settings, [MailMessage("a@example.com", "加密", "正文")])
        assert outcome.accepted and len(handler.received) == 1
        # the same server, trusted by nobody: the certificate is checked, not waved through
        monkeypatch.setenv("SSL_CERT_FILE", os.devnull)
        with pytest.raises(MailUnavailable, match="TLS failed"):
            mail.send(settings, [MailMessage("a@example.com", "s", "t")])
    finally:
        starttls.stop()


def test_implicit_ssl_delivers(certificate: ssl.SSLContext) -> None:
    handler, port = _Handler(), free_port()
    implicit = Controller(handler, hostname="127.0.0.1", port=port, ssl_context=certificate)
    implicit.start()
    try:
        settings = Settings(smtp_host="127.0.0.1", smtp_port=port, smtp_security="ssl")
        (outcome,) = mail.send(settings, [MailMessage("a@example.com", "SSL", "正文")])
    finally:
        implicit.stop()
    assert outcome.accepted and len(handler.received) == 1
