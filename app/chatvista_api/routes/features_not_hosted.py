"""The frontend's calls for features this deployment does not host (docs/frontend.md has the table).

A list that a page loads answers empty, in the shape that page reads, so that it shows its empty state
instead of failing; it needs a signed-in user, like every list of yours. Every other call answers 501
``not_implemented`` with a message the page can show, naming the feature; it needs no sign-in, because
some are made signed out (forgot password, MFA at login) and the answer is the same for everyone. Bodies
and query strings are not read: there is nothing to do with them.

None of these is in the OpenAPI document, which describes what the API hosts (and whose fuzzing rightly
counts any 5xx as a server error); docs/frontend.md lists them.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Literal, NoReturn

from fastapi import APIRouter, Depends
from pydantic import Field

from chatvista_api.deps import get_current_user
from chatvista_api.errors import APIError, not_implemented
from chatvista_api.schemas import Schema


@dataclass(frozen=True)
class Feature:
    name: str
    message: str

    def error(self) -> APIError:
        return not_implemented(self.name, self.message)


def _feature(name: str, title: str, verb: str = "are", more: str = "") -> Feature:
    return Feature(name, f"{title} {verb} not hosted by this deployment{more}.")


RECORDINGS = _feature("recordings", "Recordings", more=": ChatVista keeps them in the browser that recorded them")
TRANSCRIPTS = _feature("transcripts", "Transcripts")
MINUTES = _feature("minutes", "Meeting minutes")
EXPORTS = _feature("exports", "Exports")
ANALYTICS = _feature("analytics", "Detailed analytics", more="; the dashboard summary is")
INTEGRATIONS = _feature("integrations", "Integrations")
STORAGE = _feature("storage", "File storage", verb="is")
AVATARS = _feature("avatars", "Avatars", more="; your initials stand in")
MFA = _feature("mfa", "Two-factor authentication", verb="is")
EMAIL_VERIFICATION = _feature("email-verification", "Email verification", verb="is", more="; accounts work without it")
PASSWORD_RESET = _feature(
    "password-reset", "Password reset by email", verb="is", more="; signed in, change your password on your profile"
)
INVITATIONS = _feature("invitations", "Email invitations", more="; share the meeting's access code instead")
USER_ADMINISTRATION = _feature("user-administration", "User administration", verb="is")


class IntegrationList(Schema):
    integrations: list[Any] = Field(default_factory=list, max_length=0)


class FileList(Schema):
    files: list[Any] = Field(default_factory=list, max_length=0)
    source: Literal["none"] = "none"


# (path, the shape its page reads, the empty answer): the recordings, transcripts and minutes pages take
# the array itself, the integrations page reads ``.integrations`` of both of its calls.
EMPTY_LISTS: list[tuple[str, Any, Callable[[], Any]]] = [
    ("/recordings", list[Any], list),
    ("/transcripts", list[Any], list),
    ("/minutes", list[Any], list),
    ("/exports", list[Any], list),
    ("/integrations", IntegrationList, IntegrationList),
    ("/integrations/available", IntegrationList, IntegrationList),
    ("/storage/{kind}", FileList, FileList),
]

# (method, path, feature): every other call of ``src/lib/api.ts`` for these features.
ACTIONS: list[tuple[str, str, Feature]] = [
    ("POST", "/auth/mfa/verify", MFA),
    ("GET", "/auth/mfa/enable", MFA),
    ("POST", "/auth/mfa/confirm", MFA),
    ("POST", "/auth/mfa/disable", MFA),
    ("POST", "/auth/verify-email/{token}", EMAIL_VERIFICATION),
    ("POST", "/auth/forgot-password", PASSWORD_RESET),
    ("POST", "/auth/reset-password", PASSWORD_RESET),
    ("POST", "/meetings/{meeting_id}/invite", INVITATIONS),
    ("GET", "/recordings/{recording_id}", RECORDINGS),
    ("POST", "/recordings/start", RECORDINGS),
    ("POST", "/recordings/{recording_id}/stop", RECORDINGS),
    ("DELETE", "/recordings/{recording_id}", RECORDINGS),
    ("GET", "/recordings/{recording_id}/download", RECORDINGS),
    ("GET", "/transcripts/{meeting_id}", TRANSCRIPTS),
    ("GET", "/transcripts/{meeting_id}/download", TRANSCRIPTS),
    ("GET", "/minutes/{meeting_id}", MINUTES),
    ("POST", "/minutes/{meeting_id}/generate", MINUTES),
    ("POST", "/minutes/{minutes_id}/regenerate", MINUTES),
    ("GET", "/minutes/{meeting_id}/download", MINUTES),
    ("POST", "/exports", EXPORTS),
    ("GET", "/exports/{export_id}", EXPORTS),
    ("GET", "/analytics/meetings/{meeting_id}", ANALYTICS),
    ("GET", "/analytics/user", ANALYTICS),
    ("GET", "/analytics/organization", ANALYTICS),
    ("GET", "/users", USER_ADMINISTRATION),
    ("PUT", "/users/{user_id}", USER_ADMINISTRATION),
    ("DELETE", "/users/{user_id}", USER_ADMINISTRATION),
    ("PUT", "/users/{user_id}/role", USER_ADMINISTRATION),
    ("POST", "/users/me/avatar", AVATARS),
    ("POST", "/integrations/{provider_id}/connect", INTEGRATIONS),
    ("DELETE", "/integrations/{integration_id}", INTEGRATIONS),
    ("POST", "/integrations/{integration_id}/sync", INTEGRATIONS),
    ("POST", "/storage/{kind}/upload", STORAGE),
    ("GET", "/storage/{kind}/{file_id}/url", STORAGE),
    ("DELETE", "/storage/{kind}/{file_id}", STORAGE),
    ("GET", "/storage/admin/stats", STORAGE),
    ("POST", "/storage/admin/sync/local-to-cloud", STORAGE),
    ("POST", "/storage/admin/sync/cloud-to-local", STORAGE),
    ("GET", "/storage/admin/sync/status", STORAGE),
    ("POST", "/storage/admin/backup", STORAGE),
    ("POST", "/storage/admin/cleanup", STORAGE),
]


def _answer(empty: Callable[[], Any]) -> Callable[[], Coroutine[Any, Any, Any]]:
    async def answer() -> Any:
        return empty()

    return answer


def _refuse(feature: Feature) -> Callable[[], Coroutine[Any, Any, NoReturn]]:
    async def refuse() -> NoReturn:
        raise feature.error()

    return refuse


def _router() -> APIRouter:
    router = APIRouter(include_in_schema=False)
    for path, shape, empty in EMPTY_LISTS:
        router.add_api_route(
            path, _answer(empty), methods=["GET"], response_model=shape, dependencies=[Depends(get_current_user)]
        )
    for method, path, feature in ACTIONS:
        router.add_api_route(path, _refuse(feature), methods=[method], response_model=None)
    return router


router = _router()
