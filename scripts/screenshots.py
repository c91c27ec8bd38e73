"""Re-make the README's screenshots of the web dashboard (docs/screenshots/*.png).

Builds the demo company (``cxloop demo --no-serve``) in a temporary folder — or uses
``--database`` — adds what the demo leaves empty (an NPS target, an alerts scan, one saved target
list), serves the app on 127.0.0.1 with uvicorn, logs in through the form as an analyst (personal
data masked) and photographs the top 1,800 px of each main page in a 1280×800 window with
Debian's Chromium (Playwright, as the browser tests). Each PNG is reduced to 256 colours so it
stays well under 300 kB.

    .venv/bin/python scripts/screenshots.py            # about a minute
    .venv/bin/python scripts/screenshots.py --database ./cxloop.db --out /tmp/shots
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn
from PIL import Image
from playwright.sync_api import FloatRect, Page, sync_playwright
from typer.main import get_command

from cxloop import api
from cxloop.act import service as act_service
from cxloop.act.schemas import TargetListCreate, TargetQuery
from cxloop.cli.app import app as cli
from cxloop.config import Settings
from cxloop.errors import NotFound
from cxloop.privacy import service as privacy_service
from cxloop.privacy.roles import Role
from cxloop.privacy.schemas import UserCreate
from cxloop.web.app import create_app

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("CXLOOP_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LIST = "detractors"
USER = "analyst"
MAX_BYTES = 300_000
MAX_HEIGHT = 1800
"""The top of each page down to here: filters, then the charts and tables below them."""


def _cxloop(*args: str) -> None:
    get_command(cli).main(list(args), prog_name="cxloop", standalone_mode=False)


def build_demo(folder: Path) -> Path:
    """The demo store with a target, alerts and one refreshed target list."""
    database = folder / "demo.db"
    os.environ["CXLOOP_DATABASE_URL"] = f"sqlite:///{database}"
    _cxloop("demo", "--folder", str(folder), "--no-serve")
    _cxloop("metrics", "targets", "set", "--metric", "nps", "--target", "10")
    _cxloop("metrics", "alerts", "scan")
    return database


def prepare(database: Path) -> tuple[Settings, str]:
    """An analyst login with a fresh password, and the target list when missing."""
    settings = Settings(database_url=f"sqlite:///{database}")
    store, password = api.connect(settings=settings), secrets.token_urlsafe(12)
    try:
        with store.sessions() as session:
            user = UserCreate(username=USER, password=password, role=Role.analyst)
            try:
                privacy_service.get_user(session=session, username=USER)
            except NotFound:
                privacy_service.create_user(session=session, user_in=user)
            else:
                raise SystemExit(f"{database} already has a user {USER!r}: use a fresh demo")
            if LIST not in {t.name for t in act_service.list_all(session=session)}:
                query = TargetQuery(nps_groups=["detractor"])
                act_service.create(
                    session=session, list_in=TargetListCreate(name=LIST, query=query)
                )
                act_service.refresh(session=session, settings=settings, name=LIST)
            session.commit()
    finally:
        store.close()
    return settings, password


@contextmanager
def served(settings: Settings) -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise SystemExit("the server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _settle(page: Page) -> None:
    """HTMX parts loaded (drivers, candidates) and charts drawn."""
    page.wait_for_function(
        "() => !document.querySelector('[hx-trigger=\"load\"]')", timeout=120_000
    )
    page.wait_for_timeout(400)  # ECharts' entry animation


def shoot(page: Page, out: Path, name: str) -> None:
    _settle(page)
    path = out / f"{name}.png"
    height = min(page.evaluate("document.documentElement.scrollHeight"), MAX_HEIGHT)
    clip: FloatRect = {"x": 0, "y": 0, "width": 1280, "height": height}
    page.screenshot(path=str(path), full_page=True, clip=clip)
    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    small.save(path, optimize=True)
    size = path.stat().st_size
    print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}  {size // 1000} kB")
    if size > MAX_BYTES:
        raise SystemExit(f"{path} is {size} bytes, over {MAX_BYTES}")


def walk(url: str, password: str, out: Path) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(f"{url}/login?lang=en")
        page.locator("#username").fill(USER)
        page.locator("#password").fill(password)
        page.locator("form.card button[type=submit]").click()
        page.wait_for_url(f"{url}/")
        shoot(page, out, "overview")
        page.goto(f"{url}/journey")
        shoot(page, out, "journey")
        cells = page.locator('main a[href^="/feedback?"]')  # a cell's score: its verbatims
        cells.filter(has_text=re.compile(r"^-?\d+$")).first.click()
        page.wait_for_url("**/feedback?**")
        shoot(page, out, "verbatims")
        page.goto(f"{url}/topics")
        shoot(page, out, "topics")
        page.goto(f"{url}/drivers")
        shoot(page, out, "drivers")
        page.goto(f"{url}/customers")
        page.locator("#customers tbody a").first.click()
        page.wait_for_url("**/customers/*")
        shoot(page, out, "customer360")
        page.goto(f"{url}/customers")
        page.locator("#accounts tbody a").first.click()
        page.wait_for_url("**/accounts/*")
        shoot(page, out, "account360")
        page.goto(f"{url}/targets/{LIST}")
        shoot(page, out, "target_list")
        page.goto(f"{url}/reports")
        shoot(page, out, "reports")
        page.goto(f"{url}/?lang=zh")
        shoot(page, out, "overview_zh")
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", type=Path, help="a demo store (default: build one)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    if args.database and not args.database.is_file():
        parser.error(f"--database {args.database}: no such file (make one with `cxloop demo`)")
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="cxloop-shots-") as folder:
        database = args.database or build_demo(Path(folder) / "cxloop-demo")
        settings, password = prepare(database)
        with served(settings) as url:
            walk(url, password, args.out)


if __name__ == "__main__":
    main()
