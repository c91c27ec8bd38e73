"""The words of the login page in zh and en, and which of the two a request wants.

A dict until the pages get Babel catalogs: one page, a handful of strings.
"""

from __future__ import annotations

from typing import Literal

from fastapi import Request

Lang = Literal["zh", "en"]
LANGUAGES: tuple[Lang, ...] = ("zh", "en")
DEFAULT: Lang = "zh"

LOGIN: dict[Lang, dict[str, str]] = {
    "zh": {
        "html_lang": "zh-CN",
        "title": "登录",
        "user": "用户名",
        "password": "密码",
        "submit": "登录",
        "wrong": "用户名或密码错误，请重试。",
        "other": "English",
        "other_lang": "en",
    },
    "en": {
        "html_lang": "en",
        "title": "Log in",
        "user": "User name",
        "password": "Password",
        "submit": "Log in",
        "wrong": "Wrong user name or password. Please try again.",
        "other": "中文",
        "other_lang": "zh",
    },
}


def _choice(value: str | None) -> Lang | None:
    primary = (value or "").strip().lower().replace("_", "-").split("-")[0]
    return next((lang for lang in LANGUAGES if lang == primary), None)


def language(request: Request, chosen: str | None = None) -> Lang:
    """``chosen`` (a form field or ``?lang=``) when it is zh or en, else the best of zh/en in
    the Accept-Language header by its q-values, else zh."""
    picked = _choice(chosen) or _choice(request.query_params.get("lang"))
    if picked:
        return picked
    offers = []
    for position, part in enumerate(request.headers.get("accept-language", "").split(",")):
        tag, _, params = part.partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        offers.append((-quality, position, tag))
    for _, _, tag in sorted(offers):
        if (found := _choice(tag)) is not None:
            return found
    return DEFAULT
