"""The frontend's calls for features this deployment does not host (recordings stay in the browser;
transcripts, minutes, exports, integrations, storage, MFA, email, detailed analytics and user
administration are not part of it). A list a page loads answers empty, in the shape the page reads, so
it shows its empty state; every other call answers 501 ``not_implemented`` with a message naming the
feature. docs/frontend.md has the same table."""

from __future__ import annotations

import pytest

from tests.app.contract.frontend import ApiError, Frontend

pytestmark = pytest.mark.anyio

ID = "3f6c2a9e-1d4b-4c8e-9a7f-2b5d8e1c4a60"

# (endpoint, what the page reads): recordings/page.tsx, transcripts/page.tsx and minutes/page.tsx
# setState the array itself; integrations/page.tsx reads .integrations of both calls.
EMPTY_LISTS = [
    ("/recordings", []),
    ("/transcripts", []),
    ("/minutes", []),
    ("/exports", []),
    ("/integrations", {"integrations": []}),
    ("/integrations/available", {"integrations": []}),
    ("/storage/recordings", {"files": [], "source": "none"}),
]

# (method, endpoint, body as api.ts sends it, the feature the message names)
ACTIONS = [
    ("POST", "/auth/mfa/verify", {"mfaToken": "t", "code": "123456"}, "Two-factor authentication"),
    ("GET", "/auth/mfa/enable", None, "Two-factor authentication"),
    ("POST", "/auth/mfa/confirm", {"code": "123456"}, "Two-factor authentication"),
    ("POST", "/auth/mfa/disable", {"code": "123456"}, "Two-factor authentication"),
    ("POST", "/auth/verify-email/some-token", None, "Email verification"),
    ("POST", "/auth/forgot-password", {"email": "a@example.com"}, "Password reset by email"),
    ("POST", "/auth/reset-password", {"token": "t", "password": "p"}, "Password reset by email"),
    ("POST", f"/meetings/{ID}/invite", {"emails": ["a@example.com"]}, "Email invitations"),
    ("GET", f"/recordings/{ID}", None, "Recordings"),
    ("POST", "/recordings/start", {"meetingId": ID}, "Recordings"),
    ("POST", f"/recordings/{ID}/stop", None, "Recordings"),
    ("DELETE", f"/recordings/{ID}", None, "Recordings"),
    ("GET", f"/recordings/{ID}/download", None, "Recordings"),
    ("GET", f"/transcripts/{ID}", None, "Transcripts"),
    ("GET", f"/transcripts/{ID}/download?format=txt", None, "Transcripts"),
    ("GET", f"/minutes/{ID}", None, "Meeting minutes"),
    ("POST", f"/minutes/{ID}/generate", None, "Meeting minutes"),
    ("POST", f"/minutes/{ID}/regenerate", None, "Meeting minutes"),
    ("GET", f"/minutes/{ID}/download?format=pdf", None, "Meeting minutes"),
    ("POST", "/exports", {"meetingId": ID, "type": "full", "format": "pdf"}, "Exports"),
    ("GET", f"/exports/{ID}", None, "Exports"),
    ("GET", f"/analytics/meetings/{ID}", None, "Detailed analytics"),
    ("GET", "/analytics/user", None, "Detailed analytics"),
    ("GET", "/analytics/organization", None, "Detailed analytics"),
    ("GET", "/users?page=1&limit=20", None, "User administration"),
    ("PUT", f"/users/{ID}", {"name": "x"}, "User administration"),
    ("DELETE", f"/users/{ID}", None, "User administration"),
    ("PUT", f"/users/{ID}/role", {"role": "HOST"}, "User administration"),
    ("POST", "/users/me/avatar", None, "Avatars"),
    ("POST", "/integrations/google-calendar/connect", {"redirectUri": "https://x/cb"}, "Integrations"),
    ("DELETE", f"/integrations/{ID}", None, "Integrations"),
    ("POST", f"/integrations/{ID}/sync", None, "Integrations"),
    ("POST", "/storage/recordings/upload", None, "File storage"),
    ("GET", f"/storage/recordings/{ID}/url?expiresIn=60", None, "File storage"),
    ("DELETE", f"/storage/recordings/{ID}", None, "File storage"),
    ("GET", "/storage/admin/stats", None, "File storage"),
    ("POST", "/storage/admin/sync/local-to-cloud", None, "File storage"),
    ("POST", "/storage/admin/sync/cloud-to-local", None, "File storage"),
    ("GET", "/storage/admin/sync/status", None, "File storage"),
    ("POST", "/storage/admin/backup", None, "File storage"),
    ("POST", "/storage/admin/cleanup", {"retentionDays": 30}, "File storage"),
]


@pytest.fixture
async def tab(signed_in) -> Frontend:
    return await signed_in()


@pytest.mark.parametrize(("endpoint", "empty"), EMPTY_LISTS)
async def test_a_list_of_an_unhosted_feature_is_empty_in_the_shape_its_page_reads(
    tab: Frontend, endpoint: str, empty
) -> None:
    assert await tab.request(endpoint) == empty


@pytest.mark.parametrize(("method", "endpoint", "body", "feature"), ACTIONS)
async def test_an_action_of_an_unhosted_feature_is_a_501_naming_it(
    tab: Frontend, method: str, endpoint: str, body, feature: str
) -> None:
    with pytest.raises(ApiError) as unhosted:
        await tab.request(endpoint, method=method, body=body)

    assert unhosted.value.status == 501 and unhosted.value.code == "not_implemented"
    assert (
        unhosted.value.message.startswith(f"{feature} ") and "not hosted by this deployment" in unhosted.value.message
    )


async def test_the_empty_lists_need_a_signed_in_user_like_every_list_of_yours(anonymous: Frontend) -> None:
    for endpoint, _ in EMPTY_LISTS:
        with pytest.raises(ApiError) as error:
            await anonymous.request(endpoint)
        assert error.value.status == 401


async def test_the_calls_made_signed_out_get_the_501_too(anonymous: Frontend) -> None:
    """The forgot-password link and MFA at login are used signed out: they get the message, not a 401."""
    for endpoint, body in (
        ("/auth/forgot-password", {"email": "a@example.com"}),
        ("/auth/mfa/verify", {"mfaToken": "t", "code": "1"}),
    ):
        with pytest.raises(ApiError) as error:
            await anonymous.request(endpoint, method="POST", body=body)
        assert error.value.status == 501 and "not hosted by this deployment" in error.value.message


async def test_the_schedule_modal_still_creates_the_meeting_when_invitations_fail(tab: Frontend) -> None:
    """ScheduleMeetingModal creates the meeting, then invites: the 501 makes the modal say it failed, but
    the meeting exists (docs/frontend.md says so)."""
    meeting = await tab.request(
        "/meetings", method="POST", body={"title": "Invite", "scheduledStartTime": "2031-01-01T10:00:00.000Z"}
    )
    with pytest.raises(ApiError):
        await tab.request(f"/meetings/{meeting['id']}/invite", method="POST", body={"emails": ["a@example.com"]})
    assert [m["id"] for m in (await tab.request("/meetings?limit=10"))["meetings"]] == [meeting["id"]]
