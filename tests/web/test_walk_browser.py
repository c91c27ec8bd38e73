"""One walk of the whole app in Chromium on the demo company, as admin, analyst, agent and
viewer, in en and zh: log in through the form, follow every link of the main nav (read from the
page, so a page added later is walked too), then reach a verbatims page, a customer 360, an
account 360, a case, a target list and the customers behind a driver by clicking. Every page
answers 200 — except a case of another team opened by the agent, which is a 403 page in words —
with ``html[lang]`` right, no console error, no request to another host, no template or catalog
marker in its text, one h1, a skip link that moves focus to main, every form field labelled,
charts with ``role="img"`` and a label, table headers with ``scope``; one ``data-value`` per
page is among the numbers of its "Same numbers as the API" link. All problems are collected and
reported together, by page. Screenshots: ``test-artifacts/walk/<page>_<role>_<lang>.png``."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from argon2 import PasswordHasher
from babel.messages.pofile import read_po
from sqlalchemy import text

from cxloop import api
from cxloop.act import service as act_service
from cxloop.act.schemas import TargetListCreate, TargetQuery
from cxloop.privacy import service as privacy_service
from cxloop.web.pages import i18n
from tests.cli.support import run_in_process
from tests.shared_build import build_once, copy_sqlite
from tests.web.browser import ARTIFACTS, serve
from tests.web.overview_support import app_on, settings_for, user_name
from tests.web.support import PASSWORD

pytestmark = pytest.mark.browser

USERS = {"admin": user_name("admin"), "analyst": user_name("analyst"), "agent": "wang.fang",
         "viewer": user_name("viewer")}  # fmt: skip
"""Role → the user who plays it (wang.fang is a demo agent of a team: the queue has cases)."""
LIST = "walk-detractors"
HTML_LANG = {"en": "en", "zh": "zh-CN"}
SHOTS = ARTIFACTS / "walk"
MARKERS = re.compile(r"\{\{|\}\}|\{%|%\}|%\(\w+\)[sd]|\bmsgid\b|\bUndefined\b|\bNone\b")
"""Left-over template syntax, an unformatted catalog placeholder or a Python None in the text."""
DRILLS = {  # page reached by clicking: (the page it is clicked on, the link)
    "verbatims": ("/journey", 'main a[href^="/feedback?"]'),
    "customer360": ("/customers", "#customers tbody a"),
    "account360": ("/customers", "#accounts tbody a"),
    "case": ("/cases", 'main a[href^="/cases/"]:not([href*="?"])'),
    "target-list": ("/targets", f'main a[href="/targets/{LIST}"]'),
    "drivers-customers": ("/drivers", "main a.drill"),
}

ZH_CATALOG = Path(i18n.__file__).parents[1] / "i18n" / "zh" / "LC_MESSAGES" / "messages.po"
WORDS = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) out.push(walker.currentNode.nodeValue.trim());
  for (const el of document.querySelectorAll('[title], [aria-label]')) {
    out.push((el.getAttribute('title') || '').trim(), (el.getAttribute('aria-label') || '').trim());
  }
  return out.filter(Boolean);
}"""
"""Every text node, title and aria-label of the page: on an English page none is a Chinese
translation of the catalog (a template rendered without the page's language)."""


def _zh_phrases() -> set[str]:
    with ZH_CATALOG.open("rb") as po:
        catalog = read_po(po)
    return {
        m.string for m in catalog
        if isinstance(m.string, str) and m.id and m.string != m.id
        and re.search(r"[\u4e00-\u9fff]", m.string) and "%(" not in m.string
    }  # fmt: skip


A11Y = """() => {
  const out = [];
  const h1 = document.querySelectorAll('h1').length;
  if (h1 !== 1) out.push(`${h1} h1 elements`);
  const main = document.getElementById('main');
  if (!main || main.tagName !== 'MAIN') out.push('no main#main');
  if (!document.querySelector('a.skip-link[href="#main"]')) out.push('no skip link to #main');
  for (const el of document.querySelectorAll('input, select, textarea')) {
    const type = (el.getAttribute('type') || '').toLowerCase();
    if (['hidden', 'submit', 'button', 'reset', 'image'].includes(type)) continue;
    const byFor = el.id && document.querySelector(`label[for="${CSS.escape(el.id)}"]`);
    const named = (el.getAttribute('aria-label') || '').trim()
      || el.getAttribute('aria-labelledby');
    if (!(byFor || named || el.closest('label'))) {
      out.push(`unlabelled ${el.tagName.toLowerCase()} name=${el.name || '?'} id=${el.id || '?'}`);
    }
  }
  for (const el of document.querySelectorAll('.chart')) {
    if (el.getAttribute('role') !== 'img' || !(el.getAttribute('aria-label') || '').trim()) {
      out.push(`chart ${el.id || el.className} without role=img and aria-label`);
    }
  }
  for (const el of document.querySelectorAll('img:not([alt])')) out.push(`img without alt`);
  for (const el of document.querySelectorAll('svg, canvas')) {
    if (!el.closest('[role="img"]') && !el.closest('[aria-hidden="true"]')
        && el.getAttribute('role') !== 'img') out.push(`${el.tagName} outside role=img`);
  }
  document.querySelectorAll('table').forEach((t, i) => {
    const name = t.id || `#${i + 1}`;
    if (!t.querySelector('th')) out.push(`table ${name} has no th`);
    const bare = t.querySelectorAll('th:not([scope])').length;
    if (bare) out.push(`table ${name}: ${bare} th without scope`);
  });
  return out;
}"""


