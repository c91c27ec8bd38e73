"""The web foundation every page builds on: vendored assets that match their pinned hashes and
no network host in any page, zh/en catalogs that are complete and compiled, one template
environment that renders each request in its own language, and colours that pass WCAG AA."""

from __future__ import annotations

import gettext as stdlib_gettext
import hashlib
import json
import re
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from starlette.requests import Request

from cxloop.web.pages import i18n, templating

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "src" / "cxloop" / "web"
STATIC = WEB / "static"
VENDOR = STATIC / "vendor"
TEMPLATES = WEB / "pages" / "templates"
sys.path.insert(0, str(ROOT / "scripts"))
import i18n as i18n_script  # noqa: E402  (scripts/i18n.py)

URL = re.compile(r"""(?:https?:)?//([a-z0-9.-]+\.[a-z]{2,})""", re.I)
# Hosts the vendored libraries name without fetching: XML namespaces and licence comments.
VENDOR_NAMES_ONLY = {"www.w3.org", "www.apache.org", "github.com"}


def _request(query: str = "", headers: dict[str, str] | None = None) -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/surveys/post-delivery",
        "root_path": "",
        "query_string": query.encode(),
        "headers": raw,
        "server": ("127.0.0.1", 80),
        "scheme": "http",
    }
    return Request(scope)


