from __future__ import annotations

import hashlib

from fastapi import APIRouter, status

from chatvista_api.deps import AuthDep, CurrentUser, DbDep, ResourcesDep, SettingsDep
from chatvista_api.ratelimit import limit_account
from chatvista_api.routes import COMMON_ERRORS, errors
from chatvista_api.schemas import AuthResult, Login, Message, Refresh, Register, UserOut
from chatvista_api.services import auth as auth_service
from chatvista_api.services import users as users_service
from chatvista_api.services.auth import IssuedTokens

router = APIRouter(prefix="/auth", tags=["auth"], responses=COMMON_ERRORS)


def _result(tokens: IssuedTokens) -> AuthResult:
    return AuthResult(
        user=UserOut.model_validate(tokens.user),
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
        expires_in=tokens.expires_in,
    )


@router.post("/register", status_code=status.HTTP_201_CREATED, responses=errors(409))
async def register(body: Register, db: DbDep, settings: SettingsDep) -> AuthResult:
    """Create an account and log it in."""
    tokens = await auth_service.register(
        db,
        settings,
        email=body.email,
        password=body.password,
        first_name=body.first_name,
        last_name=body.last_name,
    )
    return _result(tokens)


@router.post("/login", responses=errors(401))
async def login(body: Login, db: DbDep, resources: ResourcesDep) -> AuthResult:
    """Exchange email and password for a new session's token pair. Attempts are limited per client
    address and per account (RATE_LIMIT_AUTH_PER_MINUTE each)."""
    email = users_service.normalize_email(body.email)
    account = "email:" + hashlib.sha256(email.encode()).hexdigest()
    await limit_account(resources.limiter, account, resources.settings.rate_limit_auth_per_minute)
    return _result(await auth_service.login(db, resources.settings, email=email, password=body.password))


@router.post("/refresh", responses=errors(401))
async def refresh(body: Refresh, db: DbDep, settings: SettingsDep) -> AuthResult:
    """Rotate a refresh token: it stops working and a new pair is returned. Presenting an already
    rotated token revokes the whole session."""
    return _result(await auth_service.refresh(db, settings, body.refresh_token))


@router.post("/logout", responses=errors(401))
async def logout(auth: AuthDep, db: DbDep) -> Message:
    """End this session: its refresh tokens and access tokens stop working."""
    await auth_service.revoke_session(db, auth.session_id)
    return Message(message="logged out")


@router.get("/me", responses=errors(401))
async def me(user: CurrentUser) -> UserOut:
    return UserOut.model_validate(user)
