"""The profile and password calls: the settings page (``authApi.updateProfile``: PATCH /users/me with
``{name, avatar}``) and the profile page (``usersApi.updateProfile``: PUT /users/me with ``{name}``;
``usersApi.changePassword``: PUT /users/me/password)."""

from __future__ import annotations

import pytest

from tests.app.contract.frontend import ApiError, Frontend

pytestmark = pytest.mark.anyio


async def test_settings_page_saves_name_and_the_empty_avatar_it_loaded(signed_in) -> None:
    """settings/page.tsx loads GET /auth/me into ``{name, email, avatar: userData.avatar || ''}`` and saves
    ``{name, avatar}``: the avatar comes back as the '' it was given."""
    tab = await signed_in("Ada Lovelace")
    loaded = await tab.request("/auth/me")
    avatar = loaded["avatar"] or ""

    saved = await tab.request("/users/me", method="PATCH", body={"name": "Ada King Lovelace", "avatar": avatar})

    assert saved["name"] == "Ada King Lovelace"
    profile = await tab.request("/auth/me")
    assert (profile["name"], profile["displayName"]) == ("Ada King Lovelace", "Ada King Lovelace")
    assert (profile["firstName"], profile["lastName"]) == ("Ada", "King Lovelace")


async def test_profile_page_saves_the_name_with_put(signed_in) -> None:
    """profile/page.tsx handleSaveProfile: PUT /users/me ``{name}``, then refreshUser() (GET /auth/me)."""
    tab = await signed_in("Ada Lovelace")

    await tab.request("/users/me", method="PUT", body={"name": "  Grace   Hopper "})

    profile = await tab.request("/auth/me")
    assert profile["name"] == "Grace Hopper" and profile["name"].split(" ")[0] == "Grace"


async def test_a_one_word_name_is_kept_as_typed(signed_in) -> None:
    tab = await signed_in("Ada Lovelace")
    await tab.request("/users/me", method="PUT", body={"name": "Cher"})
    profile = await tab.request("/auth/me")
    assert (profile["name"], profile["firstName"], profile["lastName"]) == ("Cher", "Cher", "")


async def test_profile_updates_refuse_what_the_pages_do_not_send(signed_in) -> None:
    """Accepted on purpose: ``name`` and an empty ``avatar``. An avatar URL (this deployment hosts no
    avatars), an email change, or a name beside firstName/lastName are 422s that say why."""
    tab = await signed_in()
    refused = [
        ({"name": "Ada", "avatar": "https://img.example.com/a.png"}, "avatar"),
        ({"name": "Ada", "email": "new@example.com"}, "email"),
        ({"name": "Ada Lovelace", "firstName": "Ada"}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "A" * 101 + " Lovelace"}, "name"),
    ]
    for body, field in refused:
        with pytest.raises(ApiError) as error:
            await tab.request("/users/me", method="PUT", body=body)
        assert error.value.status == 422 and field in error.value.message, (body, error.value.message)
    assert (await tab.request("/auth/me"))["name"] == "Ada Lovelace"


async def test_first_and_last_name_still_update_for_api_clients(signed_in) -> None:
    tab = await signed_in("Ada Lovelace")
    updated = await tab.request("/users/me", method="PATCH", body={"lastName": "Byron"})
    assert updated["name"] == "Ada Byron"


async def test_profile_page_changes_the_password_and_the_new_one_logs_in(signed_in, anonymous: Frontend) -> None:
    """profile/page.tsx handleChangePassword: PUT /users/me/password ``{currentPassword, newPassword}``."""
    tab = await signed_in()

    answer = await tab.request(
        "/users/me/password", method="PUT", body={"currentPassword": tab.password, "newPassword": "a-brand-new-secret"}
    )

    assert answer["message"]
    await tab.request("/auth/me")  # this session stays signed in
    with pytest.raises(ApiError) as old:
        await anonymous.login(tab.email, tab.password)
    assert old.value.status == 401
    assert (await anonymous.login(tab.email, "a-brand-new-secret"))["accessToken"]


async def test_a_wrong_current_password_is_not_a_401(signed_in) -> None:
    """A 401 would make fetchWithAuth refresh the token and retry; the page shows its own 'Check your
    current password' for any error."""
    tab = await signed_in()
    with pytest.raises(ApiError) as wrong:
        await tab.request(
            "/users/me/password",
            method="PUT",
            body={"currentPassword": "not-it-at-all", "newPassword": "a-brand-new-secret"},
        )
    assert wrong.value.status == 403 and wrong.value.code == "invalid_password"


async def test_change_password_by_post_still_works_and_answers_json(signed_in) -> None:
    tab = await signed_in()
    answer = await tab.request(
        "/users/me/change-password",
        method="POST",
        body={"currentPassword": tab.password, "newPassword": "a-brand-new-secret"},
    )
    assert answer["message"]