@dataclass
class Site:
    url: str
    other_case: int
    """A case of a team wang.fang is not in: the agent's 403."""


def _build_demo(folder: Path) -> None:
    """``cxloop demo`` (company, teams, logins, rules, cases, a survey) plus a metric target,
    an alerts scan and one refreshed target list: every page has something to show."""
    store = folder / "cxloop-demo"
    env = {"CXLOOP_DATABASE_URL": f"sqlite:///{store / 'demo.db'}"}
    for args in (
        ["demo", "--folder", str(store), "--no-serve"],
        ["metrics", "targets", "set", "--metric", "nps", "--target", "10"],
        ["metrics", "alerts", "scan"],
    ):
        # in a folder without a store, with the settings read anew for this command's variables
        # (a worker's cached settings would name another store)
        result = run_in_process(args, cwd=folder, env=env)
        assert result.returncode == 0, f"cxloop {' '.join(args)}: {result.stdout}{result.stderr}"
    settings = settings_for(store / "demo.db")
    connected = api.connect(settings=settings)
    try:
        with connected.sessions() as session:
            query = TargetQuery(nps_groups=["detractor"])
            act_service.create(session=session, list_in=TargetListCreate(name=LIST, query=query))
            act_service.refresh(session=session, settings=settings, name=LIST)
            session.commit()
    finally:
        connected.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A copy of the walk's demo store with a user per role; the demo agent wang.fang gets the
    test password."""
    built = build_once(tmp_path_factory, "walk-demo", _build_demo)
    database = tmp_path_factory.mktemp("walk") / "cxloop.db"
    copy_sqlite(built / "cxloop-demo" / "demo.db", database)
    api_ = app_on(database)
    with api_.store.sessions() as session:
        agent = privacy_service.get_user(session=session, username="wang.fang")
        agent.password_hash = PasswordHasher().hash(PASSWORD)
        other = session.execute(text(
            "SELECT min(id) FROM loop_cases WHERE team NOT IN (SELECT t.name FROM loop_teams t"
            " JOIN loop_team_members m ON m.team_id = t.id WHERE m.user_name = 'wang.fang')"
        )).scalar_one()  # fmt: skip
        session.commit()
    assert other is not None, "the demo has cases of one team only"
    try:
        with serve(api_.app) as url:
            yield Site(url=url, other_case=int(other))
    finally:
        api_.store.close()
        api_.app.state.engine.dispose()


def _slug(path: str) -> str:
    return path.strip("/").replace("/", "-") or "overview"


def _numbers(value: Any) -> list[float]:
    if isinstance(value, bool):
        return []
    if isinstance(value, int | float):
        return [float(value)]
    if isinstance(value, dict):
        return [n for v in value.values() for n in _numbers(v)]
    if isinstance(value, list):
        return [n for v in value for n in _numbers(v)]
    return []


class Walk:
    """Opens pages for one role and collects every problem, named by page."""

    def __init__(self, page: Any, site: Site, role: str) -> None:
        self.page, self.site, self.role = page, site, role
        self.problems: list[str] = []
        self.visited = 0
        self.zh = _zh_phrases()
        self.headings: dict[str, str] = {}
        """Page → its English h1: the Chinese one must differ (a translated heading)."""

    def fail(self, where: str, what: str) -> None:
        self.problems.append(f"{where} ({self.role}): {what}")

    def open(self, path: str, name: str, lang: str, *, status: int = 200) -> None:
        response = self.page.goto(self.site.url + path)
        self._loaded()
        self.check(name, lang, response.status if response else 0, status)
        h1 = self.page.locator("h1").first.inner_text().strip()
        if lang == "en":
            self.headings[name] = h1
        elif h1 == self.headings.get(name):
            self.fail(f"{name} [{lang}]", f"the h1 {h1!r} is the English one")

    def _loaded(self) -> None:
        """Wait for the parts HTMX loads after the page (drivers, topic candidates): they are
        swapped in over their ``hx-trigger="load"`` placeholder."""
        self.page.wait_for_function(
            "() => !document.querySelector('[hx-trigger=\"load\"]')", timeout=90_000
        )

    def click(self, name: str, lang: str) -> str | None:
        """Open the page ``name`` by clicking its link; its path, or None (problem noted)."""
        start, selector = DRILLS[name]
        self.page.goto(self.site.url + start)
        self._loaded()
        link = self.page.locator(selector).first
        if link.count() == 0:
            self.fail(f"{start} [{lang}]", f"no link to click for {name} ({selector})")
            return None
        with self.page.expect_navigation() as navigation:
            link.click()
        response = navigation.value
        self._loaded()
        self.check(name, lang, response.status if response else 0, 200)
        parts = urlsplit(self.page.url)
        return parts.path + (f"?{parts.query}" if parts.query else "")

    def check(self, name: str, lang: str, status: int, expected: int) -> None:
        page, where = self.page, f"{name} [{lang}]"
        self.visited += 1
        if status != expected:
            self.fail(where, f"status {status}, expected {expected}")
        if expected == 403 and not re.search(r"\w{4,}", page.locator("main").inner_text()):
            self.fail(where, "the 403 page says nothing in words")
        if page.locator("html").get_attribute("lang") != HTML_LANG[lang]:
            self.fail(where, f"html[lang]={page.locator('html').get_attribute('lang')!r}")
        if lang == "en":
            for word in sorted(set(page.evaluate(WORDS)) & self.zh):
                self.fail(where, f"the Chinese {word!r} on the English page")
        body = page.locator("body").inner_text()
        if marker := MARKERS.search(body):
            self.fail(where, f"marker {marker.group()!r} in the text")
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}_{self.role}_{lang}.png"))
        for problem in page.evaluate(A11Y):
            self.fail(where, problem)
        self._skip_link(where)
        if lang == "en" and expected == 200:
            self._spot_check(where)
        watch = page.cxloop_watch
        for problem in watch.problems():
            self.fail(where, problem)
        watch.clear()

    def _skip_link(self, where: str) -> None:
        page = self.page
        page.evaluate("() => { document.activeElement?.blur(); window.scrollTo(0, 0); }")
        page.keyboard.press("Tab")
        first = page.evaluate("() => document.activeElement?.className || ''")
        if "skip-link" not in first:
            self.fail(where, f"the first Tab focuses {first!r}, not the skip link")
            return
        page.keyboard.press("Enter")
        if page.evaluate("() => document.activeElement?.id") != "main":
            self.fail(where, "the skip link does not move focus to main")

    def _spot_check(self, where: str) -> None:
        """The first numeric ``data-value`` on the page is among the API link's numbers."""
        page = self.page
        same = 'p:has-text("Same numbers as the API") a[href^="/api/"]'
        links = page.locator(same).evaluate_all("els => els.map(e => e.getAttribute('href'))")
        values = page.locator("main [data-value]").evaluate_all(
            "els => els.map(e => e.dataset.value)"
        )
        shown = next((float(v) for v in values if re.fullmatch(r"-?\d+(\.\d+)?", v or "")), None)
        if not links or shown is None:
            return
        numbers: list[float] = []
        for href in links:
            response = page.request.get(self.site.url + href)
            if response.status != 200:
                self.fail(where, f"its API link {href} answered {response.status}")
                continue
            numbers += _numbers(response.json())
        if not any(math.isclose(shown, n, rel_tol=1e-9, abs_tol=1e-9) for n in numbers):
            self.fail(where, f"data-value {shown} is not among the numbers of {links}")


