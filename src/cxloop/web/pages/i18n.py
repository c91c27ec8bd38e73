"""Which language (zh or en) a request wants, and the Babel catalogs that translate the UI.

Strings live in ``web/i18n/<lang>/LC_MESSAGES/messages.po`` (English msgids) and are compiled to
``.mo`` by ``scripts/i18n.py compile``; both are committed, so the app needs no build step.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

from babel.support import NullTranslations, Translations
from fastapi import Request

Lang = Literal["zh", "en"]
LANGUAGES: tuple[Lang, ...] = ("zh", "en")
DEFAULT: Lang = "zh"
HTML_LANG: dict[Lang, str] = {"zh": "zh-CN", "en": "en"}
CATALOGS = Path(__file__).resolve().parents[1] / "i18n"
DOMAIN = "messages"
COOKIE = "cxloop_lang"  # set when the user picks a language with ?lang=


@cache
def translations(lang: Lang) -> NullTranslations:
    """The compiled catalog for ``lang`` (English msgids: en falls back to them)."""
    return Translations.load(str(CATALOGS), locales=[lang], domain=DOMAIN)


def gettext(lang: Lang, message: str) -> str:
    """``message`` in ``lang``; page code marks its strings with this (``scripts/i18n.py``
    extracts the second argument)."""
    return translations(lang).gettext(message)


def ngettext(lang: Lang, singular: str, plural: str, n: int) -> str:
    return translations(lang).ngettext(singular, plural, n)


def choice(value: str | None) -> Lang | None:
    """zh or en from a tag such as ``zh-CN``, ``en_US`` or ``EN``; None for anything else."""
    primary = (value or "").strip().lower().replace("_", "-").split("-")[0]
    return next((lang for lang in LANGUAGES if lang == primary), None)


def language(request: Request, chosen: str | None = None) -> Lang:
    """``chosen`` (a form field, a contact's language) when it is zh or en, else ``?lang=``,
    else the language cookie, else the best of zh/en in Accept-Language by q-value, else zh."""
    picked = (
        choice(chosen)
        or choice(request.query_params.get("lang"))
        or choice(request.cookies.get(COOKIE))
    )
    if picked:
        return picked
    return next(iter(accepted(request)), DEFAULT)


def accepted(request: Request) -> list[Lang]:
    """zh/en from Accept-Language, best q-value first (header order breaks ties); tags with
    q=0 (refused) are left out."""
    offers = []
    for position, part in enumerate(request.headers.get("accept-language", "").split(",")):
        tag, _, params = part.partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if quality > 0:
            offers.append((-quality, position, tag))
    found = [choice(tag) for _, _, tag in sorted(offers)]
    return list(dict.fromkeys(lang for lang in found if lang is not None))
