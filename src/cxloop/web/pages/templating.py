"""The one Jinja2 environment every page renders through: gettext from the Babel catalogs in the
request's language, numbers formatted by Babel, and one block of a template as an HTMX partial.

Page handlers call ``render(request, "surveys/list.html", {...}, lang=lang)``; with
``block="rows"`` only that block is rendered (jinja2-fragments), so a partial and its full page
are one template. The language is a context variable (``lang``), never environment state, so
concurrent requests in zh and en share the environment safely.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from babel.numbers import format_decimal, format_percent
from fastapi import Request
from fastapi.responses import Response
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.runtime import Context
from jinja2_fragments.fastapi import Jinja2Blocks

from cxloop.web.pages.i18n import (
    COOKIE,
    DEFAULT,
    HTML_LANG,
    LANGUAGES,
    Lang,
    choice,
    gettext,
    language,
    ngettext,
    translations,
)

__all__ = [
    "LANGUAGES",
    "Lang",
    "gettext",
    "language",
    "ngettext",
    "render",
    "switch_url",
    "templates",
]

TEMPLATES = Path(__file__).with_name("templates")
LABEL: dict[Lang, str] = {"zh": "中文", "en": "English"}


def _lang(context: Context) -> Lang:
    return choice(context.get("lang")) or DEFAULT


@pass_context
def _gettext(context: Context, message: str) -> str:
    return translations(_lang(context)).gettext(message)


@pass_context
def _ngettext(context: Context, singular: str, plural: str, n: int) -> str:
    return translations(_lang(context)).ngettext(singular, plural, n)


@pass_context
def _pgettext(context: Context, ctx: str, message: str) -> str:
    return str(translations(_lang(context)).pgettext(ctx, message))


@pass_context
def _npgettext(context: Context, ctx: str, singular: str, plural: str, n: int) -> str:
    return translations(_lang(context)).npgettext(ctx, singular, plural, n)


@pass_context
def _number(context: Context, value: float | int | None, digits: int | None = None) -> str:
    """``1,234`` / ``1,234.5`` in the page's locale; ``–`` for a missing value."""
    if value is None:
        return "–"
    pattern = None if digits is None else "#,##0." + "0" * digits if digits else "#,##0"
    return format_decimal(value, format=pattern, locale=_lang(context))


@pass_context
def _percent(context: Context, value: float | None, digits: int = 0) -> str:
    """A share (0.42) as ``42%``; ``–`` for a missing value."""
    if value is None:
        return "–"
    pattern = "#,##0" + ("." + "0" * digits if digits else "") + "%"
    return format_percent(value, format=pattern, locale=_lang(context))


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]  # added by the i18n extension
        _gettext, _ngettext, newstyle=True, pgettext=_pgettext, npgettext=_npgettext
    )
    env.filters["number"] = _number
    env.filters["percent"] = _percent
    return env


templates = Jinja2Blocks(env=_environment())


def switch_url(request: Request, lang: Lang) -> str:
    """The current path and query with ``lang`` set: the language switch keeps the page."""
    query = [(key, value) for key, value in request.query_params.multi_items() if key != "lang"]
    return f"{request.url.path}?{urlencode([*query, ('lang', lang)])}"


def render(
    request: Request,
    name: str,
    context: Mapping[str, Any] | None = None,
    *,
    lang: Lang,
    status_code: int = 200,
    block: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """``name`` rendered in ``lang`` (or only its ``block``, for an HTMX swap).

    Every template gets ``lang``, ``html_lang``, ``languages`` (code, label, switch URL) besides
    the caller's context. A ``?lang=`` choice is remembered in a cookie for the next pages."""
    full: dict[str, Any] = {
        "lang": lang,
        "html_lang": HTML_LANG[lang],
        "languages": [
            {
                "code": code,
                "label": LABEL[code],
                "html_lang": HTML_LANG[code],
                "url": switch_url(request, code),
            }
            for code in LANGUAGES
        ],
        **(context or {}),
    }
    all_headers = {
        "Content-Language": HTML_LANG[lang],
        "Vary": "Accept-Language, Cookie, HX-Request",
        **(headers or {}),
    }
    response = templates.TemplateResponse(  # block None: the whole page
        request, name, full, status_code=status_code, headers=all_headers, block_name=block
    )
    picked = choice(request.query_params.get("lang"))
    if picked and request.cookies.get(COOKIE) != picked:
        response.set_cookie(COOKIE, picked, max_age=365 * 86_400, samesite="lax")
    return response