def test_vendored_files_match_the_manifest_and_the_pinned_packages() -> None:
    manifest = json.loads((VENDOR / "VENDORED.json").read_text(encoding="utf-8"))
    assert {entry["package"] for entry in manifest} == {"echarts", "htmx.org"}
    for entry in manifest:
        data = (VENDOR / entry["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], entry["file"]
        assert re.fullmatch(r"\d+\.\d+\.\d+", entry["version"]), entry
    pinned = {a.package: (a.version, a.tarball_sha256) for a in _vendor_script().ASSETS}
    for entry in manifest:
        assert pinned[entry["package"]] == (entry["version"], entry["tarball_sha256"])
    assert next(e for e in manifest if e["package"] == "echarts")["version"].startswith("6.")


def _vendor_script():  # type: ignore[no-untyped-def]
    import vendor_assets  # scripts/vendor_assets.py

    return vendor_assets


def test_no_page_or_static_file_loads_anything_from_another_host() -> None:
    ours = [*TEMPLATES.rglob("*.html"), *STATIC.glob("*.js"), *STATIC.glob("*.css")]
    assert any(path.name == "base.html" for path in ours)
    found = {
        f"{path.relative_to(WEB)}: {match.group(0)}"
        for path in ours
        for match in URL.finditer(path.read_text(encoding="utf-8"))
    }
    assert not found
    for path in VENDOR.glob("*.js"):
        hosts = {m.group(1).lower() for m in URL.finditer(path.read_text(encoding="utf-8"))}
        assert hosts <= VENDOR_NAMES_ONLY, (path.name, hosts - VENDOR_NAMES_ONLY)


def test_base_layout_loads_the_vendored_htmx_and_the_chart_script() -> None:
    base = (TEMPLATES / "base.html").read_text(encoding="utf-8")
    assert 'src="/static/vendor/htmx.min.js"' in base
    assert 'src="/static/charts.js"' in base
    assert "/static/vendor/echarts.min.js" in (STATIC / "charts.js").read_text(encoding="utf-8")
    assert 'name="viewport"' in base and 'href="#main"' in base and 'id="main"' in base


def _po(lang: str):  # type: ignore[no-untyped-def]
    with i18n_script.po_path(lang).open("rb") as handle:
        return read_po(handle, locale=lang)


def test_every_marked_string_has_a_chinese_translation() -> None:
    """A string marked in a template or page but missing from the zh catalog, or left empty or
    fuzzy there, fails here: run ``scripts/i18n.py extract update``, translate, ``compile``."""
    extracted = {message.id for message in i18n_script.extract_catalog() if message.id}
    assert "Log in" in extracted and "Wrong user name or password. Please try again." in extracted
    zh = {m.id: m for m in _po("zh") if m.id}
    missing = sorted(str(mid) for mid in extracted if mid not in zh)
    untranslated = sorted(str(mid) for mid, m in zh.items() if not m.string or m.fuzzy)
    assert not missing, f"not in zh/messages.po (run scripts/i18n.py update): {missing}"
    assert not untranslated, f"no zh translation: {untranslated}"


def test_translations_keep_the_placeholders_of_their_msgid() -> None:
    """``%(high)s`` in the English must stay in the Chinese, or formatting the page fails."""
    problems = [
        f"{message.id!r}: {'; '.join(str(e) for e in errors)}"
        for message, errors in _po("zh").check()
    ]
    assert not problems


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_compiled_catalog_is_current(lang: str) -> None:
    """The committed .mo says exactly what the .po says (run ``scripts/i18n.py compile``)."""
    expected = {m.id: m.string for m in _po(lang) if m.id and m.string and not m.fuzzy}
    with i18n_script.po_path(lang).with_suffix(".mo").open("rb") as handle:
        compiled = stdlib_gettext.GNUTranslations(handle)
    got = {k: v for k, v in compiled._catalog.items() if k}  # type: ignore[attr-defined]
    assert got == expected


def test_page_code_translates_through_the_catalog() -> None:
    assert i18n.gettext("zh", "Log in") == "登录"
    assert i18n.gettext("en", "Log in") == "Log in"
    assert i18n.gettext("zh", "not a catalog string") == "not a catalog string"


@pytest.mark.parametrize(
    ("chosen", "query", "headers", "expected"),
    [
        (None, "", {}, "zh"),
        (None, "", {"Accept-Language": "en-GB,en;q=0.9"}, "en"),
        (None, "lang=en", {"Accept-Language": "zh-CN"}, "en"),
        (None, "", {"Accept-Language": "zh-CN", "Cookie": "cxloop_lang=en"}, "en"),
        (None, "lang=zh", {"Cookie": "cxloop_lang=en"}, "zh"),
        ("en", "lang=zh", {"Cookie": "cxloop_lang=zh"}, "en"),  # a contact's language wins
        ("fr", "lang=xx", {"Accept-Language": "en"}, "en"),  # unknown choices are ignored
    ],
)
def test_language_choice_order(
    chosen: str | None, query: str, headers: dict[str, str], expected: str
) -> None:
    request = _request(query, headers)
    assert templating.language(request, chosen) == expected
    assert i18n.language(request, chosen) == expected  # the old import path still works


def test_the_language_switch_keeps_the_page_and_its_query() -> None:
    request = _request("status=open&lang=zh&page=2")
    assert (
        templating.switch_url(request, "en") == "/surveys/post-delivery?status=open&page=2&lang=en"
    )


def test_render_gives_the_page_in_the_requested_language_with_a_switch_back() -> None:
    response = templating.render(_request("lang=en"), "login.html", {"username": ""}, lang="en")
    page = bytes(response.body).decode()
    assert '<html lang="en">' in page and ">Log in</h1>" in page and "User name" in page
    assert 'href="/surveys/post-delivery?lang=zh"' in page
    assert response.headers["content-language"] == "en"
    assert "cxloop_lang=en" in response.headers["set-cookie"]  # ?lang= is remembered
    zh = bytes(templating.render(_request(), "login.html", {}, lang="zh").body).decode()
    assert '<html lang="zh-CN">' in zh and ">登录</h1>" in zh and "用户名" in zh


def test_a_block_renders_alone_as_an_htmx_partial_and_is_translated() -> None:
    counts = {
        "rows": {"feedback": 1234},
        "feedback_by_channel": {},
        "feedback_linked": 0,
        "quarantined": 0,
        "identity_conflicts": 0,
    }
    response = templating.render(
        _request(), "data.html", {"counts": counts}, lang="zh", block="content"
    )
    part = bytes(response.body).decode()
    assert "<html" not in part and "<header" not in part
    assert "各类数据行数" in part and "1,234" in part


def test_concurrent_requests_in_zh_and_en_each_get_their_own_language() -> None:
    """The language is a render variable, not environment state: threads cannot mix it up."""

    def one(lang: i18n.Lang) -> tuple[str, str]:
        body = bytes(templating.render(_request(), "login.html", {}, lang=lang).body).decode()
        return lang, body

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(one, ["zh", "en"] * 100))
    for lang, body in results:
        assert (">登录</h1>" in body) == (lang == "zh"), lang
        assert (">Log in</h1>" in body) == (lang == "en"), lang


def test_number_and_percent_filters_follow_the_page_language() -> None:
    env = templating.templates.env
    text = env.from_string("{{ n|number }} {{ n|number(1) }} {{ r|percent }} {{ none|number }}")
    assert text.render(lang="en", n=12345.67, r=0.425, none=None) == "12,345.67 12,345.7 42% –"
    assert text.render(lang="zh", n=12345.67, r=0.425, none=None) == "12,345.67 12,345.7 42% –"


# --- colours ----------------------------------------------------------------------------------
PAIRS = [
    ("text", "bg"),
    ("text", "card"),
    ("muted", "bg"),
    ("muted", "card"),
    ("link", "bg"),
    ("link", "card"),
    ("error", "bg"),
    ("error", "card"),
    ("bar-text", "bar"),
    ("bar-link", "bar"),
    ("button-text", "button"),
]


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_contrast_formula_matches_known_values() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)


