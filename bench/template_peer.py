"""The peer for ``bench/api_load.py``: the meeting list written the way fastapi/full-stack-fastapi-template
writes its list endpoints (``backend/app/api/deps.py`` and ``api/routes/items.py``), on SQLAlchemy's async ORM.

An ORM session per request from a ``Depends`` generator, the bearer token read by ``OAuth2PasswordBearer``,
a ``get_current_user`` dependency that decodes the JWT into a pydantic payload and loads the user, and a
handler that selects ORM rows and returns a ``response_model`` built from them. No caching. It runs the same
two queries as the API did before it merged them: the user behind the token's login session, and the page
of meetings with each one's participant count and the total as a window function. It reads the API's
tables (``chatvista_api.models``) and accepts the API's access tokens (same secret, issuer and audience).

    PEER_DATABASE_URL=postgresql+psycopg://... JWT_SECRET=... uvicorn template_peer:app
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated

import jwt
from fastapi import Depends, FastAPI, HTTPException, status
from fastapi.security import OAuth2PasswordBearer
from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import aliased

from chatvista_api.models import LoginSession, Meeting, Participant, User

engine = create_async_engine(
    os.environ["PEER_DATABASE_URL"], pool_size=int(os.environ.get("DB_POOL_SIZE", "5")), max_overflow=0
)
SessionLocal = async_sessionmaker(engine, expire_on_commit=False)
SECRET_KEY = os.environ["JWT_SECRET"]

reusable_oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/login")


async def get_db() -> AsyncIterator[AsyncSession]:
    async with SessionLocal() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_db)]
TokenDep = Annotated[str, Depends(reusable_oauth2)]


class TokenPayload(BaseModel):
    sub: uuid.UUID
    sid: uuid.UUID


async def get_current_user(session: SessionDep, token: TokenDep) -> User:
    try:
        payload = jwt.decode(token, SECRET_KEY, algorithms=["HS256"], audience="chatvista", issuer="chatvista-api")
        token_data = TokenPayload(**payload)
    except (jwt.InvalidTokenError, ValidationError):
        raise HTTPException(status_code=status.HTTP_403_FORBIDDEN, detail="Could not validate credentials") from None
    user = await session.scalar(
        select(User)
        .join(LoginSession, LoginSession.user_id == User.id)
        .where(
            User.id == token_data.sub,
            LoginSession.id == token_data.sid,
            LoginSession.revoked_at.is_(None),
            LoginSession.expires_at > func.now(),
        )
    )
    if user is None:
        raise HTTPException(status_code=status.HTTP_401_UNAUTHORIZED, detail="Session ended")
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


class MeetingPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    title: str
    description: str | None
    status: str
    host_id: uuid.UUID
    room_id: uuid.UUID
    access_code: str | None
    scheduled_at: datetime | None
    started_at: datetime | None
    ended_at: datetime | None
    created_at: datetime
    participant_count: int


class MeetingsPublic(BaseModel):
    data: list[MeetingPublic]
    count: int


app = FastAPI()


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/api/v1/meetings", response_model=MeetingsPublic)
async def read_meetings(
    session: SessionDep, current_user: CurrentUser, skip: int = 0, limit: int = 20
) -> MeetingsPublic:
    counted = aliased(Participant)
    participant_count = (
        select(func.count()).where(counted.meeting_id == Meeting.id).correlate(Meeting).scalar_subquery()
    )
    statement = (
        select(Meeting, participant_count, func.count().over())
        .join(Participant, Participant.meeting_id == Meeting.id)
        .where(Participant.user_id == current_user.id)
        .order_by(Meeting.created_at.desc(), Meeting.id.desc())
        .offset(skip)
        .limit(limit)
    )
    rows = (await session.execute(statement)).all()
    data = [
        MeetingPublic.model_validate(
            {
                **{c: getattr(meeting, c) for c in MeetingPublic.model_fields if c != "participant_count"},
                "participant_count": participants,
            }  # fmt: skip
        )
        for meeting, participants, _ in rows
    ]
    return MeetingsPublic(data=data, count=rows[0][2] if rows else 0)
