"""Request dependencies: a session per request, the current user, role checks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.db.session import session_scope
from cxloop.errors import Forbidden, Unauthenticated
from cxloop.metrics.filters import Scope, parse_scope
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
SurveyManager = Annotated[User, Depends(require(Permission.manage_surveys))]
"""Stores survey definitions, sends and reminds: analysts, admins (viewers read)."""
CaseWorker = Annotated[User, Depends(require(Permission.work_cases))]
"""Reads and works the loop's cases (agents, admins); their teams decide which cases."""


SCOPE_HELP = {
    "since": "Inclusive start (UTC): 2025-10-01, 2025-10-01T08:00, or a period 2025-10, "
    "2025-Q4, 2025-W43, 2025.",
    "until": "Through this date or period (2025-10-31 keeps 31 October); a date-time is an "
    "exclusive end.",
    "last": "30d, 12w, 6m or 1y before now (or before until); not with since.",
    "where": "field=value or field:value, repeatable (one field repeated: any of its values): "
    "segment, region, channel, touchpoint, account, role, language.",
}


class ScopeQuery(BaseModel):
    """The window and where conditions of an analysis, as query parameters (mix into a query
    model; ``scope()`` parses them with the rules of ``cxloop.metrics.filters``)."""

    since: str | None = Field(None, max_length=40, description=SCOPE_HELP["since"])
    until: str | None = Field(None, max_length=40, description=SCOPE_HELP["until"])
    last: str | None = Field(None, max_length=8, description=SCOPE_HELP["last"])
    where: list[str] = Field(default_factory=list, max_length=20, description=SCOPE_HELP["where"])

    def scope(self) -> Scope:
        return parse_scope(self.since, self.until, self.last, _kept(self.where), now=_utcnow())


def _kept(where: list[str] | tuple[str, ...]) -> list[str]:
    """``where`` without empty items: a filter form's "All" choice sends ``where=``, which
    means no condition (so a page's query string gives the API the page's numbers)."""
    return [item for item in where if item.strip()]


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def scope_params(
    since: Annotated[str | None, Query(max_length=40, description=SCOPE_HELP["since"])] = None,
    until: Annotated[str | None, Query(max_length=40, description=SCOPE_HELP["until"])] = None,
    last: Annotated[str | None, Query(max_length=8, description=SCOPE_HELP["last"])] = None,
    where: Annotated[
        list[str] | None, Query(max_length=20, description=SCOPE_HELP["where"])
    ] = None,
) -> Scope:
    """``since``/``until``/``last``/``where`` query parameters as a ``Scope`` (bad values are
    ``Invalid``: 422 naming the parameter and value)."""
    return parse_scope(since, until, last, _kept(where or ()), now=_utcnow())


ScopeDep = Annotated[Scope, Depends(scope_params)]
"""For endpoints with plain query parameters (insights); query models mix in ``ScopeQuery``."""
