"""The web login page speaks zh or en (``?lang=`` or Accept-Language) and keeps the user name
after a failed try."""

from __future__ import annotations

import pytest

from tests.web.support import PASSWORD, Api

WRONG_EN = "Wrong user name or password. Please try again."
WRONG_ZH = "用户名或密码错误，请重试。"


def _fail(api: Api, username: str, headers: dict[str, str] | None = None, **extra: str) -> str:
    response = api.client.post(
        "/login",
        data={"username": username, "password": "not-it", **extra},
        headers=headers or {},
        follow_redirects=False,
    )
    assert response.status_code == 401
    assert "cxloop_token" not in response.headers.get("set-cookie", "")
    return response.text


@pytest.mark.parametrize(
    ("accept", "wrong", "label"),
    [
        ("en-US,en;q=0.9", WRONG_EN, "User name"),
        ("zh-CN,zh;q=0.9,en;q=0.8", WRONG_ZH, "用户名"),
        ("fr-FR, en;q=0.5, zh;q=0.7", WRONG_ZH, "用户名"),  # zh ranks above en
        ("de-DE", WRONG_ZH, "用户名"),  # neither: zh
        ("en;q=0, de", WRONG_ZH, "用户名"),  # q=0 refuses en: zh
    ],
)
def test_a_failed_login_says_why_in_the_browsers_language_and_keeps_the_name(
    shared_api: Api, accept: str, wrong: str, label: str
) -> None:
    page = _fail(shared_api, "viewer", {"Accept-Language": accept})
    assert wrong in page and label in page
    assert 'name="username" value="viewer"' in page


def test_the_language_switch_wins_over_the_header_and_rides_along_the_post(
    shared_api: Api,
) -> None:
    form = shared_api.client.get("/login?lang=en", headers={"Accept-Language": "zh-CN"})
    assert form.status_code == 200
    assert "Password" in form.text and 'name="lang" value="en"' in form.text
    assert 'href="/login?lang=zh"' in form.text
    page = _fail(shared_api, "analyst", {"Accept-Language": "zh-CN"}, lang="en")
    assert WRONG_EN in page and 'value="analyst"' in page


def test_the_kept_name_is_escaped(shared_api: Api) -> None:
    page = _fail(shared_api, '"><script>alert(1)</script>')
    assert "<script>alert(1)" not in page
    assert "&#34;&gt;&lt;script&gt;" in page or "&quot;&gt;&lt;script&gt;" in page


def test_the_right_password_still_logs_in_whatever_the_language(shared_api: Api) -> None:
    response = shared_api.client.post(
        "/login",
        data={"username": "viewer", "password": PASSWORD, "lang": "en"},
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/"
