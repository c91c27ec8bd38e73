"""Cells safe to open in a spreadsheet: every CSV and Excel file cxloop writes passes its values
through :func:`safe_cell`, so a customer's answer such as ``=HYPERLINK("http://evil")`` is shown
as text, never run as a formula (CSV/formula injection, CWE-1236).

The rule is OWASP's (https://owasp.org/www-community/attacks/CSV_Injection): a text cell that
starts with ``=``, ``+``, ``-``, ``@``, TAB or CR gets a leading ``'``, which spreadsheets read
as "this is text". A value made only of digits, spaces and ``+-.,()/`` computes nothing a
spreadsheet could run, so it is left alone: scores stay numbers (``-5``, ``-0.25``, ``1e5``) and
phone numbers stay dialable (``+86 138 0013 8000``), also in a quarantine file that is fixed and
imported again. A leaf module with no imports of its own: every layer may use it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""First characters a spreadsheet may read as the start of a formula (OWASP's list)."""
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_NO_NAMES = re.compile(r"[\d\s.,()/+-]+")
"""Digits and arithmetic only: no function, name, reference or DDE call (``cmd|…``) to run."""


def safe_cell(value: Any) -> Any:
    """``value`` with a ``'`` in front when it is text a spreadsheet would run as a formula;
    anything else (numbers, ``None``, ``"-5"``, ``"+86 138 0013 8000"``) unchanged."""
    if not isinstance(value, str) or not value.startswith(FORMULA_STARTS):
        return value
    if _PLAIN_NUMBER.fullmatch(value) or _NO_NAMES.fullmatch(value):
        return value
    return "'" + value


def safe_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """A row (column → value) with each value made safe by :func:`safe_cell`."""
    return {key: safe_cell(value) for key, value in row.items()}
