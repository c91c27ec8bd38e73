"""Real-browser fixtures: the app served by uvicorn on a loopback port, and a Chromium page
(Debian's /usr/bin/chromium driven by Playwright) that fails the test on any console error,
uncaught page error or request to a host other than 127.0.0.1.

Registered as a plugin in ``tests/conftest.py``. Use:

    pytestmark = pytest.mark.browser

    def test_x(live_server: LiveServer, browser_page: Page) -> None:
        browser_page.goto(live_server.url + "/login")

``serve(app)`` runs any app (e.g. one built over your own settings and store) the same way.
Without Chromium or Playwright the tests skip with the reason; with ``CXLOOP_REQUIRE_SERVICES=1``
(CI) they fail instead. A screenshot of the page is saved to ``test-artifacts/<test>.png``.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest

if TYPE_CHECKING:  # imported where used: this plugin loads for every test session
    from fastapi import FastAPI
    from playwright.sync_api import Browser, Page

    from tests.web.support import Api

CHROMIUM = os.environ.get("CXLOOP_CHROMIUM", "/usr/bin/chromium")
# from ../shared/FACTS.md: no sandbox (root in containers), no GPU, no background traffic
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
LOOPBACK = "127.0.0.1"
REQUIRE_SERVICES = os.environ.get("CXLOOP_REQUIRE_SERVICES") == "1"


def need_browser() -> None:
    """Skip (fail under ``CXLOOP_REQUIRE_SERVICES=1``) when Chromium or Playwright is missing."""
    problems = []
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        problems.append(f"no Chromium at {CHROMIUM} (apt-get install chromium fonts-wqy-zenhei)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        problems.append("the playwright package is not installed (pip install -e '.[dev]')")
    if problems:
        reason = "browser tests need Chromium and Playwright: " + "; ".join(problems)
        if REQUIRE_SERVICES:
            pytest.fail(reason + " — required because CXLOOP_REQUIRE_SERVICES=1")
        pytest.skip(reason)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


@contextmanager
def serve(app: FastAPI, *, startup_timeout_s: float = 15.0, **options: Any) -> Iterator[str]:
    """Run ``app`` with uvicorn in a daemon thread on a free loopback port; yield its base URL.
    ``options`` go to ``uvicorn.Config`` (e.g. ``access_log=True, log_config=…``)."""
    import uvicorn

    settings: dict[str, Any] = {"log_level": "warning", "lifespan": "on", "access_log": False}
    config = uvicorn.Config(app, host=LOOPBACK, port=free_port(), **{**settings, **options})
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="live-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout_s
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"uvicorn did not start on {LOOPBACK}:{config.port}")
        time.sleep(0.02)
    try:
        yield f"http://{LOOPBACK}:{config.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@dataclass
class LiveServer:
    """A served app over a seeded SQLite store: ``url``, and ``api`` (users ``admin``,
    ``analyst``, ``agent``, ``viewer`` with ``password``, API tokens, a TestClient)."""

    url: str
    api: Api
    password: str


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One app per test module, served on 127.0.0.1 over a migrated store with one user per role
    (``tests/web/support.build_api``)."""
    from tests.web.support import PASSWORD, build_api

    built = build_api(tmp_path_factory.mktemp("live") / "cxloop.db")
    try:
        with serve(built.app) as url:
            yield LiveServer(url=url, api=built, password=PASSWORD)
    finally:
        built.store.close()
        built.app.state.engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Chromium, launched once per test module (≈ 1 s)."""
    need_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@dataclass
class PageWatch:
    """What a page did that a test must not allow: console errors and off-loopback requests.

    A page the server answers with an error status on purpose (a 401 after a wrong password, a
    410 for a used link) makes Chromium log "Failed to load resource" for the document itself;
    that is the page working, so it is not counted. The same message for a script, stylesheet or
    fetch is."""

    console_errors: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)
    documents: set[str] = field(default_factory=set)
    _resource_errors: list[tuple[str, str]] = field(default_factory=list)

    def console(self, message: Any) -> None:
        if message.type != "error":
            return
        url = (message.location or {}).get("url", "")
        if message.text.startswith("Failed to load resource"):
            self._resource_errors.append((message.text, url))
        else:
            self.console_errors.append(message.text)

    def response(self, response: Any) -> None:
        if response.request.resource_type == "document":
            self.documents.add(response.url)

    def problems(self) -> list[str]:
        failed = [
            f"{text} ({url})" for text, url in self._resource_errors if url not in self.documents
        ]
        return [f"console error: {e}" for e in self.console_errors + failed] + [
            f"request to another host (blocked): {u}" for u in self.foreign_requests
        ]

    def clear(self) -> None:
        self.console_errors.clear()
        self.foreign_requests.clear()
        self._resource_errors.clear()


def _artifact_name(node_name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", node_name).strip("_")[:150] or "test"


@pytest.fixture
def browser_page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh browser context and page (viewport 1280×800, locale from nothing: pages pick
    their language themselves). Requests to any host but 127.0.0.1 are aborted and fail the
    test, as does any console error or uncaught exception; a screenshot is kept either way."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    watch = PageWatch()

    def guard(route: Any) -> None:
        url = route.request.url
        parts = urlsplit(url)
        if parts.scheme in ("http", "https", "ws", "wss") and parts.hostname != LOOPBACK:
            watch.foreign_requests.append(url)
            route.abort()
        else:
            route.continue_()

    context.route("**/*", guard)
    page = context.new_page()
    page.on("console", watch.console)
    page.on("response", watch.response)
    page.on("pageerror", lambda exc: watch.console_errors.append(f"uncaught: {exc}"))
    page.cxloop_watch = watch  # type: ignore[attr-defined]  # for tests that inspect it
    try:
        yield page
    finally:
        ARTIFACTS.mkdir(exist_ok=True)
        try:
            page.screenshot(
                path=str(ARTIFACTS / f"{_artifact_name(request.node.name)}.png"), full_page=True
            )
        finally:
            context.close()
    if watch.problems():
        pytest.fail("the page misbehaved:\n" + "\n".join(watch.problems()), pytrace=False)
