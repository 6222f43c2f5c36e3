"""Dependencies, as ``Annotated`` aliases the route handlers declare."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any

import psycopg
from fastapi import Depends, Request
from fastapi.security import HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param
from sqlalchemy.ext.asyncio import AsyncSession

from chatvista_api.db import read_connection
from chatvista_api.errors import session_ended, unauthorized
from chatvista_api.resources import AppResources
from chatvista_api.security import AccessClaims, TokenError, decode_access_token
from chatvista_api.services import users as users_service
from chatvista_api.services.users import UserRecord
from chatvista_api.settings import Settings
from chatvista_api.signaling import Signaling


# Async on purpose: FastAPI runs plain ``def`` dependencies in a worker thread, a hop per request.
async def get_resources(request: Request) -> AppResources:
    return request.app.state.resources


async def get_settings(request: Request) -> Settings:
    return request.app.state.resources.settings


async def get_signaling(request: Request) -> Signaling:
    return request.app.state.signaling


async def get_db(resources: Annotated[AppResources, Depends(get_resources)]) -> AsyncIterator[AsyncSession]:
    assert resources.db_factory is not None
    async with resources.db_factory() as db:
        yield db


async def get_reader(request: Request) -> AsyncIterator[psycopg.AsyncConnection]:
    # Reads the resources themselves rather than through ResourcesDep: on the hot path every nested
    # dependency FastAPI resolves costs measurable CPU.
    engine = request.app.state.resources.engine
    assert engine is not None
    async with read_connection(engine) as connection:
        yield connection


ResourcesDep = Annotated[AppResources, Depends(get_resources)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
SignalingDep = Annotated[Signaling, Depends(get_signaling)]
DbDep = Annotated[AsyncSession, Depends(get_db)]
# For read-only handlers: an autocommit connection of the pool (db.read_connection).
ReaderDep = Annotated[psycopg.AsyncConnection, Depends(get_reader)]


@dataclass(frozen=True)
class Auth:
    """The authenticated caller: the user and the login session (refresh-token family) in use."""

    user: UserRecord
    session_id: uuid.UUID


class BearerToken(HTTPBearer):
    """The bearer scheme (declared in the OpenAPI document) that verifies the access token: signature,
    issuer, audience, expiry. It does NOT check the login session; :class:`SessionBearer` does."""

    async def __call__(self, request: Request) -> AccessClaims:  # type: ignore[override]
        scheme, token = get_authorization_scheme_param(request.headers.get("Authorization"))
        if not token or scheme.lower() != "bearer":
            raise unauthorized("missing bearer token; send Authorization: Bearer <accessToken>")
        try:
            return decode_access_token(request.app.state.resources.settings, token)
        except TokenError as exc:
            raise unauthorized(str(exc)) from None


class SessionBearer(BearerToken):
    """The bearer scheme that also checks that the token's login session still stands, in one
    dependency: every authenticated request resolves it, and each nested dependency (settings, the
    header, the resources) cost measurable CPU.

    The check has a connection of its own, given back before the handler runs: a write request that
    held it while its transaction waited for another would, as many at once as the pool has
    connections, hold them all and wait until the pool timeout."""

    async def __call__(self, request: Request) -> Auth:  # type: ignore[override]
        claims = await super().__call__(request)
        async with read_connection(request.app.state.resources.engine) as reader:
            user = await users_service.get_active_user(reader, claims.user_id, claims.session_id)
        if user is None:
            raise session_ended()
        return Auth(user=user, session_id=claims.session_id)


_SCHEME: dict[str, Any] = {
    "scheme_name": "HTTPBearer",
    "auto_error": False,
    "description": "the accessToken from /auth/login or /auth/register",
}
_session_bearer = SessionBearer(**_SCHEME)


AuthDep = Annotated[Auth, Depends(_session_bearer)]
# The verified token of a caller whose login session is NOT checked yet: only for a handler whose own
# statement checks it in the same round trip (the meeting list); every other route takes CurrentUser
# or AuthDep.
UncheckedToken = Annotated[AccessClaims, Depends(BearerToken(**_SCHEME))]


async def get_current_user(auth: AuthDep) -> UserRecord:
    return auth.user


CurrentUser = Annotated[UserRecord, Depends(get_current_user)]
