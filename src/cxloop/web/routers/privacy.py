"""Users and tokens: admins manage them; anyone may log in and see who they are."""

from __future__ import annotations

from fastapi import APIRouter

from cxloop.privacy import service as privacy_service
from cxloop.privacy.schemas import Login, TokenCreate, TokenIssued, UserCreate, UserRead
from cxloop.web.deps import Admin, CurrentUser, SessionDep

router = APIRouter(prefix="/api/v1", tags=["privacy"])


@router.post("/auth/login", response_model=TokenIssued)
def login(body: Login, session: SessionDep) -> TokenIssued:
    """Exchange a user name and password for a one-day token."""
    return privacy_service.login(session=session, username=body.username, password=body.password)


@router.get("/me", response_model=UserRead)
def me(user: CurrentUser) -> UserRead:
    return UserRead.model_validate(user)


@router.get("/users", response_model=list[UserRead])
def list_users(session: SessionDep, _: Admin) -> list[UserRead]:
    return [UserRead.model_validate(u) for u in privacy_service.list_users(session=session)]


@router.post("/users", response_model=UserRead, status_code=201)
def create_user(body: UserCreate, session: SessionDep, _: Admin) -> UserRead:
    return UserRead.model_validate(privacy_service.create_user(session=session, user_in=body))


@router.post("/tokens", response_model=TokenIssued, status_code=201)
def create_token(body: TokenCreate, session: SessionDep, _: Admin) -> TokenIssued:
    """Issue an API token for a user; the clear token is shown only in this response."""
    return privacy_service.create_token(session=session, token_in=body)
