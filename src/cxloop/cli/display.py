"""How numbers read in CLI tables: period labels, the small-n mark, rounding, money, and the
internal columns a table leaves out. Tables only: ``--format csv|json`` keep full precision.

One module so every command's table reads alike; rich styles are extras on top (a dim row is
lost in a pipe, the ``*`` mark and its footnote are not).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

SMALL_N_MARK = "*"
INTERNAL_COLUMNS = frozenset({"total", "squares"})
"""Sums kept for tests between slices (CES, CSAT mean, sentiment): in csv/json, not in tables."""
CURRENCY_SYMBOLS = {
    "CNY": "¥",
    "RMB": "¥",
    "JPY": "¥",
    "USD": "$",
    "HKD": "HK$",
    "TWD": "NT$",
    "SGD": "S$",
    "EUR": "€",
    "GBP": "£",
    "KRW": "₩",
    "INR": "₹",
}
"""Symbols of the usual codes; any other code is written after the amount (``12.50 CHF``).
Kept here rather than taking Babel's locale data for one symbol per currency."""
DASH = "–"


def missing(value: Any) -> bool:
    """None, NaN, NaT and pandas' NA: shown as a dash."""
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN, NaT and NA are not equal to themselves
    except (TypeError, ValueError):
        return False


def period_label(value: Any, period: str | None) -> str:
    """A period's first instant as its name (``2025-10``, ``2025-W43``, ``2025-Q4``): the
    API's ``label``, imported on first use so ``--help`` does not load pydantic."""
    from cxloop.metrics.filters import period_label as label

    return label(value, period)


def count(value: Any, small: bool = False) -> str:
    """A count with thousands separators, marked ``*`` when below the small-n threshold."""
    if missing(value):
        return DASH
    return f"{int(value):,}" + (f" {SMALL_N_MARK}" if small else "")


def small_n_note(min_n: int) -> str:
    """The footnote that explains the mark (printed under a table that uses it)."""
    return f"{SMALL_N_MARK} n below {min_n}: too few answers to read on their own"


def number(value: Any, decimals: int = 2, *, signed: bool = False) -> str:
    """A float rounded for reading; ``signed`` shows ``+`` on positive values."""
    if missing(value):
        return DASH
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    value = float(value)
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    return f"{value:{'+' if signed else ''},.{decimals}f}"


def share(value: Any, decimals: int = 1) -> str:
    """A 0…1 share as a percentage."""
    if missing(value):
        return DASH
    return f"{float(value):.{decimals}%}"


def p_value(value: Any) -> str:
    """A p- or q-value: three decimals, ``<0.001`` below that."""
    if missing(value):
        return DASH
    return "<0.001" if float(value) < 0.001 else f"{float(value):.3f}"


def money(value: Any, currency: str, decimals: int = 2) -> str:
    """An amount with its currency: ``¥1,234.50`` (CNY), ``-$12.00``, ``12.50 CHF``."""
    if missing(value):
        return DASH
    amount = float(value)
    symbol = CURRENCY_SYMBOLS.get(currency.upper())
    if symbol is None:
        return f"{amount:,.{decimals}f} {currency.upper()}"
    return f"{'-' if amount < 0 else ''}{symbol}{abs(amount):,.{decimals}f}"


def interval(low: Any, high: Any, shown: Any = number) -> str:
    """``low … high`` with each end formatted by ``shown``; a dash when undefined."""
    if missing(low) and missing(high):
        return DASH
    return f"{shown(low)} … {shown(high)}"


def cell(name: str, value: Any) -> str:
    """Any other column, by what its name says: shares as %, p/q-values, counts, rounded
    floats, dashes for missing values and text as is."""
    if missing(value):
        return DASH
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int) or (hasattr(value, "dtype") and value.dtype.kind in "iu"):
        return f"{int(value):,}"
    if isinstance(value, float) or (hasattr(value, "dtype") and value.dtype.kind == "f"):
        if "share" in name:
            return share(value)
        if name in ("p_value", "q_value") or name.endswith(("_p", "_q")):
            return p_value(value)
        return number(value)
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M") if value.time() != dt.time() else str(value.date())
    return str(value)


def shown_columns(columns: Any) -> list[str]:
    """``columns`` without the internal ones."""
    return [c for c in columns if c not in INTERNAL_COLUMNS]
