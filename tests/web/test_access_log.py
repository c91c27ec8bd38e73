"""Survey-link tokens never reach a log: a real uvicorn server, set up as ``cxloop serve`` sets
it up, serves /s/, /s/a/, /u/ and /api/v1/respond/ links, and every access line (and a cxloop
log line holding a link) shows the token masked."""

from __future__ import annotations

import datetime as dt
import io
import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from cxloop.api import connect
from cxloop.surveys.tokens import make_link, new_public_id
from cxloop.web import access_log
from cxloop.web.access_log import MASK, TokenMask, mask
from cxloop.web.app import create_app
from tests.web.browser import serve


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def clean_logging() -> Iterator[None]:
    """Give back the loggers ``cxloop serve``'s config takes over (caplog reads cxloop's)."""
    names = ("cxloop", "uvicorn", "uvicorn.access", "uvicorn.error")
    saved = {n: (logging.getLogger(n).handlers[:], logging.getLogger(n).propagate) for n in names}
    yield
    for name, (handlers, propagate) in saved.items():
        logger = logging.getLogger(name)
        logger.handlers[:] = handlers
        logger.propagate = propagate
    logging.getLogger("cxloop").setLevel(logging.NOTSET)


def test_access_lines_and_cxloop_lines_mask_link_tokens(
    tmp_path: Path, clean_logging: None
) -> None:
    store = connect(f"sqlite:///{tmp_path / 'log.db'}")
    app = create_app(store.settings)
    expires = dt.datetime(2030, 1, 1)
    survey = make_link(new_public_id(), expires, b"k" * 32)
    leave = make_link(new_public_id(), expires, b"k" * 32, purpose="unsubscribe")
    anonymous = new_public_id()
    secrets = [survey, leave, anonymous]
    paths = [
        f"/s/{survey}",
        f"/s/{survey}?lang=en",
        f"/s/a/{anonymous}",
        f"/u/{leave}",
        f"/api/v1/respond/{survey}",
    ]
    records = _Records()
    with serve(app, log_level="info", access_log=True, log_config=access_log.log_config()) as url:
        access = logging.getLogger("uvicorn.access")
        written = io.StringIO()
        for handler in access.handlers:  # the handler `cxloop serve` writes to stdout with
            assert isinstance(handler, logging.StreamHandler)
            handler.setStream(written)
        ours = io.StringIO()
        for handler in logging.getLogger("cxloop").handlers:
            assert isinstance(handler, logging.StreamHandler)
            handler.setStream(ours)
        access.addHandler(records)
        try:
            with httpx.Client(base_url=url, timeout=10) as client:
                statuses = [client.get(path).status_code for path in paths]
            logging.getLogger("cxloop.web.example").warning("opened %s", url + paths[0])
        finally:
            access.removeHandler(records)
    store.close()
    assert all(status < 500 for status in statuses), statuses  # served, not crashed
    lines = records.lines
    assert len(lines) == len(paths), lines
    assert f'"GET /s/{survey[:4]}{MASK} HTTP/1.1"' in lines[0]
    assert f"/s/{survey[:4]}{MASK}?lang=en" in lines[1]
    assert f"/s/a/{anonymous[:4]}{MASK}" in lines[2]
    assert f"/u/{leave[:4]}{MASK}" in lines[3]
    assert f"/api/v1/respond/{survey[:4]}{MASK}" in lines[4]
    text = "\n".join(lines) + written.getvalue() + ours.getvalue()
    assert written.getvalue().count(MASK) == len(paths)  # what the operator's stdout shows
    assert f"opened {url}/s/{survey[:4]}{MASK}" in ours.getvalue()
    for secret in secrets:
        assert secret not in text
        assert secret[4:12] not in text


def test_mask_is_idempotent_keeps_other_paths_and_hides_short_tokens() -> None:
    token = "AXMAb7Kq-_9zRb7Kq-_9zR"
    once = mask(f"GET /s/{token}/page HTTP/1.1 /static/app.css /api/v1/surveys/s1")
    assert once == f"GET /s/AXMA{MASK}/page HTTP/1.1 /static/app.css /api/v1/surveys/s1"
    assert mask(once) == once
    assert mask("/u/abc") == f"/u/{MASK}"  # too short to keep a prefix of
    record = logging.LogRecord("uvicorn.access", logging.INFO, "", 0, "%s", (f"/u/{token}",), None)
    assert TokenMask().filter(record) and record.getMessage() == f"/u/AXMA{MASK}"
    access_log.install()
    access_log.install()
    filters = logging.getLogger("uvicorn.access").filters
    assert sum(isinstance(f, TokenMask) for f in filters) == 1
