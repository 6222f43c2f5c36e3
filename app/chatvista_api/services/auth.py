"""Login sessions: issuing, rotating and revoking token pairs.

A login starts a session (a ``login_sessions`` row) and the chain of refresh tokens rotated from it.
The session row alone says whether any of its tokens still work: logout, a password change and
refresh-token reuse set its ``revoked_at``, and a token whose session row is missing or revoked is
refused. Each refresh token is single-use: refreshing marks it rotated and issues the next one.
Presenting a token that was already rotated means it leaked (or a client misbehaved), so the
session is revoked: the thief and the victim both have to log in again.

Lock order, everywhere: a user's row (``FOR NO KEY UPDATE``, only when changing the password),
then login sessions, then refresh tokens. A refresh locks its session before anything else, so a
logout or password change that revokes the session either waits for the refresh to commit (and
then revokes the session it extended) or commits first (and the refresh sees it revoked). Inserting
a token only takes a ``KEY SHARE`` lock on the user row, which a password change's ``NO KEY UPDATE``
does not block. Housekeeping (deleting expired rows) skips rows that others hold, so it never waits.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from chatvista_api.errors import APIError, session_ended, unauthorized
from chatvista_api.models import LoginSession, RefreshToken, User
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


def _expired_rows(model: type[LoginSession] | type[RefreshToken], user_id: uuid.UUID):
    return (
        select(model.id)
        .where(model.user_id == user_id, model.expires_at < func.now())
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )


async def _issue(db: AsyncSession, settings: Settings, user: User, login: LoginSession) -> IssuedTokens:
    # Nothing expired can be used any more; dropping the user's expired rows keeps the tables bounded.
    await db.execute(delete(LoginSession).where(LoginSession.id.in_(_expired_rows(LoginSession, user.id))))
    await db.execute(delete(RefreshToken).where(RefreshToken.id.in_(_expired_rows(RefreshToken, user.id))))
    refresh = new_refresh_token()
    expires_at = refresh_expiry(settings)
    login.expires_at = expires_at
    db.add(
        RefreshToken(
            id=uuid.uuid4(),
            user_id=user.id,
            session_id=login.id,
            token_hash=hash_refresh_token(refresh),
            expires_at=expires_at,
        )
    )
    await db.commit()
    return IssuedTokens(
        user=user,
        access_token=create_access_token(settings, user.id, login.id),
        refresh_token=refresh,
        expires_in=settings.access_token_ttl_seconds,
    )


async def _start(db: AsyncSession, settings: Settings, user: User) -> IssuedTokens:
    login = LoginSession(id=uuid.uuid4(), user_id=user.id, expires_at=refresh_expiry(settings))
    db.add(login)
    await db.flush()
    return await _issue(db, settings, user, login)


async def register(
    db: AsyncSession, settings: Settings, *, email: str, password: str, first_name: str, last_name: str
) -> IssuedTokens:
    user = await users_service.create_user(
        db, email=email, password=password, first_name=first_name, last_name=last_name
    )
    return await _start(db, settings, user)


async def login(db: AsyncSession, settings: Settings, *, email: str, password: str) -> IssuedTokens:
    # FOR SHARE: a password change (NO KEY UPDATE) waits until this login's session is committed, and
    # then revokes it with the others; or it commits first, and the old password no longer verifies.
    user = await users_service.get_by_email(db, email, lock_for_share=True)
    # An unknown email still pays for one argon2 verification, so it answers in the same time.
    if not await verify_password(user.password_hash if user else None, password) or user is None:
        raise APIError(401, "invalid_credentials", "email or password is wrong")
    issued = await _start(db, settings, user)
    if needs_rehash(user.password_hash):
        await users_service.upgrade_password_hash(db, user.id, user.password_hash, await hash_password(password))
    return issued


async def refresh(db: AsyncSession, settings: Settings, token: str) -> IssuedTokens:
    token_hash = hash_refresh_token(token)
    owner = select(RefreshToken.session_id).where(RefreshToken.token_hash == token_hash).scalar_subquery()
    login = (
        await db.execute(select(LoginSession).where(LoginSession.id == owner).with_for_update())
    ).scalar_one_or_none()
    current = (
        await db.execute(select(RefreshToken).where(RefreshToken.token_hash == token_hash).with_for_update())
    ).scalar_one_or_none()
    if login is None or current is None:
        raise unauthorized("the refresh token is not valid; log in again")
    if login.revoked_at is not None:
        raise session_ended()
    if current.rotated_at is not None:
        await revoke_session(db, login.id)
        raise APIError(
            401,
            "refresh_token_reused",
            "this refresh token was already used; the session is revoked for safety, log in again",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if current.expires_at <= datetime.now(UTC):
        raise unauthorized("the refresh token has expired; log in again")
    current.rotated_at = datetime.now(UTC)
    user = await db.get(User, login.user_id)
    if user is None:
        raise unauthorized("the account no longer exists")
    return await _issue(db, settings, user, login)


async def revoke_session(db: AsyncSession, session_id: uuid.UUID) -> None:
    await db.execute(
        update(LoginSession)
        .where(LoginSession.id == session_id, LoginSession.revoked_at.is_(None))
        .values(revoked_at=func.now())
    )
    await db.commit()
