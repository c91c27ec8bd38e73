"""``--where field=value`` audiences: customers whose column (segment, region, city…) or
imported attribute holds one of the values, every field at once.

When the conditions together match nobody, each is tried alone so that only the one matching
nobody is blamed (with the values customers do have), or, when each matches some, the
combination is named; a Chinese header word (城市) that import read into a column (city) gets
a hint, since such a word is never an attribute name.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session

from cxloop.customers import service as customers_service
from cxloop.errors import Invalid, Problem
from cxloop.ingest.fields import get_kind

CUSTOMER_FIELDS = ("segment", "region", "city", "gender", "customer_id", "member_id")
"""``--where`` fields that are customer columns; any other name is an imported attribute."""


def _table() -> Table:
    return customers_service.TABLES["customers"]


def parse_where(items: Sequence[str]) -> dict[str, list[str]]:
    """``field=value`` (or ``field:value``) items grouped by lower-case field."""
    grouped: dict[str, list[str]] = {}
    problems: list[Problem] = []
    for item in items:
        parts = re.split(r"[=:]", item, maxsplit=1)
        if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
            problems.append(Problem("where", item, "is not field=value (e.g. segment=vip)"))
            continue
        grouped.setdefault(parts[0].strip().lower(), []).append(parts[1].strip())
    if problems:
        raise Invalid(problems)
    return grouped


def _attribute_match(attributes: dict[str, Any] | None, name: str, values: set[str]) -> bool:
    for key, value in (attributes or {}).items():
        if str(key).strip().lower() == name and str(value).strip().casefold() in values:
            return True
    return False


def matching(session: Session, grouped: dict[str, list[str]]) -> list[Any]:
    """The customer rows meeting every condition, by customer id."""
    table = _table()
    query = select(table)
    attribute_fields: dict[str, set[str]] = {}
    for name, values in grouped.items():
        folded = sorted({v.casefold() for v in values})
        if name in CUSTOMER_FIELDS:
            query = query.where(func.lower(table.c[name]).in_(folded))
        else:
            attribute_fields[name] = set(folded)
    return [
        row
        for row in session.execute(query.order_by(table.c.customer_id))
        if all(_attribute_match(row.attributes, n, v) for n, v in attribute_fields.items())
    ]


def column_for(name: str) -> str | None:
    """The customer column an import header word is read into (城市 → city), if ``--where``
    filters on that column."""
    for spec in get_kind("customers").fields:
        if spec.name in CUSTOMER_FIELDS and name in {a.lower() for a in spec.aliases}:
            return spec.name
    return None


def nobody(session: Session, grouped: dict[str, list[str]]) -> list[Problem]:
    """Why ``where`` matched nobody: each condition that alone matches nobody (with the values
    customers have, or the column its header word means), else the combination."""
    table = _table()
    alone = {name: len(matching(session, {name: values})) for name, values in grouped.items()}
    problems: list[Problem] = []
    for name, values in grouped.items():
        if alone[name]:
            continue
        if name in CUSTOMER_FIELDS:
            column = select(table.c[name]).distinct().limit(50)
            stored = sorted(
                {str(v) for (v,) in session.execute(column) if v is not None},
                key=lambda v: (v.casefold(), v),
            )
            shown = ", ".join(stored[:20]) or "none stored"
            problems.append(
                Problem(f"where.{name}", "|".join(values), f"matches no customer; {shown}")
            )
            continue
        reason = "matches no customer's attribute of that name"
        core = column_for(name)
        if core is not None:
            found = len(matching(session, {core: values}))
            reason += (
                f"; import reads the header {name} into the {core} column: use "
                f"--where {core}={values[0]} (matches {found})"
            )
        else:
            reason += f" (fields: {', '.join(CUSTOMER_FIELDS)}, or an imported attribute)"
        problems.append(Problem(f"where.{name}", "|".join(values), reason))
    if not problems:
        counts = ", ".join(f"{k}={'|'.join(v)} {alone[k]}" for k, v in grouped.items())
        problems.append(
            Problem(
                "where",
                " ".join(f"{k}={'|'.join(v)}" for k, v in grouped.items()),
                f"each condition matches customers alone ({counts}), together they match no one",
            )
        )
    return problems


def from_where(session: Session, items: Sequence[str]) -> list[Any]:
    """The customer rows of a ``where`` audience; ``Invalid`` naming the culprit when none."""
    grouped = parse_where(items)
    rows = matching(session, grouped)
    if not rows:
        raise Invalid(nobody(session, grouped))
    return rows
