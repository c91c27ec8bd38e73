"""Behaviour tables, for the importer and for reads."""

from __future__ import annotations

from sqlalchemy import Table

from cxloop.behaviour.models import Event, Order, Subscription

TABLES: dict[str, Table] = {
    "orders": Order.__table__,  # type: ignore[dict-item]
    "events": Event.__table__,  # type: ignore[dict-item]
    "subscriptions": Subscription.__table__,  # type: ignore[dict-item]
}
