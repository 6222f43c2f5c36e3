"""The users' ChatVista frontend, built as Vercel builds it, driven in headless Chromium against the API running
in production mode (uvicorn as in the Dockerfile, PostgreSQL, Redis). Every step asserts what the user sees.

When a step fails, the test prints every API exchange the page made (method, path, status, response body),
so the failure shows whether the API answered something the frontend cannot read, or the UI misbehaved.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid

import httpx
import pytest
from playwright.sync_api import Page, Response, expect

from harness.frontend import API_HOST

PASSWORD = "Violet-Harbor-58!"
NEW_PASSWORD = "Quiet-Lantern-93?"
TIMEOUT_MS = 20_000
TOKENS = re.compile(r'"(accessToken|refreshToken)":"[^"]*"')
# The first run on a machine builds the frontend (minutes on 2 busy cores); later runs reuse that build.
pytestmark = pytest.mark.timeout(1800)


class ApiExchanges:
    """Every response the page got from the API, for the failure report."""

    def __init__(self, page: Page) -> None:
        self.lines: list[str] = []
        page.on("response", self._record)

    def _record(self, response: Response) -> None:
        if API_HOST not in response.url:
            return
        request = response.request
        try:
            body = response.text()[:400] if request.method != "OPTIONS" else ""
        except Exception as exc:  # a body the page already consumed or never got
            body = f"<{type(exc).__name__}>"
        sent = (request.post_data or "")[:200]
        path = response.url.split(API_HOST, 1)[1]
        self.lines.append(TOKENS.sub(r'"\1":"<token>"', f"{request.method} {path} {sent} -> {response.status} {body}"))

    def __str__(self) -> str:
        return "\n".join(self.lines) or "(no API requests)"


@pytest.fixture
def page(browser, frontend_server):
    context = browser.new_context(base_url=frontend_server.origin, locale="en-US", timezone_id="UTC")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    exchanges = ApiExchanges(page)
    console: list[str] = []
    page.on("console", lambda message: console.append(f"{message.type}: {message.text[:300]}"))
    yield page
    print("API exchanges of the page:\n" + str(exchanges))
    print("browser console:\n" + "\n".join(console[-30:]))
    context.close()


def modal(page: Page, title: str):
    """The open modal with this title (the app's Modal has no dialog role: a fixed overlay and an h2)."""
    return page.locator("div.fixed.inset-0").filter(has=page.get_by_role("heading", name=title, exact=True))


def sign_out(page: Page, name: str) -> None:
    """Through the sidebar's user menu. The page moves to /login before the logout request returns; it is
    done when the tokens have left the browser."""
    page.get_by_role("button", name=re.compile(re.escape(name))).click()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_function("() => localStorage.getItem('accessToken') === null")
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_role("heading", name="Welcome back", exact=True)).to_be_visible()


def log_in(page: Page, email: str, password: str) -> None:
    page.get_by_placeholder("you@example.com").fill(email)
    page.get_by_placeholder("••••••••").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_a_user_registers_meets_edits_the_profile_and_logs_out(page: Page, api_server):
    email = f"ada-{uuid.uuid4().hex[:10]}@example.com"

    # Register: the API takes the name the page splits into firstName/lastName; the page goes to log in.
    page.goto("/register")
    page.get_by_placeholder("John Doe").fill("Ada Lovelace")
    page.get_by_placeholder("you@example.com").fill(email)
    page.get_by_placeholder("Create a strong password").fill(PASSWORD)
    page.get_by_placeholder("Confirm your password").fill(PASSWORD)
    page.locator("#terms").check()
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(re.compile(r"/login\?registered=true$"))

    # A wrong password: the page shows the API's own message (not its generic fallback).
    wrong = httpx.post(f"{api_server.url}/api/v1/auth/login", json={"email": email, "password": "Wrong-Guess-1!"})
    assert wrong.status_code == 401, wrong.text
    log_in(page, email, "Wrong-Guess-2!")
    expect(page.get_by_text(wrong.json()["message"], exact=True)).to_be_visible()
    expect(page).to_have_url(re.compile(r"/login"))

    # Log in; the dashboard greets the user by first name.
    log_in(page, email, PASSWORD)
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    expect(page.get_by_text("Welcome back, Ada", exact=True)).to_be_visible()

    # Start an instant meeting: the page opens it and shows its title before joining.
    page.get_by_text("Start an instant meeting").click()
    expect(page).to_have_url(re.compile(r"/meeting/[0-9a-f-]{36}$"))
    expect(page.get_by_role("heading", name="Ready to join?")).to_be_visible()
    expect(page.get_by_text("New Meeting", exact=True)).to_be_visible()

    # Schedule one for tomorrow 10:30: the confirmation shows its title and time.
    when = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)  # the browser runs on UTC too
    page.goto("/dashboard")
    page.get_by_text("Plan a future meeting").click()
    form = modal(page, "Schedule a Meeting")
    form.get_by_label("Meeting Title").fill("Design review")
    form.get_by_label("Date").fill(when.isoformat())
    form.get_by_label("Time").fill("10:30")
    form.get_by_role("button", name="Schedule Meeting").click()
    done = modal(page, "Meeting Scheduled!")
    expect(done.get_by_text("Design review", exact=True)).to_be_visible()
    expect(done.get_by_text(f"{when:%A, %B} {when.day} at 10:30 AM")).to_be_visible()
    done.get_by_role("button", name="Close", exact=True).click()

    # The meetings page lists both, the scheduled one with its date and time.
    page.goto("/dashboard/meetings")
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(2)
    instant, scheduled = rows.filter(has_text="New Meeting"), rows.filter(has_text="Design review")
    expect(instant).to_have_count(1)
    expect(scheduled).to_contain_text(f"{when:%a, %b} {when.day}, {when.year}")
    expect(scheduled).to_contain_text("10:30 AM")
    expect(scheduled).to_contain_text("Scheduled")

    # Delete the scheduled one (the page asks to confirm); it is gone, also after a reload.
    page.once("dialog", lambda confirm: confirm.accept())
    scheduled.locator("td").last.locator("button").click()
    expect(rows.filter(has_text="Design review")).to_have_count(0)
    page.reload()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("New Meeting")

    # Update the profile's name: the page confirms and the sidebar shows the new name.
    page.goto("/dashboard/profile")
    page.get_by_role("button", name="Edit").click()
    page.get_by_label("Full Name").fill("Grace Hopper")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Profile updated successfully!")).to_be_visible()
    expect(page.locator("aside").get_by_text("Grace Hopper", exact=True)).to_be_visible()

    # Change the password.
    page.get_by_label("Current Password").fill(PASSWORD)
    page.get_by_label("New Password").fill(NEW_PASSWORD)
    page.get_by_label("Confirm Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Update Password").click()
    expect(page.get_by_text("Password changed successfully!")).to_be_visible()

    # Sign out, then log in again: the old password is refused, the new one works.
    sign_out(page, "Grace Hopper")
    log_in(page, email, PASSWORD)
    expect(page.get_by_text(wrong.json()["message"], exact=True)).to_be_visible()
    log_in(page, email, NEW_PASSWORD)
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    expect(page.get_by_text("Welcome back, Grace", exact=True)).to_be_visible()

    # Log out: back on the login page, the tokens are gone from the browser and the session from the API.
    token = page.evaluate("localStorage.getItem('accessToken')")
    assert token
    sign_out(page, "Grace Hopper")
    assert page.evaluate("localStorage.getItem('refreshToken')") is None
    me = httpx.get(f"{api_server.url}/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 401, me.text
    page.goto("/dashboard")
    expect(page).to_have_url(re.compile(r"/login$"))
