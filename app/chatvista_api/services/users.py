"""Users: lookup, profile changes and who may see whom."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, exists, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from chatvista_api.db import Executor, compile_sql, driver_connection
from chatvista_api.errors import APIError
from chatvista_api.models import LoginSession, Participant, User
from chatvista_api.security import check_new_password, hash_password, verify_password


@dataclass(frozen=True, slots=True)
class UserRecord:
    """A user as the request sees it: plain columns, no password hash, not tied to an ORM session."""

    id: uuid.UUID
    email: str
    first_name: str
    last_name: str
    created_at: datetime


_RECORD_COLUMNS = (User.id, User.email, User.first_name, User.last_name, User.created_at)


def _record(row) -> UserRecord:
    return UserRecord(row.id, row.email, row.first_name, row.last_name, row.created_at)


def normalize_email(email: str) -> str:
    return email.strip().lower()


_ACTIVE_USER = compile_sql(
    select(*_RECORD_COLUMNS)
    .join(LoginSession, LoginSession.user_id == User.id)
    .where(
        User.id == bindparam("user_id"),
        LoginSession.id == bindparam("session_id"),
        LoginSession.revoked_at.is_(None),
        LoginSession.expires_at > func.now(),
    )
)


async def get_active_user(db: Executor, user_id: uuid.UUID, session_id: uuid.UUID) -> UserRecord | None:
    """The user behind an access token, provided its login session exists and stands (logout, a
    password change and refresh-token reuse revoke it). Fails closed: no session row, no user. One
    precompiled statement: this runs on every authenticated request."""
    connection = await driver_connection(db)
    cursor = await connection.execute(_ACTIVE_USER, {"user_id": user_id, "session_id": session_id})
    row = await cursor.fetchone()
    return UserRecord(*row) if row is not None else None


async def get_by_email(db: AsyncSession, email: str, *, lock_for_share: bool = False) -> User | None:
    query = select(User).where(User.email == normalize_email(email))
    if lock_for_share:
        query = query.with_for_update(read=True)
    return (await db.execute(query)).scalar_one_or_none()


async def upgrade_password_hash(db: AsyncSession, user_id: uuid.UUID, old_hash: str, new_hash: str) -> None:
    """Store a stronger hash of the same password, unless the password changed meanwhile."""
    await db.execute(
        update(User).where(User.id == user_id, User.password_hash == old_hash).values(password_hash=new_hash)
    )
    await db.commit()


async def create_user(db: AsyncSession, *, email: str, password: str, first_name: str, last_name: str) -> User:
    email = normalize_email(email)
    await check_new_password(password, field="password", email=email, names=(first_name, last_name))
    user = User(
        id=uuid.uuid4(),
        email=email,
        password_hash=await hash_password(password),
        first_name=first_name,
        last_name=last_name,
    )
    db.add(user)
    try:
        await db.flush()
    except IntegrityError:
        await db.rollback()
        raise APIError(409, "email_taken", "an account with this email already exists; log in instead") from None
    await db.refresh(user)
    return user


async def update_profile(
    db: AsyncSession, user_id: uuid.UUID, *, first_name: str | None, last_name: str | None
) -> UserRecord:
    changes = {k: v for k, v in (("first_name", first_name), ("last_name", last_name)) if v is not None}
    statement = update(User).where(User.id == user_id).values(**changes, updated_at=func.now())
    row = (await db.execute(statement.returning(*_RECORD_COLUMNS))).one()
    await db.commit()
    return _record(row)


async def change_password(
    db: AsyncSession, user_id: uuid.UUID, *, current_password: str, new_password: str, keep_session: uuid.UUID
) -> None:
    """Set a new password and end every other login session (their refresh and access tokens).

    The user's row is locked ``FOR NO KEY UPDATE``, not ``FOR UPDATE``: a refresh on another device
    inserts a token, whose foreign key takes a ``KEY SHARE`` lock on this row while it holds its login
    session's row lock, and ``FOR UPDATE`` would block it while this waits for that row: a deadlock."""
    locked = select(User).where(User.id == user_id).with_for_update(key_share=True)
    user = (await db.execute(locked)).scalar_one()
    if not await verify_password(user.password_hash, current_password):
        raise APIError(403, "invalid_password", "the current password is wrong")
    await check_new_password(
        new_password,
        field="newPassword",
        email=user.email,
        names=(user.first_name, user.last_name),
        label="new password",
    )
    if new_password == current_password:
        raise APIError(
            422, "weak_password", "the new password must differ from the current one", {"field": "newPassword"}
        )
    user.password_hash = await hash_password(new_password)
    await db.execute(
        update(LoginSession)
        .where(LoginSession.user_id == user.id, LoginSession.id != keep_session, LoginSession.revoked_at.is_(None))
        .values(revoked_at=func.now())
    )
    await db.commit()


def _visible(*, other: bool) -> str:
    query = select(*_RECORD_COLUMNS).where(User.id == bindparam("user_id"))
    if other:
        mine, theirs = aliased(Participant), aliased(Participant)
        # Through a meeting the viewer was removed from, they see no one (those who joined after least of all).
        shared = exists().where(
            mine.user_id == bindparam("viewer_id"),
            mine.removed_at.is_(None),
            theirs.user_id == User.id,
            mine.meeting_id == theirs.meeting_id,
        )
        query = query.where(shared)
    return compile_sql(query)


_VISIBLE = {other: _visible(other=other) for other in (False, True)}


async def visible_user(reader: Executor, viewer_id: uuid.UUID, user_id: uuid.UUID) -> UserRecord | None:
    """``user_id`` as seen by ``viewer_id``: themselves, or someone they share a meeting with."""
    connection = await driver_connection(reader)
    cursor = await connection.execute(_VISIBLE[viewer_id != user_id], {"viewer_id": viewer_id, "user_id": user_id})
    row = await cursor.fetchone()
    return UserRecord(*row) if row is not None else None
