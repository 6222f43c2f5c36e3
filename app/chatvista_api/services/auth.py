"""Login sessions: issuing, rotating and revoking token pairs.

A login starts a session, the *family* of refresh tokens rotated from it. Each refresh token is
single-use: refreshing marks it rotated and issues the next one in the family. Presenting a token
that was already rotated means it leaked (or a client misbehaved), so the whole family is revoked:
the thief and the victim both have to log in again.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from chatvista_api.errors import APIError, unauthorized
from chatvista_api.models import RefreshToken, User
from chatvista_api.security import (
    create_access_token,
    hash_password,
    hash_refresh_token,
    needs_rehash,
    new_refresh_token,
    refresh_expiry,
    verify_password,
)
from chatvista_api.services import users as users_service
from chatvista_api.settings import Settings


@dataclass(frozen=True)
class IssuedTokens:
    user: User
    access_token: str
    refresh_token: str
    expires_in: int


async def _issue(session: AsyncSession, settings: Settings, user: User, family_id: uuid.UUID) -> IssuedTokens:
    # Expired tokens are refused anyway; dropping the user's old ones here keeps the table bounded.
    await session.execute(
        delete(RefreshToken).where(RefreshToken.user_id == user.id, RefreshToken.expires_at < func.now())
    )
    refresh = new_refresh_token()
    session.add(
        RefreshToken(
            id=uuid.uuid4(),
            user_id=user.id,
            family_id=family_id,
            token_hash=hash_refresh_token(refresh),
            expires_at=refresh_expiry(settings),
        )
    )
    await session.commit()
    return IssuedTokens(
        user=user,
        access_token=create_access_token(settings, user.id, family_id),
        refresh_token=refresh,
        expires_in=settings.access_token_ttl_seconds,
    )


async def register(
    session: AsyncSession, settings: Settings, *, email: str, password: str, first_name: str, last_name: str
) -> IssuedTokens:
    user = await users_service.create_user(
        session, email=email, password=password, first_name=first_name, last_name=last_name
    )
    return await _issue(session, settings, user, uuid.uuid4())


async def login(session: AsyncSession, settings: Settings, *, email: str, password: str) -> IssuedTokens:
    user = await users_service.get_by_email(session, email)
    # An unknown email still pays for one argon2 verification, so it answers in the same time.
    if not await verify_password(user.password_hash if user else None, password) or user is None:
        raise APIError(401, "invalid_credentials", "email or password is wrong")
    if needs_rehash(user.password_hash):
        user.password_hash = await hash_password(password)
    return await _issue(session, settings, user, uuid.uuid4())


async def refresh(session: AsyncSession, settings: Settings, token: str) -> IssuedTokens:
    result = await session.execute(
        select(RefreshToken).where(RefreshToken.token_hash == hash_refresh_token(token)).with_for_update()
    )
    current = result.scalar_one_or_none()
    if current is None:
        raise unauthorized("the refresh token is not valid; log in again")
    if current.revoked_at is not None:
        raise unauthorized("the session has ended; log in again")
    if current.rotated_at is not None:
        await revoke_session(session, current.family_id)
        raise APIError(
            401,
            "refresh_token_reused",
            "this refresh token was already used; the session is revoked for safety, log in again",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if current.expires_at <= datetime.now(UTC):
        raise unauthorized("the refresh token has expired; log in again")
    current.rotated_at = datetime.now(UTC)
    user = await session.get(User, current.user_id)
    if user is None:
        raise unauthorized("the account no longer exists")
    return await _issue(session, settings, user, current.family_id)


async def revoke_session(session: AsyncSession, family_id: uuid.UUID) -> None:
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=func.now())
    )
    await session.commit()
