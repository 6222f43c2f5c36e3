from __future__ import annotations

import uuid

from fastapi import APIRouter

from chatvista_api.deps import AuthDep, CurrentUser, DbDep, ReaderDep, ResourcesDep
from chatvista_api.errors import not_found
from chatvista_api.ratelimit import limit_account
from chatvista_api.routes import COMMON_ERRORS, errors
from chatvista_api.schemas import ChangePassword, Message, UserOut, UserPublic, UserUpdate
from chatvista_api.services import users as users_service

router = APIRouter(prefix="/users", tags=["users"], responses={**COMMON_ERRORS, **errors(401)})


@router.get("/me")
async def get_me(user: CurrentUser) -> UserOut:
    return UserOut.model_validate(user)


# PUT as well: the frontend's profile page sends PUT (its settings page PATCH). Either changes only
# the fields sent.
@router.put("/me", summary="Update Me (PUT)")
@router.patch("/me")
async def update_me(body: UserUpdate, user: CurrentUser, db: DbDep) -> UserOut:
    first_name, last_name = body.names
    updated = await users_service.update_profile(db, user.id, first_name=first_name, last_name=last_name)
    return UserOut.model_validate(updated)


# PUT me/password is the frontend's (usersApi.changePassword); POST me/change-password stays for API clients.
@router.put("/me/password", responses=errors(403), summary="Change Password (PUT)")
@router.post("/me/change-password", responses=errors(403))
async def change_password(body: ChangePassword, auth: AuthDep, db: DbDep, resources: ResourcesDep) -> Message:
    """Change the password. Every other session is logged out; this one stays. Attempts are limited
    per client address and per user (RATE_LIMIT_AUTH_PER_MINUTE each): a stolen access token must
    not become an unlimited password oracle."""
    await limit_account(resources.limiter, f"user:{auth.user.id}", resources.settings.rate_limit_auth_per_minute)
    await users_service.change_password(
        db,
        auth.user.id,
        current_password=body.current_password,
        new_password=body.new_password,
        keep_session=auth.session_id,
    )
    return Message(message="password changed")


@router.get("/{user_id}", responses=errors(404))
async def get_user(user_id: uuid.UUID, user: CurrentUser, reader: ReaderDep) -> UserPublic:
    """A user you share a meeting with (or yourself). Anyone else is a 404."""
    found = await users_service.visible_user(reader, user.id, user_id)
    if found is None:
        raise not_found("user")
    return UserPublic.model_validate(found)
