"""Cells safe to open in a spreadsheet: every CSV and Excel file cxloop writes passes its values
through :func:`safe_cell`, so a customer's answer such as ``=HYPERLINK("http://evil")`` is shown
as text, never run as a formula (CSV/formula injection, CWE-1236).

The rule is OWASP's (https://owasp.org/www-community/attacks/CSV_Injection): a text cell that
starts with ``=``, ``+``, ``-``, ``@``, TAB or CR gets a leading ``'``, which spreadsheets read
as "this is text". Plain numbers (``-5``, ``-0.25``, ``+3``) are left alone so scores stay
numbers; ``+86 138 0013 8000`` is text and gets its ``'``. A leaf module with no imports of
its own: every layer may use it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""First characters a spreadsheet may read as the start of a formula (OWASP's list)."""
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def safe_cell(value: Any) -> Any:
    """``value`` with a ``'`` in front when it is text a spreadsheet would run as a formula;
    anything else (numbers, ``None``, plain-number strings such as ``"-5"``) unchanged."""
    if not isinstance(value, str) or not value.startswith(FORMULA_STARTS):
        return value
    if _PLAIN_NUMBER.fullmatch(value):
        return value
    return "'" + value


def safe_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """A row (column → value) with each value made safe by :func:`safe_cell`."""
    return {key: safe_cell(value) for key, value in row.items()}
