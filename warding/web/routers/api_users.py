"""Users and roles (admins only). Role and access changes are audited setting changes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from warding.accounts.service import create_user, get_user, list_users, set_active, set_role, view
from warding.db.models import User
from warding.web.deps import SessionDep, require
from warding.web.schemas import ErrorOut
from warding.web.schemas_review import UserCreateIn, UserOut, UsersOut, UserUpdateIn

router = APIRouter(prefix="/api/users", tags=["users"],
                   responses={401: {"model": ErrorOut}, 403: {"model": ErrorOut}})

Admin = Annotated[User, Depends(require("manage_users"))]


def _out(user: User) -> UserOut:
    v = view(user)
    return UserOut(username=v.username, role=v.role, active=v.active)


@router.get("", response_model=UsersOut)
def users(session: SessionDep, user: Admin) -> UsersOut:
    return UsersOut(users=[UserOut(username=u.username, role=u.role, active=u.active)
                           for u in list_users(session)])


@router.post("", response_model=UserOut, status_code=201,
             responses={409: {"model": ErrorOut}, 422: {"model": ErrorOut}})
def new_user(body: UserCreateIn, session: SessionDep, user: Admin) -> UserOut:
    return _out(create_user(session, body.username, body.role, body.password,
                            actor=user.username))


@router.patch("/{username}", response_model=UserOut,
              responses={404: {"model": ErrorOut}, 409: {"model": ErrorOut}})
def update_user(username: str, body: UserUpdateIn, session: SessionDep, user: Admin) -> UserOut:
    if body.role is not None:
        set_role(session, username, body.role, actor=user.username)
    if body.active is not None:
        set_active(session, username, body.active, actor=user.username)
    return _out(get_user(session, username))
