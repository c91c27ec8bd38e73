"""Customers, accounts, contacts, projects, milestones and the identities that point at them.

References between tables are the source systems' own ids and are deliberately not foreign keys:
files arrive in any order (feedback before customers), and a link resolves when both are there.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, Float, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cxloop.db.base import Base, UtcDateTime, utcnow
from cxloop.db.mixins import ImportedRowMixin


class Customer(ImportedRowMixin, Base):
    __tablename__ = "customers"

    customer_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(256))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(32))
    member_id: Mapped[str | None] = mapped_column(String(128))
    handle: Mapped[str | None] = mapped_column(String(256))
    gender: Mapped[str | None] = mapped_column(String(16))
    birth_date: Mapped[dt.date | None] = mapped_column(Date)
    city: Mapped[str | None] = mapped_column(String(128))
    region: Mapped[str | None] = mapped_column(String(128), index=True)
    segment: Mapped[str | None] = mapped_column(String(64), index=True)
    signed_up_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class Account(ImportedRowMixin, Base):
    __tablename__ = "accounts"

    account_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    name: Mapped[str] = mapped_column(String(256))
    industry: Mapped[str | None] = mapped_column(String(128))
    region: Mapped[str | None] = mapped_column(String(128))
    segment: Mapped[str | None] = mapped_column(String(64))
    tier: Mapped[str | None] = mapped_column(String(32))
    owner: Mapped[str | None] = mapped_column(String(128))
    annual_value: Mapped[float | None] = mapped_column(Float)
    opened_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class Contact(ImportedRowMixin, Base):
    __tablename__ = "contacts"

    contact_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    account_id: Mapped[str] = mapped_column(String(128), index=True)
    name: Mapped[str | None] = mapped_column(String(256))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(32))
    role: Mapped[str] = mapped_column(String(32), index=True)
    title: Mapped[str | None] = mapped_column(String(128))


class Project(ImportedRowMixin, Base):
    __tablename__ = "projects"

    project_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    account_id: Mapped[str] = mapped_column(String(128), index=True)
    name: Mapped[str] = mapped_column(String(256))
    status: Mapped[str | None] = mapped_column(String(32))
    start_date: Mapped[dt.date | None] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)


class Milestone(ImportedRowMixin, Base):
    __tablename__ = "milestones"

    milestone_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(128), index=True)
    name: Mapped[str] = mapped_column(String(256))
    due_date: Mapped[dt.date | None] = mapped_column(Date)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    status: Mapped[str | None] = mapped_column(String(32))


class Identity(Base):
    """A handle, email, phone or member id that points at exactly one customer or contact."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("kind", "value", name="uq_identities_kind_value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(320))
    customer_id: Mapped[str | None] = mapped_column(String(128), index=True)
    contact_id: Mapped[str | None] = mapped_column(String(128), index=True)
    source: Mapped[str] = mapped_column(String(32))
    import_run_id: Mapped[int | None] = mapped_column(Integer, index=True)
    """The import run that created the identity (an undo of that run removes it)."""
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class IdentityConflict(Base):
    """An identity claimed by a second customer: reported, never merged silently."""

    __tablename__ = "identity_conflicts"
    __table_args__ = (
        UniqueConstraint("kind", "value", "claimed_by", name="uq_identity_conflicts_claim"),
        Index("ix_identity_conflicts_seen_at", "seen_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(320))
    owner: Mapped[str] = mapped_column(String(160))
    claimed_by: Mapped[str] = mapped_column(String(160))
    source: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str | None] = mapped_column(Text)
    import_run_id: Mapped[int | None] = mapped_column(Integer)
    seen_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
