"""Request dependencies: a session per request, the current user, role checks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.db.session import session_scope
from cxloop.errors import Forbidden, Unauthenticated
from cxloop.privacy import service as privacy_service
from cxloop.privacy.models import User
from cxloop.privacy.roles import Permission, allows

COOKIE = "cxloop_token"
_bearer = HTTPBearer(auto_error=False, description="API token from `cxloop token create`.")


def get_session(request: Request) -> Iterator[Session]:
    with session_scope(request.app.state.session_factory) as session:
        yield session


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


# scope="function": the unit of work commits BEFORE the response leaves, so a client that
# reads right after a write (or a browser following the login redirect) sees it, and a failed
# commit is an error response rather than a 2xx for data that was never stored.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def current_user(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    token = credentials.credentials if credentials else request.cookies.get(COOKIE)
    if not token:
        raise Unauthenticated("send an API token: Authorization: Bearer <token>")
    return privacy_service.authenticate_token(session=session, token=token)


CurrentUser = Annotated[User, Depends(current_user)]


def require(permission: Permission) -> Callable[[User], User]:
    """Dependency that lets the request through only for roles holding ``permission``."""

    def check(user: CurrentUser) -> User:
        if not allows(user.role, permission):
            raise Forbidden(f"role {user.role!r} may not {permission.value.replace('_', ' ')}")
        return user

    return check


Reader = Annotated[User, Depends(require(Permission.read_data))]
Importer = Annotated[User, Depends(require(Permission.import_data))]
ImportsReader = Annotated[User, Depends(require(Permission.read_imports))]
Admin = Annotated[User, Depends(require(Permission.manage_users))]
ListManager = Annotated[User, Depends(require(Permission.manage_lists))]
"""Saves metric targets and target lists, scans and acknowledges alerts: analysts, admins."""
