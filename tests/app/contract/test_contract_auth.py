"""The auth calls (``authApi`` and ``AuthContext``) and the errors the login and register pages show."""

from __future__ import annotations

import uuid

import pytest

from tests.app.contract.frontend import ApiError, Frontend

pytestmark = pytest.mark.anyio

# AuthContext maps these from ``result.user`` after login and from GET /auth/me.
CONTEXT_USER_FIELDS = {"id", "email", "firstName", "lastName", "displayName", "avatarUrl", "role", "mfaEnabled"}


def _email() -> str:
    return f"user-{uuid.uuid4().hex[:10]}@example.com"


async def test_register_page_creates_the_account_the_login_page_signs_in(anonymous: Frontend) -> None:
    email = _email()
    registered = await anonymous.register("Grace Brewster Hopper", email, "violet-harbor-58")
    assert registered["user"]["email"] == email

    result = await anonymous.login(email, "violet-harbor-58")

    assert not result.get("requiresMfa") and result["accessToken"] and result["refreshToken"]
    user = result["user"]
    assert CONTEXT_USER_FIELDS <= set(user), CONTEXT_USER_FIELDS - set(user)
    # AuthContext: name = displayName || `${firstName} ${lastName}`; the dashboard greets name.split(' ')[0].
    assert user["displayName"] == "Grace Brewster Hopper"
    assert (user["firstName"], user["lastName"]) == ("Grace", "Brewster Hopper")
    assert isinstance(user["role"], str) and user["role"]
    assert user["mfaEnabled"] is False and user["avatarUrl"] is None


async def test_get_profile_answers_what_the_dashboard_and_settings_pages_read(signed_in) -> None:
    """dashboard/page.tsx and settings/page.tsx read GET /auth/me directly: ``name``, ``email``, ``avatar``."""
    tab = await signed_in("Ada Lovelace")

    profile = await tab.request("/auth/me")

    assert profile["name"] == "Ada Lovelace" and profile["name"].split(" ")[0] == "Ada"
    assert profile["email"] == tab.email and profile["avatar"] is None
    assert CONTEXT_USER_FIELDS <= set(profile)


async def test_login_with_a_wrong_password_shows_the_apis_message(signed_in, anonymous: Frontend) -> None:
    """login/page.tsx shows ``err.message`` of the ApiError."""
    tab = await signed_in()
    with pytest.raises(ApiError) as wrong:
        await anonymous.login(tab.email, "not-the-password-1")
    assert wrong.value.status == 401 and wrong.value.code == "invalid_credentials"
    assert wrong.value.message == "email or password is wrong"


async def test_register_errors_carry_a_message_the_page_can_show(signed_in, anonymous: Frontend) -> None:
    """register/page.tsx shows its own text for a 409 and ``err.message`` for anything else, so that
    message must say what to fix."""
    tab = await signed_in()
    with pytest.raises(ApiError) as taken:
        await anonymous.register("Ada Lovelace", tab.email, "violet-harbor-58")
    assert taken.value.status == 409 and taken.value.code == "email_taken"

    with pytest.raises(ApiError) as bad_email:
        await anonymous.register("Ada Lovelace", "ada-at-example.com", "violet-harbor-58")
    assert bad_email.value.status == 422
    assert "email" in bad_email.value.message and "valid email address" in bad_email.value.message

    with pytest.raises(ApiError) as weak:
        await anonymous.register("Ada Lovelace", _email(), "password1")
    assert weak.value.status == 422 and weak.value.message.startswith("password ")


async def test_logout_answers_json_and_ends_the_session(signed_in) -> None:
    """authApi.logout: POST /auth/logout without a body, through apiRequest (so ``.json()``). The dashboard
    then routes to /login only if that call did not throw."""
    tab = await signed_in()
    token = tab.access_token

    await tab.logout()

    tab.access_token = token
    with pytest.raises(ApiError) as ended:
        await tab.request("/auth/me")
    assert ended.value.status == 401


async def test_refresh_hands_out_the_pair_fetch_with_auth_stores(signed_in, anonymous: Frontend) -> None:
    """refreshAccessToken: POST /auth/refresh ``{refreshToken}``; stores ``data.accessToken`` and
    ``data.refreshToken``."""
    tab = await signed_in()
    data = await anonymous.request("/auth/refresh", method="POST", body={"refreshToken": tab.refresh_token})
    assert data["accessToken"] and data["refreshToken"] and data["refreshToken"] != tab.refresh_token
