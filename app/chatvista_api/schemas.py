"""Request and response bodies. JSON is camelCase; Python stays snake_case."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    ValidationInfo,
    computed_field,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from chatvista_api.security import PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH
from chatvista_api.text import check_free_text, check_label, nfc

# Names and titles are what participants see of each other and of a meeting (text.check_label); a
# description is free text (text.check_free_text). Both are stored in NFC, and measured in it (the
# BeforeValidator wraps the constraints before it, so it runs first).
Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
    BeforeValidator(nfc),
    AfterValidator(check_label),
]
# A password being set: length is part of the schema; how guessable it is, is judged by
# security.password_problem. A password being checked (login) only has to be non-empty.
NewPassword = Annotated[str, Field(min_length=PASSWORD_MIN_LENGTH, max_length=PASSWORD_MAX_LENGTH)]
Password = Annotated[str, Field(min_length=1, max_length=PASSWORD_MAX_LENGTH)]
Title = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    BeforeValidator(nfc),
    AfterValidator(check_label),
]
Description = Annotated[str, StringConstraints(max_length=5000), BeforeValidator(nfc), AfterValidator(check_free_text)]


def _iso_text(value: object) -> object:
    """The schema says an ISO 8601 string; pydantic alone would also take a number as Unix time."""
    if not isinstance(value, str | datetime):
        raise ValueError("must be an ISO 8601 date-time string, e.g. 2026-01-31T18:00:00Z")
    return value


Timestamp = Annotated[datetime, BeforeValidator(_iso_text)]


class Schema(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, from_attributes=True)


class Body(Schema):
    """A request body. Unknown fields are refused, except the few the ChatVista frontend sends, which
    are declared on purpose (docs/frontend.md lists them)."""

    model_config = ConfigDict(extra="forbid")


class Message(Schema):
    """The answer of an action that has nothing else to return: the frontend calls ``.json()`` on every
    success, so even these answer a JSON body (never a 204)."""

    message: str


# --- users -------------------------------------------------------------------------------------


def full_name(first_name: str, last_name: str) -> str:
    return f"{first_name} {last_name}".strip()


class UserOut(Schema):
    """The account, with the fields the frontend reads: AuthContext maps ``displayName``, ``avatarUrl``,
    ``role`` and ``mfaEnabled``; the dashboard and settings pages read ``name`` and ``avatar``."""

    id: uuid.UUID
    email: str
    first_name: str
    last_name: str
    created_at: datetime
    avatar: None = Field(default=None, description="always null: this deployment hosts no avatars")
    avatar_url: None = Field(default=None, description="always null: this deployment hosts no avatars")
    role: Literal["HOST"] = Field(
        default="HOST", description="every account may host meetings; there are no admin roles"
    )
    mfa_enabled: Literal[False] = Field(default=False, description="always false: this deployment hosts no MFA")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def name(self) -> str:
        return full_name(self.first_name, self.last_name)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def display_name(self) -> str:
        return full_name(self.first_name, self.last_name)


class UserPublic(Schema):
    """What another participant of a shared meeting sees."""

    id: uuid.UUID
    first_name: str
    last_name: str


FullName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=201),
    BeforeValidator(nfc),
    AfterValidator(check_label),
]


class UserUpdate(Body):
    first_name: Name | None = None
    last_name: Name | None = None
    # ``name`` and ``avatar`` are what the frontend sends: the profile page ``{name}``, the settings page
    # ``{name, avatar}`` with the avatar it loaded (always empty here).
    name: FullName | None = Field(
        default=None, description="the full name: its first word is firstName, the rest lastName"
    )
    avatar: str | None = Field(
        default=None,
        description="empty or null only: this deployment hosts no avatars",
        json_schema_extra={"maxLength": 0},
    )

    @field_validator("name")
    @classmethod
    def _whole_name(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return value
        if info.data.get("first_name") is not None or info.data.get("last_name") is not None:
            raise ValueError("send name, or firstName and lastName, not both")
        words = value.split()
        first, rest = words[0], " ".join(words[1:])
        if len(first) > 100 or len(rest) > 100:
            raise ValueError("its first word and the rest must each be at most 100 characters")
        # Each part is shown on its own (firstName, lastName), so each must be a name by itself.
        return " ".join([check_label(first), *([check_label(rest)] if rest else [])])

    @field_validator("avatar")
    @classmethod
    def _no_avatar(cls, value: str | None) -> str | None:
        if value:
            raise ValueError("this deployment hosts no avatars; send an empty avatar")
        return value

    @property
    def names(self) -> tuple[str | None, str | None]:
        """(first name, last name) to store; None keeps the current one."""
        if self.name is None:
            return self.first_name, self.last_name
        first, _, last = self.name.partition(" ")
        return first, last


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
    # ``type`` and ``scheduledStartTime`` are what the frontend sends (the dashboard's "Start Meeting",
    # the meetings page and the schedule modal); ``scheduledAt`` stays for API clients.
    type: Literal["INSTANT", "SCHEDULED"] = Field(default="SCHEDULED", description="INSTANT starts the meeting now")
    scheduled_at: Timestamp | None = None
    scheduled_start_time: Timestamp | None = Field(default=None, description="the frontend's name for scheduledAt")

    @field_validator("scheduled_at", "scheduled_start_time")
    @classmethod
    def _one_start(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        if value is None:
            return value
        if info.data.get("type") == "INSTANT":
            raise ValueError("an INSTANT meeting starts now; leave out the start time")
        if info.field_name == "scheduled_start_time" and info.data.get("scheduled_at") is not None:
            raise ValueError("send scheduledAt or scheduledStartTime, not both")
        return value

    @property
    def start_time(self) -> datetime | None:
        return self.scheduled_at or self.scheduled_start_time


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
    participant_count: int = Field(description="everyone who has joined, the host included")
    duration: int = Field(description="minutes from start to end (to now while live); 0 before it starts")
    has_recording: Literal[False] = Field(default=False, description="recordings stay in the browser")
    has_transcript: Literal[False] = Field(default=False, description="this deployment hosts no transcripts")


class MeetingListQuery(Schema):
    """``GET /meetings``'s query. The frontend sends ``page``, ``limit`` and ``status``; ``pageSize`` is
    the older name of ``limit``. Anything else is refused, like an unknown body field."""

    model_config = ConfigDict(extra="forbid")

    page: int = Field(default=1, ge=1, le=10_000)
    limit: int | None = Field(default=None, ge=1, le=100, description="page size (default 20)")
    page_size: int | None = Field(
        default=None, ge=1, le=100, description="the older name of limit", json_schema_extra={"deprecated": True}
    )
    status: MeetingStatusName | None = None

    @model_validator(mode="after")
    def _one_page_size(self) -> MeetingListQuery:
        if self.limit is not None and self.page_size is not None:
            raise ValueError("send limit or pageSize (its older name), not both")
        return self

    @property
    def size(self) -> int:
        return self.limit or self.page_size or 20


class MeetingPage(Schema):
    """A page of meetings, in the shape the dashboard and the meetings page read."""

    meetings: list[MeetingOut]
    total: int
    page: int
    limit: int


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


# --- the dashboard summary ---------------------------------------------------------------------


def _not_hosted(what: str):
    return Field(default_factory=list, max_length=0, description=f"{what}: not hosted by this deployment, always empty")


class DashboardOverview(Schema):
    total_meetings: int
    total_minutes: int
    total_participants: int = Field(description="other people who took part in your meetings")
    total_recordings: Literal[0] = Field(default=0, description="recordings stay in the browser")


class DashboardSummary(Schema):
    """``GET /analytics/dashboard``: the dashboard page's four stats at the top level, and what the
    analytics page renders of the same call (``overview``, the breakdowns, the averages). The trend
    fields that page also knows (``meetingsChange``…) are left out: it hides a trend that is absent."""

    total_meetings: int = Field(description="meetings you host or have joined")
    total_minutes: int = Field(description="the minutes they ran, the sum of their duration")
    upcoming_meetings: int = Field(description="those not started yet (the meetings page's Upcoming)")
    recordings: Literal[0] = Field(default=0, description="recordings stay in the browser")
    overview: DashboardOverview
    meetings_by_day: list[Any] = _not_hosted("meetings per day")
    meetings_by_type: list[Any] = _not_hosted("meetings per type")
    top_participants: list[Any] = _not_hosted("the people you meet most")
    peak_hours: list[Any] = _not_hosted("meetings per hour of the day")
    average_duration: int = Field(description="minutes, over the meetings that started")
    average_participants: float = Field(description="per meeting, you included")


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
