"""The one webhook sender: a signed JSON POST, retried with backoff, never redirected.

Every POST carries ``X-Cxloop-Timestamp`` (Unix seconds) and, when a secret is given,
``X-Cxloop-Signature: sha256=<hex>`` — HMAC-SHA256 of ``timestamp + "." + body`` — so a receiver
can tell the call came from us and is fresh (:func:`verify`). Connection errors, 5xx and 429 are
retried with exponential backoff; a redirect is a failure (following it would turn the POST into
a GET that delivers nothing). Errors name the URL with its path and query hidden: webhook URLs
often carry a token.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import logging
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.message import Message
from typing import Any

from cxloop.errors import Invalid

SIGNATURE_HEADER = "X-Cxloop-Signature"
TIMESTAMP_HEADER = "X-Cxloop-Timestamp"
DEFAULT_TIMEOUT_S = 10.0
DEFAULT_RETRIES = 3
DEFAULT_BACKOFF_S = 0.5
MAX_WAIT_S = 60.0
"""Longest single wait between attempts (a receiver's Retry-After included)."""
USER_AGENT = "cxloop-webhook/1"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WebhookResult:
    """What happened: ``ok`` when some attempt got a 2xx; ``status`` of the last answer (None
    when none came); ``attempts`` made; ``reason`` why it failed; ``target`` the URL with its
    path and query hidden."""

    ok: bool
    status: int | None
    attempts: int
    reason: str | None = None
    target: str = ""

    @property
    def error(self) -> str | None:
        """A sentence naming the redacted URL and why it failed (None when delivered)."""
        return None if self.ok else f"{self.target} {self.reason or 'failed'}"

    def raise_for_failure(self, field: str = "webhook_url") -> None:
        """An :class:`Invalid` naming ``field``, the redacted URL and the reason, on failure."""
        if not self.ok:
            raise Invalid(self.reason or "failed", field, self.target)


def sign(secret: str | bytes, timestamp: str | int, body: bytes) -> str:
    """``sha256=<hex>`` of HMAC-SHA256(secret, ``timestamp.body``)."""
    key = secret.encode() if isinstance(secret, str) else secret
    digest = hmac.new(key, str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(
    secret: str | bytes,
    timestamp: str | int,
    body: bytes | str,
    signature: str,
    tolerance_s: float = 300.0,
    *,
    now: float | None = None,
) -> bool:
    """True when ``signature`` (the ``X-Cxloop-Signature`` header) signs ``body`` with
    ``timestamp`` (the ``X-Cxloop-Timestamp`` header) and the timestamp is within
    ``tolerance_s`` of now — a replayed old call fails. Compare the raw body, before parsing."""
    try:
        sent = int(str(timestamp).strip())
    except ValueError:
        return False
    current = time.time() if now is None else now
    if abs(current - sent) > tolerance_s:
        return False
    raw = body.encode() if isinstance(body, str) else body
    return hmac.compare_digest(sign(secret, sent, raw), signature.strip())


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect would turn the POST into a GET without the body: treat it as a failure."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


def redact_url(url: str) -> str:
    """Scheme, host and port only: webhook paths and queries often carry a secret token."""
    try:
        parts = urllib.parse.urlsplit(url)
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "…"
    return f"{parts.scheme}://{parts.hostname or ''}{port}/…" if parts.scheme else "…"


def _scrubbed(text: str, parts: urllib.parse.SplitResult) -> str:
    """An error text with the URL's path and query hidden: http.client quotes them (``URL can't
    contain control characters. '/hook?token=…'``), and they often carry a token."""
    secret = parts.path + (f"?{parts.query}" if parts.query else "")
    for piece in (secret, parts.query, parts.path):
        if piece and piece != "/":
            text = text.replace(piece, "/…")
    return text


def _retry_after(headers: Message | None) -> float | None:
    value = headers.get("Retry-After") if headers is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:  # an HTTP date: fall back to our own backoff
        return None


def post(
    url: str,
    payload: Any,
    *,
    secret: str | bytes | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
    retries: int = DEFAULT_RETRIES,
    backoff: float = DEFAULT_BACKOFF_S,
    headers: Mapping[str, str] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.time,
) -> WebhookResult:
    """POST ``payload`` as JSON to ``url``; up to ``1 + retries`` attempts, waiting ``backoff``,
    ``2·backoff``, ``4·backoff``… (or the receiver's ``Retry-After``) between them. Never
    raises for a delivery failure: the result says what happened (``raise_for_failure``)."""
    target = redact_url(url)
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return WebhookResult(False, None, 0, "is not an http(s) URL", target)
    body = json.dumps(payload, ensure_ascii=False, default=str).encode()
    attempts, status, reason = 0, None, "failed"
    while True:
        attempts += 1
        timestamp = str(int(clock()))
        sent_headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": USER_AGENT,
            TIMESTAMP_HEADER: timestamp,
            **(headers or {}),
        }
        if secret:
            sent_headers[SIGNATURE_HEADER] = sign(secret, timestamp, body)
        request = urllib.request.Request(url, data=body, method="POST", headers=sent_headers)
        retry_after: float | None = None
        answer_headers: Message | None = None
        try:
            with _OPENER.open(request, timeout=timeout) as response:
                status, answer_headers = int(response.status), response.headers
        except urllib.error.HTTPError as exc:
            status, answer_headers = int(exc.code), exc.headers
            exc.close()
        except (urllib.error.URLError, http.client.HTTPException, TimeoutError, OSError) as exc:
            status = None
            cause = getattr(exc, "reason", exc)
            if isinstance(cause, OSError) and cause.strerror:
                cause = cause.strerror
            reason = f"could not be reached ({_scrubbed(str(cause), parts)})"
        if status is not None:
            if 200 <= status < 300:
                log.info("webhook delivered after %d attempt(s)", attempts)
                return WebhookResult(True, status, attempts, None, target)
            reason = f"answered HTTP {status}"
            if 300 <= status < 400:
                reason += " (a redirect; webhooks are not redirected)"
            if status != 429 and status < 500:
                break  # the receiver refused this call: sending it again changes nothing
            retry_after = _retry_after(answer_headers)
        if attempts > retries:
            break
        wait = backoff * 2 ** (attempts - 1)
        sleep(min(MAX_WAIT_S, max(wait, retry_after or 0.0)))
    if attempts > 1:
        reason += f" after {attempts} attempts"
    log.info("webhook failed after %d attempt(s), last status %s", attempts, status)
    return WebhookResult(False, status, attempts, reason, target)
