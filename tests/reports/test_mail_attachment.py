"""notify.mail sends files (a report's PDF) beside the text and HTML parts, through a real
SMTP server; a Chinese file name survives (RFC 2231)."""

from __future__ import annotations

from cxloop.notify import mail
from tests.smtp import SmtpServer


def test_attachment_arrives_with_its_name_type_and_bytes(smtp_server: SmtpServer) -> None:
    data = b"%PDF-1.7\n" + bytes(range(256)) * 40
    message = mail.MailMessage(
        to="lead@example.com", subject="周报", text="见附件", html="<p>见附件</p>",
        attachments=(mail.Attachment("客户体验报告.pdf", "application/pdf", data),),
    )  # fmt: skip
    (outcome,) = mail.send(smtp_server.settings(), [message])
    assert outcome.accepted
    (received,) = smtp_server.messages
    assert received.get_content_type() == "multipart/mixed"
    assert received.get_body(("plain",)).get_content().strip() == "见附件"  # type: ignore[union-attr]
    (part,) = list(received.iter_attachments())
    assert part.get_filename() == "客户体验报告.pdf"
    assert part.get_content_type() == "application/pdf"
    assert part.get_content() == data
