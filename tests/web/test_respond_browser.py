"""A respondent answers in Chinese in a real Chromium with the keyboard only, at phone width:
display logic, "other, please specify", visible focus, contrast, and the answers stored."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.surveys.respond_support import World, make_world
from tests.web.browser import serve

pytestmark = pytest.mark.browser

CONTRAST = """
(selector) => {
  const rgb = (s) => (s.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (; el; el = el.parentElement) {
      const c = rgb(getComputedStyle(el).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  return [...document.querySelectorAll(selector)].map((el) => {
    const a = lum(rgb(getComputedStyle(el).color)), b = lum(background(el));
    return [el.tagName + '.' + el.className, (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)];
  });
}
"""


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[World, str]]:
    world = make_world(tmp_path, drain=False)
    with serve(world.app) as url:
        yield world, url


def tab_to(page: Any, selector: str, limit: int = 40) -> None:
    """Press Tab until the focused element matches ``selector`` (keyboard only)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def focus_is_visible(page: Any) -> bool:
    """The focused control (or the pill drawn for a hidden radio) shows an outline."""
    return bool(
        page.evaluate(
            """() => {
              const el = document.activeElement;
              const drawn = el.type === 'radio' && el.closest('.pill') ? el.nextElementSibling : el;
              const style = getComputedStyle(drawn);
              return style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2;
            }"""
        )
    )


def test_a_chinese_respondent_answers_with_the_keyboard_only(
    served: tuple[World, str], browser_page: Any
) -> None:
    world, url = served
    link = world.link(language="zh")
    page = browser_page
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto(url + link.path)
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert page.locator("h1").inner_text() == "配送体验调查"
    # "why" may still show (nps <= 6): it counts
    assert page.locator(".progress .count").inner_text() == "1 / 3"
    assert page.evaluate("document.documentElement.scrollWidth") <= 375  # no sideways scroll
    for name, ratio in page.evaluate(CONTRAST, "h1, legend, .hint, .intro, button, .pill span"):
        assert ratio >= 4.5, (name, ratio)

    # the NPS scale: Tab into the group, arrows choose, Enter submits
    tab_to(page, "input[name=nps]")
    assert focus_is_visible(page)
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    assert page.locator("input[name=nps]:checked").get_attribute("value") == "3"
    tab_to(page, "button[type=submit]")
    assert focus_is_visible(page)
    page.keyboard.press("Enter")

    # a detractor is asked why (display logic, with the order number piped in)
    page.wait_for_selector("textarea[name=why]")
    assert page.get_by_label("订单O-778哪里做得不好？").is_visible()
    assert page.locator(".progress .count").inner_text() == "2 / 3"
    tab_to(page, "textarea[name=why]")
    page.keyboard.type("送货太慢了，包装也破了")
    tab_to(page, "button[type=submit]")
    page.keyboard.press("Enter")

    # "other, please specify": forgetting the text is refused in Chinese, then fixed
    page.wait_for_selector("input[name=channel]")
    tab_to(page, "input[name=channel]")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    assert page.locator("input[name=channel]:checked").get_attribute("value") == "other"
    tab_to(page, "button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_selector(".errors")
    assert "请告诉我们“其他”具体是什么。" in page.locator(".errors").inner_text()
    tab_to(page, "input[name='channel.other']")
    page.keyboard.type("微信小程序")
    tab_to(page, "button[type=submit]")
    page.keyboard.press("Enter")

    page.wait_for_selector(".thanks")
    assert page.locator("h1").inner_text() == "谢谢！"
    assert "感谢您的反馈！" in page.locator(".thanks").inner_text()
    (response,) = world.responses()
    assert response.status == "completed" and response.language == "zh"
    assert response.answers == {
        "nps": 3,
        "why": "送货太慢了，包装也破了",
        "channel": "other",
        "channel.other": "微信小程序",
    }
    assert world.invitation(link).status == "completed"


def test_a_used_link_shows_its_page_in_the_browser(
    served: tuple[World, str], browser_page: Any
) -> None:
    world, url = served
    page = browser_page
    page.set_extra_http_headers({"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"})
    page.goto(url + "/s/AXMAAAAAbroken")
    assert page.locator("h1").inner_text() == "这个调查链接无效"
    page.goto(url + "/s/AXMAAAAAbroken?lang=en")
    assert page.locator("h1").inner_text() == "This survey link is not valid"
    assert world.responses() == []