def test_every_text_colour_has_contrast_of_at_least_4_5_on_its_background() -> None:
    css = (STATIC / "cxloop.css").read_text(encoding="utf-8")
    colours = dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-fA-F]{6})\b", css))
    low = {
        f"{fg} on {bg}: {contrast(colours[fg], colours[bg]):.2f}"
        for fg, bg in PAIRS
        if contrast(colours[fg], colours[bg]) < 4.5
    }
    assert not low
    hard_coded = re.findall(r"(?<![-\w])color:\s*#", css)
    assert not hard_coded, "use the checked custom properties for text colours"


def _tarball(files: dict[str, bytes]) -> bytes:
    import io
    import tarfile

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_vendoring_refuses_a_tarball_that_is_not_the_pinned_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Offline: the script copies the file and records its hash only when the tarball's sha256
    is the pin; any other tarball writes nothing."""
    import dataclasses

    script = _vendor_script()
    tarball = _tarball({"package/dist/lib.min.js": b"window.lib = 1;", "package/LICENSE": b"MIT"})
    asset = dataclasses.replace(
        script.ASSETS[1],
        package="lib",
        member="package/dist/lib.min.js",
        file="lib.min.js",
        tarball_sha256=hashlib.sha256(tarball).hexdigest(),
    )
    monkeypatch.setattr(script, "VENDOR", tmp_path)
    monkeypatch.setattr(script, "MANIFEST", tmp_path / "VENDORED.json")
    monkeypatch.setattr(script, "fetch_tarball", lambda _asset: tarball)

    monkeypatch.setattr(script, "ASSETS", (dataclasses.replace(asset, tarball_sha256="0" * 64),))
    assert script.vendor(trust=False) == 1
    assert not any(tmp_path.iterdir())

    monkeypatch.setattr(script, "ASSETS", (asset,))
    assert script.vendor(trust=False) == 0
    assert (tmp_path / "lib.min.js").read_bytes() == b"window.lib = 1;"
    (entry,) = json.loads((tmp_path / "VENDORED.json").read_text(encoding="utf-8"))
    assert entry["sha256"] == hashlib.sha256(b"window.lib = 1;").hexdigest()
    assert script.check() == 0
    (tmp_path / "lib.min.js").write_bytes(b"window.lib = 2;")  # edited by hand after vendoring
    assert script.check() == 1
