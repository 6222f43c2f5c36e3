"""Request and response bodies. JSON is camelCase; Python stays snake_case."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, EmailStr, Field, StringConstraints
from pydantic.alias_generators import to_camel

from chatvista_api.security import PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CONTROL_OR_NEWLINE = re.compile(r"[\x00-\x1f\x7f]")


def _clean(pattern: re.Pattern[str]):
    """Text PostgreSQL can store and people can read: no NUL or control characters, valid UTF-8."""

    def check(value: str) -> str:
        if pattern.search(value):
            raise ValueError("must not contain control characters")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("must be valid Unicode text") from None
        return value

    return AfterValidator(check)


Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), _clean(_CONTROL_OR_NEWLINE)
]
# A password being set: length is part of the schema; the common-password check is in
# security.password_problem. A password being checked (login) only has to be non-empty.
NewPassword = Annotated[str, Field(min_length=PASSWORD_MIN_LENGTH, max_length=PASSWORD_MAX_LENGTH)]
Password = Annotated[str, Field(min_length=1, max_length=PASSWORD_MAX_LENGTH)]
Title = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), _clean(_CONTROL_OR_NEWLINE)
]
Description = Annotated[str, Field(max_length=5000), _clean(_CONTROL)]


def _iso_text(value: object) -> object:
    """The schema says an ISO 8601 string; pydantic alone would also take a number as Unix time."""
    if not isinstance(value, str | datetime):
        raise ValueError("must be an ISO 8601 date-time string, e.g. 2026-01-31T18:00:00Z")
    return value


Timestamp = Annotated[datetime, BeforeValidator(_iso_text)]


class Schema(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, from_attributes=True)


class Body(Schema):
    model_config = ConfigDict(extra="forbid")


# --- users -------------------------------------------------------------------------------------


class UserOut(Schema):
    id: uuid.UUID
    email: str
    first_name: str
    last_name: str
    created_at: datetime


class UserPublic(Schema):
    """What another participant of a shared meeting sees."""

    id: uuid.UUID
    first_name: str
    last_name: str


class UserUpdate(Body):
    first_name: Name | None = None
    last_name: Name | None = None


class ChangePassword(Body):
    current_password: Password
    new_password: NewPassword


# --- auth --------------------------------------------------------------------------------------


class Register(Body):
    email: EmailStr
    password: NewPassword
    first_name: Name
    last_name: Name


class Login(Body):
    email: EmailStr
    password: Password


class Refresh(Body):
    refresh_token: Annotated[str, Field(min_length=1, max_length=200)]


class TokenPair(Schema):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="seconds until the access token expires")


class AuthResult(TokenPair):
    user: UserOut


# --- meetings ----------------------------------------------------------------------------------

MeetingStatusName = Literal["scheduled", "live", "ended"]


class MeetingCreate(Body):
    title: Title
    description: Description | None = None
    scheduled_at: Timestamp | None = None


class MeetingUpdate(Body):
    title: Title = Field(default=None, description="omit to keep; cannot be null")  # type: ignore[assignment]
    description: Description | None = None
    scheduled_at: Timestamp | None = None


class MeetingOut(Schema):
    id: uuid.UUID
    title: str
    description: str | None
    status: MeetingStatusName
    host_id: uuid.UUID
    room_id: uuid.UUID
    access_code: str | None = Field(description="shown to the host only; others get null")
    scheduled_at: datetime | None
    started_at: datetime | None
    ended_at: datetime | None
    created_at: datetime
    is_host: bool


class MeetingPage(Schema):
    items: list[MeetingOut]
    total: int
    page: int
    page_size: int


class JoinMeeting(Body):
    access_code: Annotated[str, Field(max_length=64)] | None = None


ParticipantRoleName = Literal["host", "participant"]


class ParticipantOut(Schema):
    user_id: uuid.UUID
    first_name: str
    last_name: str
    role: ParticipantRoleName
    joined_at: datetime
    left_at: datetime | None


class StunServer(Schema):
    """An ICE server without credentials. It has no ``username``/``credential`` keys at all, so the
    entry can go to ``RTCPeerConnection`` as it is (a ``null`` there becomes the string "null")."""

    urls: list[str]


class TurnServer(Schema):
    urls: list[str]
    username: str
    credential: str


class RtcConfig(Schema):
    ice_servers: list[StunServer | TurnServer]
    expires_at: datetime | None = Field(description="when the TURN credentials stop working; null without TURN")


# --- health ------------------------------------------------------------------------------------


class Health(Schema):
    status: Literal["ok"]


class Readiness(Schema):
    status: Literal["ok", "degraded", "unavailable"]
    checks: dict[str, str]
    rate_limit: Literal["redis", "per-process", "disabled"]
    signaling: Literal["redis", "single-instance"] = Field(
        description="redis: rooms span every instance; single-instance: no REDIS_URL, run one instance only"
    )
