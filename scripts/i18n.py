"""Keep the web UI's zh/en message catalogs in step with the templates and page code (Babel).

    .venv/bin/python scripts/i18n.py extract   # marked strings → messages.pot (untracked)
    .venv/bin/python scripts/i18n.py update    # merge the marked strings into zh and en .po
    .venv/bin/python scripts/i18n.py compile   # messages.po → messages.mo (committed)
    .venv/bin/python scripts/i18n.py all       # the three in order

After ``update``, translate every new entry of ``zh/LC_MESSAGES/messages.po`` (msgids are
English; the en catalog may stay empty, gettext falls back to the msgid), then ``compile``.
``tests/web/test_foundation.py`` fails while a string is missing, untranslated or not compiled.
Strings are marked with ``_("…")`` / ``gettext("…")`` in templates and with
``gettext(lang, "…")`` / ``ngettext(lang, "one", "many", n)`` in Python page code.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
WEB = ROOT / "src" / "cxloop" / "web"
PAGES = WEB / "pages"
CATALOGS = WEB / "i18n"
POT = CATALOGS / "messages.pot"
LANGUAGES = ("zh", "en")
# a fixed creation date: re-running the script on unchanged sources changes no file
STAMP = datetime(2026, 12, 1, tzinfo=UTC)
TEMPLATE_KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "pgettext": ((1, "c"), 2),
    "npgettext": ((1, "c"), 2, 3),
}
# Python page code passes the language first: gettext(lang, "…")
PYTHON_KEYWORDS = {"gettext": (2,), "ngettext": (2, 3), "N_": None}


def po_path(lang: str) -> Path:
    return CATALOGS / lang / "LC_MESSAGES" / "messages.po"


def _add(
    catalog: Catalog, found: Iterable[tuple[str, int, object, list[str], str | None]], base: Path
) -> None:
    for filename, lineno, message, comments, context in found:
        location = (str((base / filename).relative_to(ROOT)), lineno)
        catalog.add(message, locations=[location], auto_comments=comments, context=context)


def extract_catalog() -> Catalog:
    """Every marked string in the templates and in ``web/pages/*.py``."""
    catalog = Catalog(
        project="cxloop",
        copyright_holder="cxloop contributors",
        creation_date=STAMP,
        charset="utf-8",
    )
    templates = PAGES / "templates"
    _add(
        catalog,
        extract_from_dir(
            str(templates),
            method_map=[("**.html", "jinja2.ext:babel_extract")],
            options_map={"**.html": {"extensions": "jinja2.ext.i18n", "trimmed": "true"}},
            keywords=TEMPLATE_KEYWORDS,
        ),
        templates,
    )
    _add(
        catalog,
        extract_from_dir(
            str(PAGES),
            method_map=[("*.py", "python"), ("**/*.py", "python")],
            keywords=PYTHON_KEYWORDS,
        ),
        PAGES,
    )
    return catalog


def _write_po(path: Path, catalog: Catalog) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        write_po(
            handle, catalog, width=100, sort_output=True, ignore_obsolete=True, include_lineno=False
        )


def extract() -> int:
    catalog = extract_catalog()
    _write_po(POT, catalog)
    print(f"{POT.relative_to(ROOT)}: {len(catalog)} messages")
    return 0


def update() -> int:
    """Merge the template into each language's catalog, keeping translations (no fuzzy guesses:
    a changed string shows up untranslated instead of silently wrong)."""
    template = extract_catalog()  # the same as the .pot `extract` writes, without the file
    for lang in LANGUAGES:
        path = po_path(lang)
        if path.exists():
            with path.open("rb") as handle:
                catalog = read_po(handle, locale=lang)
        else:
            catalog = Catalog(locale=lang, project="cxloop", creation_date=STAMP, charset="utf-8")
        catalog.update(template, no_fuzzy_matching=True, update_creation_date=True)
        catalog.revision_date = STAMP
        catalog.fuzzy = False  # the header: translated by hand, not a guess
        _write_po(path, catalog)
        missing = [m.id for m in catalog if m.id and not m.string]
        note = f", {len(missing)} untranslated" if lang == "zh" and missing else ""
        print(f"{path.relative_to(ROOT)}: {len(catalog)} messages{note}")
    return 0


def compile_catalogs() -> int:
    problems = 0
    for lang in LANGUAGES:
        path = po_path(lang)
        with path.open("rb") as handle:
            catalog = read_po(handle, locale=lang)
        for message in catalog:
            if message.id and message.fuzzy:
                print(f"{path.relative_to(ROOT)}: {message.id!r} is fuzzy", file=sys.stderr)
                problems += 1
        with path.with_suffix(".mo").open("wb") as handle:
            write_mo(handle, catalog, use_fuzzy=False)
        print(f"{path.with_suffix('.mo').relative_to(ROOT)}: compiled")
    return 1 if problems else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["extract", "update", "compile", "all"])
    command = parser.parse_args().command
    if command == "all":
        return extract() or update() or compile_catalogs()
    return {"extract": extract, "update": update, "compile": compile_catalogs}[command]()


if __name__ == "__main__":
    sys.exit(main())
