"""Declarative base with a naming convention so migrations name constraints on every engine."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, DateTime, MetaData, TypeDecorator
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase

from cxloop.errors import Invalid

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[dt.datetime]):
    """Timestamps stored as naive UTC everywhere, so SQLite and PostgreSQL compare alike."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            try:
                return value.astimezone(dt.UTC).replace(tzinfo=None)
            except OverflowError:
                raise Invalid(
                    "is out of range once converted to UTC", "datetime", value.isoformat()
                ) from None
        return value if isinstance(value, dt.datetime) else None


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dict[str, Any]: JSON, dt.datetime: UtcDateTime}


def utcnow() -> dt.datetime:
    """Current time as naive UTC, the store's convention."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)