@pytest.mark.parametrize("role", list(USERS))
def test_every_page_in_every_language_for_each_role(
    site: Site, browser_page: Any, role: str
) -> None:
    page, started = browser_page, time.perf_counter()
    page.goto(f"{site.url}/login?lang=en")
    page.locator("#username").fill(USERS[role])
    page.locator("#password").fill(PASSWORD)
    page.locator("form.card button[type=submit]").click()
    page.wait_for_url(f"{site.url}/")
    nav = page.locator('header nav a[href^="/"]').evaluate_all(
        "els => els.map(e => e.getAttribute('href'))"
    )
    assert len(nav) >= 11 and "/journey" in nav and "/cases" in nav, nav
    walk = Walk(page, site, role)
    words = {}
    for lang in ("en", "zh"):
        page.goto(f"{site.url}/?lang={lang}")  # the cookie keeps the language from here on
        words[lang] = page.locator("header nav a").all_inner_texts()
        for path in nav:
            walk.open(path, _slug(path), lang)
        for name in DRILLS:
            walk.click(name, lang)
        if role == "agent":
            walk.open(f"/cases/{site.other_case}", "case-other-team", lang, status=403)
    seconds = time.perf_counter() - started
    print(f"walk {role}: {walk.visited} pages in {seconds:.1f} s")
    same = [en for en, zh in zip(words["en"], words["zh"], strict=True) if en == zh]
    walk.problems += [f"nav link {word!r} is not translated" for word in same]
    assert not walk.problems, "\n".join(walk.problems)
    assert walk.visited >= 2 * (len(nav) + len(DRILLS)), walk.visited
