"""The login page and the overview in a real Chromium, in zh and en: the language switch, the
Chinese font actually drawing the glyphs, the chart drawn by the vendored ECharts, keyboard and
phone-width use, and nothing fetched from any host but the app's."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.web.browser import LiveServer

pytestmark = pytest.mark.browser

CJK_FONTS = re.compile(r"WenQuanYi|Noto Sans CJK|Noto Serif CJK|Source Han|Droid Sans Fallback")


def _fonts_drawing(page: Any, selector: str) -> dict[str, int]:
    """The platform fonts Chromium used for the text of ``selector`` → glyphs drawn with each
    (DevTools' CSS.getPlatformFontsForNode: what was rendered, not what CSS asked for)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    return {font["familyName"]: font["glyphCount"] for font in fonts}


def _log_in(
    page: Any, server: LiveServer, *, user: str, password: str, labels: tuple[str, str]
) -> None:
    page.get_by_label(labels[0]).fill(user)
    page.get_by_label(labels[1]).fill(password)
    page.locator("form.card button[type=submit]").click()


def test_chinese_login_shows_the_overview_in_chinese_drawn_with_a_cjk_font(
    live_server: LiveServer, browser_page: Any
) -> None:
    page = browser_page
    page.goto(f"{live_server.url}/login?lang=zh")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert page.locator("h1").inner_text() == "登录"
    _log_in(
        page, live_server, user="analyst", password=live_server.password, labels=("用户名", "密码")
    )
    page.wait_for_url(f"{live_server.url}/")
    assert page.locator("h1").inner_text() == "概览"  # the overview; what is loaded is at /data
    page.goto(f"{live_server.url}/data")
    assert page.locator("h1").inner_text() == "数据概览"
    assert (
        page.get_by_role("navigation", name="主导航").get_by_role("link", name="调查").is_visible()
    )
    rows = page.locator("#rows-per-kind")
    assert rows.locator("caption").inner_text() == "各类数据行数"
    assert rows.locator("tr", has_text="customers").locator("td.num").inner_text() == "1"
    # the chart: the vendored ECharts, loaded by charts.js, drew an SVG with the channel's bar
    page.wait_for_selector("#feedback-chart .chart svg", timeout=10_000)
    assert "survey" in page.locator("#feedback-chart svg").inner_html()
    fonts = _fonts_drawing(page, "h1")
    cjk = {name: n for name, n in fonts.items() if CJK_FONTS.search(name)}
    assert sum(cjk.values()) >= 4, f"数据概览 was drawn with {fonts}, no CJK font"


def test_english_login_after_a_wrong_password_and_switching_language_keeps_the_page(
    live_server: LiveServer, browser_page: Any
) -> None:
    page = browser_page
    page.goto(f"{live_server.url}/login?lang=en")
    _log_in(page, live_server, user="viewer", password="not-it", labels=("User name", "Password"))
    alert = page.get_by_role("alert")
    assert alert.inner_text() == "Wrong user name or password. Please try again."
    assert page.get_by_label("User name").input_value() == "viewer"
    page.get_by_label("Password").fill(live_server.password)
    page.locator("form.card button[type=submit]").click()
    page.wait_for_url(f"{live_server.url}/")
    assert page.locator("h1").inner_text() == "Overview"  # en remembered after login
    assert page.locator("html").get_attribute("lang") == "en"
    page.get_by_role("link", name="中文").click()
    page.wait_for_url(f"{live_server.url}/?lang=zh")
    assert page.locator("h1").inner_text() == "概览"
    page.get_by_role("button", name="退出").click()
    page.wait_for_url(re.compile(r"/login"))
    assert page.locator("h1").inner_text() == "登录"


def test_keyboard_users_reach_the_skip_link_first_and_land_on_the_content(
    live_server: LiveServer, browser_page: Any
) -> None:
    page = browser_page
    token = live_server.api.tokens["viewer"]  # the page cookie takes an API token too
    page.context.add_cookies([{"name": "cxloop_token", "value": token, "url": live_server.url}])
    page.goto(f"{live_server.url}/?lang=en")
    assert page.locator("h1").inner_text() == "Overview"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.keyboard.press("Tab")  # the next stop is inside the content, past the navigation
    assert page.evaluate("document.getElementById('main').contains(document.activeElement)")


def test_on_a_phone_the_login_page_needs_no_sideways_scrolling(
    live_server: LiveServer, browser_page: Any
) -> None:
    page = browser_page
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(f"{live_server.url}/login?lang=zh")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    box = page.get_by_label("用户名").bounding_box()
    assert box is not None and box["width"] >= 250  # the field fills the narrow screen


def test_vendored_htmx_loads_and_the_watch_catches_other_hosts_errors_and_missing_files(
    live_server: LiveServer, browser_page: Any
) -> None:
    page = browser_page
    page.goto(f"{live_server.url}/login")
    assert page.evaluate("window.htmx && window.htmx.version") == "4.0.1"
    # the fixture blocks and reports any other host: prove it, then clear the record
    page.evaluate("fetch('https://cdn.example.com/x.js').catch(() => null)")
    page.wait_for_timeout(200)
    watch = page.cxloop_watch
    assert watch.foreign_requests == ["https://cdn.example.com/x.js"]
    watch.clear()  # Chromium also logs the blocked fetch as a console error
    # a script error and a missing asset count; the 401 page after a wrong password does not
    page.evaluate("console.error('boom')")
    page.evaluate(
        "new Promise(done => { const s = document.createElement('script');"
        " s.src = '/static/missing.js'; s.onerror = done; document.head.append(s); })"
    )
    page.get_by_label("User name").fill("viewer")
    page.get_by_label("Password").fill("not-it")
    page.locator("form.card button[type=submit]").click()
    page.get_by_role("alert").wait_for()
    problems = watch.problems()
    assert len(problems) == 2, problems
    assert problems[0] == "console error: boom"
    assert "404" in problems[1] and "/static/missing.js" in problems[1]
    watch.clear()


def test_refresh_swaps_only_the_counts_through_htmx_and_redraws_the_chart(
    live_server: LiveServer, browser_page: Any
) -> None:
    """htmx 4 asks for the page's ``counts`` block (jinja2-fragments) and swaps it in place;
    charts.js draws the chart that came with it."""
    from cxloop import api

    page = browser_page
    token = live_server.api.tokens["admin"]
    page.context.add_cookies([{"name": "cxloop_token", "value": token, "url": live_server.url}])
    page.goto(f"{live_server.url}/data?lang=en")
    page.wait_for_selector("#feedback-chart .chart svg")
    page.evaluate("window.stayedOnThePage = true")
    row = {"feedback_id": "fb-app-1", "channel": "app", "created_at": "2026-11-30T09:00:00+08:00"}
    assert api.import_records(live_server.api.store, "feedback", [row]).inserted == 1
    with page.expect_response(lambda r: r.request.headers.get("hx-request") == "true") as swap:
        page.get_by_role("button", name="Refresh").click()
    assert "<html" not in swap.value.text() and 'id="counts"' in swap.value.text()
    channels = page.locator("#feedback-by-channel")
    channels.locator("td", has_text="app").wait_for()
    assert page.evaluate("window.stayedOnThePage") is True  # swapped, not reloaded
    page.wait_for_function(
        "document.querySelector('#feedback-chart svg')?.innerHTML.includes('app')"
    )
    assert page.locator("#feedback-chart svg").count() == 1
