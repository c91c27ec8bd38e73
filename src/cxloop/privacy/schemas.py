"""Shapes for users and tokens at the boundaries."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from cxloop.privacy.roles import Role


class UserCreate(BaseModel):
    username: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$")
    password: str | None = Field(default=None, min_length=8, max_length=256)
    role: Role


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    role: Role
    active: bool
    created_at: dt.datetime


class TokenCreate(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    name: str = Field(default="api", min_length=1, max_length=128)
    days: int | None = Field(default=None, ge=1, le=3650, description="Expiry; none = never.")


class TokenIssued(BaseModel):
    """The token in clear text: shown once, stored only as a hash."""

    token: str
    prefix: str
    username: str
    role: Role
    expires_at: dt.datetime | None


class Login(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)
