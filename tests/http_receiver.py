"""A loopback HTTP receiver for webhook tests, registered in conftest.

``http_receiver`` yields a :class:`Receiver` listening on 127.0.0.1 and a free port: ``url``
(``/hook``; ``url_for(path)`` for another path), ``requests`` (method, path, headers, body of
each one received), ``fail_next(n, status=500)`` to answer the next ``n`` requests with an
error, ``status`` for the answer after that (200 by default) and ``redirect_to`` to answer 302.
"""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    """Header names lower-cased."""
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class _State:
    requests: list[Request] = field(default_factory=list)
    failures_left: int = 0
    failure_status: int = 500
    status: int = 200
    redirect_to: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Handler(http.server.BaseHTTPRequestHandler):
    state: _State

    def _record(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        with self.state.lock:
            self.state.requests.append(
                Request(
                    self.command,
                    self.path,
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                )
            )
            if self.state.failures_left > 0:
                self.state.failures_left -= 1
                status, location = self.state.failure_status, None
            elif self.state.redirect_to:
                status, location = 302, self.state.redirect_to
            else:
                status, location = self.state.status, None
        self.send_response(status)
        if location:
            self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_POST = do_GET = do_PUT = _record  # noqa: N815 - http.server's hook names

    def log_message(self, *args: object) -> None:  # keep the test output clean
        pass


class Receiver:
    def __init__(self, server: http.server.HTTPServer, state: _State) -> None:
        self._server = server
        self._state = state
        self.port = int(server.server_port)

    @property
    def url(self) -> str:
        return self.url_for("/hook")

    def url_for(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    @property
    def requests(self) -> list[Request]:
        with self._state.lock:
            return list(self._state.requests)

    def fail_next(self, n: int, status: int = 500) -> None:
        """Answer the next ``n`` requests with ``status`` (then ``self.status`` again)."""
        with self._state.lock:
            self._state.failures_left = n
            self._state.failure_status = status

    @property
    def status(self) -> int:
        return self._state.status

    @status.setter
    def status(self, value: int) -> None:
        with self._state.lock:
            self._state.status = value

    @property
    def redirect_to(self) -> str | None:
        return self._state.redirect_to

    @redirect_to.setter
    def redirect_to(self, value: str | None) -> None:
        with self._state.lock:
            self._state.redirect_to = value

    def clear(self) -> None:
        with self._state.lock:
            self._state.requests.clear()


@pytest.fixture
def http_receiver() -> Iterator[Receiver]:
    """A threaded HTTP server on loopback that records every request, for one test."""
    state = _State()
    handler = type("Handler", (_Handler,), {"state": state})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Receiver(server, state)
    finally:
        server.shutdown()
        server.server_close()
