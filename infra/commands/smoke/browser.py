"""`chatvista-ops smoke --browser`: the live site judged the way its users meet it, in headless Chromium.

The journey, each step timed:

1. open the frontend's register page;
2. register a throwaway user through the real form, 3. log in through the real login page, 4. create an
   instant meeting from the dashboard (the page the frontend opens for it gives its id);
5. log the same user in again in a second browser context (a second device);
6. both contexts, on the frontend's dashboard, join the meeting with ``clients/web/mesh.js`` through the live
   signaling and exchange audio and video (every request carries the frontend's origin, so the API's CORS and
   socket.io's origin check apply as they do for users);
7. when the meeting's ``rtc-config`` offers a TURN server, a second call in which both sides may only use
   relay candidates: media through the live TURN server;
8. delete the meeting, 9. delete the user (``DELETE /api/v1/users/me`` with the password).

What the frontend calls is watched throughout. A step fails at once, naming the request or event, when a call
to the API fails (refused, blocked by CORS, a 5xx, a refused write), when the frontend calls an API other than
``--backend-url`` (a build made against another ``NEXT_PUBLIC_API_URL``), when socket.io cannot connect, when
the call ends, or when the TURN server refuses the credentials; else after ``step_timeout`` seconds, with what
was seen last. On a failure the screenshots of the pages and the console log are saved, and whatever was created
is deleted all the same, on whichever API created it; what cannot be deleted is reported.

No request is intercepted (no Playwright ``route``): with interception on, Playwright answers CORS preflights
itself, allowing any origin, which would hide the very CORS failures this run looks for. The page script and
its two modules are handed to the page as text and imported from ``blob:`` URLs of the page's own origin.
"""

from __future__ import annotations

import os
import re
import secrets
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from infra.errors import OpsError, usage_error

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page, Playwright, Request, Response

T = TypeVar("T")

STEP_TIMEOUT_SECONDS = 30.0
API_PREFIX = "/api/v1"
POLL_MS = 100
# socket.io-client retries a failed connection by itself; this many failures in a row is a refusal.
CONNECT_ERRORS_FATAL = 3
# RFC 8489/8656 errors a TURN server answers to credentials it does not accept (401 Unauthorized, 403
# Forbidden, 441 Wrong Credentials); Chromium reports them in icecandidateerror.
TURN_AUTH_ERRORS = frozenset({401, 403, 441})
# Kept small: both sides share the machine's CPU with the browser.
INSTALL_HINT = (
    "install the browser extra and Playwright's Chromium: `uv sync --extra browser` then "
    "`uv run playwright install chromium` (add --with-deps on a bare Linux machine); or pass --chromium PATH"
)
# Chromium's own switches: a fake camera and microphone that need no prompt, and no throttling of the
# pages, which are both peers of one call.
CHROMIUM_ARGS = [
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
]


@dataclass(frozen=True)
class UI:
    """What the users' frontend shows, as its pages spell it (apps/frontend/src/app: register/page.tsx,
    login/page.tsx, dashboard/page.tsx, meeting/[id]/page.tsx)."""

    name: str = "John Doe"
    email: str = "you@example.com"
    new_password: str = "Create a strong password"
    confirm_password: str = "Confirm your password"
    terms: str = "#terms"
    create_account: str = "Create account"
    password: str = "••••••••"
    sign_in: str = "Sign in"
    instant_meeting: str = "Start an instant meeting"


# Playwright's browser log in a launch error: the lines its packages/utils/processLauncher.ts writes.
LAUNCH_EXIT = re.compile(r"<process did exit: exitCode=(\d+)")
LAUNCH_STDERR = re.compile(r"^\s*(?:- )?\[pid=\d+\]\[err\] (.+)$", re.MULTILINE)
PAGES = UI()
REGISTERED = re.compile(r"/login\?registered=true$")
DASHBOARD = re.compile(r"/dashboard/?$")
MEETING_PAGE = re.compile(r"/meeting/([0-9a-f-]{36})/?$")


@dataclass(frozen=True)
class BrowserTargets:
    frontend_url: str
    backend_url: str


@dataclass
class StepResult:
    name: str
    ok: bool
    seconds: float
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "ok": self.ok, "seconds": round(self.seconds, 2), "detail": self.detail}


@dataclass
class BrowserReport:
    targets: BrowserTargets
    steps: list[StepResult] = field(default_factory=list)
    seconds: float = 0.0
    artifacts: list[Path] = field(default_factory=list)
    left_behind: list[str] = field(default_factory=list)

    @property
    def failed(self) -> StepResult | None:
        return next((step for step in self.steps if not step.ok), None)

    @property
    def ok(self) -> bool:
        return self.failed is None and not self.left_behind

    def as_dict(self) -> dict[str, Any]:
        failed = self.failed
        return {
            "ok": self.ok,
            "frontendUrl": self.targets.frontend_url,
            "backendUrl": self.targets.backend_url,
            "seconds": round(self.seconds, 1),
            "steps": [step.as_dict() for step in self.steps],
            "failedStep": failed.name if failed else None,
            "cause": failed.detail if failed else None,
            "artifacts": [str(path) for path in self.artifacts],
            "leftBehind": self.left_behind,
        }


class StepFailed(Exception):
    """A step did not get where it should; the message names the request or event that failed."""


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class Watch:
    """What the pages send, receive and log: the console log kept for a failure, and the problems that fail
    the current step at once (taken with :meth:`problem`)."""

    def __init__(self, targets: BrowserTargets) -> None:
        self.targets = targets
        self.started = time.monotonic()
        self.log: list[str] = []
        self.console_errors: list[str] = []
        # What fails the current step, and the URL whose console explanation (if any) goes with it.
        self.problems: list[tuple[str, str | None]] = []
        self.api_answers: list[str] = []
        # The API origin that answered 201 to the registration: where the user must be deleted.
        self.registered_at: str | None = None

    def attach(self, page: Page, label: str) -> None:
        page.on("console", lambda message: self._console(label, message.type, message.text))
        page.on("pageerror", lambda error: self._console(label, "pageerror", str(error)))
        page.on("request", lambda request: self._sent(label, request))
        page.on("requestfailed", lambda request: self._failed(label, request))
        page.on("response", lambda response: self._answered(label, response))
        page.on("websocket", lambda socket: socket.on("socketerror", lambda error: self._socket(label, error)))

    def _line(self, label: str, text: str) -> None:
        self.log.append(f"{time.monotonic() - self.started:7.2f}s [{label}] {text}")

    def _console(self, label: str, kind: str, text: str) -> None:
        self._line(label, f"console.{kind}: {text}")
        if kind in ("error", "pageerror"):
            self.console_errors.append(text)

    def _socket(self, label: str, error: str) -> None:
        self._line(label, f"websocket error: {error}")

    def is_api(self, url: str) -> bool:
        return urlsplit(url).path.startswith((f"{API_PREFIX}/", "/socket.io/"))

    def calls_backend(self, url: str) -> bool:
        """A call the frontend may make: to the backend, or through its own origin's /api/v1 rewrite."""
        return origin(url) in (self.targets.backend_url, self.targets.frontend_url)

    def foreign(self, url: str) -> bool:
        return self.is_api(url) and not self.calls_backend(url)

    def _sent(self, label: str, request: Request) -> None:
        if not self.foreign(request.url):
            return
        self._line(label, f"request to another API: {request.method} {request.url}")
        cause = (
            f"the frontend called {request.method} {request.url}, not {self.targets.backend_url}: it was built "
            f"with NEXT_PUBLIC_API_URL={origin(request.url)}. Redeploy the frontend (`chatvista-ops up` rebuilds "
            "it when the value changed), or check --backend-url"
        )
        self.problems.append((cause, None))

    def _failed(self, label: str, request: Request) -> None:
        failure = request.failure or "failed"
        self._line(label, f"request failed: {request.method} {request.url}: {failure}")
        # A fetch the page cancels by navigating away is no failure of the site.
        if self.is_api(request.url) and self.calls_backend(request.url) and "ERR_ABORTED" not in failure:
            self.problems.append((f"{request.method} {request.url} failed: {failure}", request.url))

    def _answered(self, label: str, response: Response) -> None:
        request = response.request
        if not self.is_api(response.url):
            return
        if request.method == "POST" and response.status == 201 and response.url.endswith("/auth/register"):
            self.registered_at = origin(response.url)
        if response.status < 400 or not self.calls_backend(response.url):
            return
        try:
            body = " ".join(response.text().split())[:300]
        except Exception as exc:  # a body the page never read, or a closed page
            body = f"<{type(exc).__name__}>"
        answer = f"{request.method} {response.url} answered {response.status}: {body}"
        self._line(label, answer)
        self.api_answers.append(answer)
        # A refused write is a failed step; a refused read is often how a page asks (e.g. "logged in?").
        if response.status >= 500 or request.method != "GET":
            self.problems.append((answer, None))

    def _explained(self, url: str) -> str:
        """What the console said about ``url`` (Chromium logs why CORS blocked a request)."""
        target = urlsplit(url)
        key = f"{target.scheme}://{target.netloc}{target.path}"
        said = [text for text in self.console_errors if key in text]
        return f"; the browser's console: {said[-1]}" if said else ""

    def said(self, containing: str) -> str | None:
        """The last console error containing ``containing``."""
        return next((text for text in reversed(self.console_errors) if containing in text), None)

    def problem(self) -> str | None:
        """The first thing that failed this step, with what the console said about it by now (Chromium logs why
        it blocked a request just after failing it)."""
        if not self.problems:
            return None
        cause, url = self.problems[0]
        return cause + (self._explained(url) if url else "")


@dataclass
class Throwaway:
    """The user the run creates, and its meeting."""

    email: str
    password: str
    first_name: str = "ChatVista"
    last_name: str = "Smoke"
    token: str | None = None
    meeting_id: str | None = None
    meeting_deleted: bool = False
    deleted: bool = False

    @classmethod
    def new(cls) -> Throwaway:
        # example.com is reserved for examples (RFC 2606): no mail can reach anyone. The register page enables
        # its button only for a password with an upper and a lower case letter, a digit and one of its specials.
        password = f"{secrets.token_urlsafe(18)}Aa1!"
        return cls(email=f"chatvista-smoke-{secrets.token_hex(6)}@example.com", password=password)


class Journey:
    """One run: the browser, its two contexts, the watch and the timeline."""

    def __init__(
        self,
        playwright: Playwright,
        targets: BrowserTargets,
        *,
        chromium: Path | None,
        step_timeout: float,
        on_step: Callable[[str], None],
    ) -> None:
        self.playwright = playwright
        self.targets = targets
        self.files: dict[str, str] = {}  # the modules the pages import (assets.page_files)
        self.chromium = chromium
        self.timeout = step_timeout
        self.on_step = on_step
        self.watch = Watch(targets)
        self.user = Throwaway.new()
        self.report = BrowserReport(targets)
        self.browser: Browser | None = None
        self.contexts: list[BrowserContext] = []
        self.pages: dict[str, Page] = {}
        self.second_token: str | None = None

    # -- the steps ------------------------------------------------------------------------------------

    def run(self) -> None:
        frontend = self.targets.frontend_url
        with self.step("open the frontend") as done:
            host = self.open_page("A")
            response = host.goto(f"{frontend}/register", wait_until="load")
            if response is None or response.status != 200:
                raise StepFailed(f"GET {frontend}/register answered {response.status if response else 'nothing'}")
            host.get_by_placeholder(PAGES.name).wait_for()
            done(f"/register answered {response.status}")
        with self.step("register") as done:
            host.get_by_placeholder(PAGES.name).fill(f"{self.user.first_name} {self.user.last_name}")
            host.get_by_placeholder(PAGES.email).fill(self.user.email)
            host.get_by_placeholder(PAGES.new_password).fill(self.user.password)
            host.get_by_placeholder(PAGES.confirm_password).fill(self.user.password)
            host.locator(PAGES.terms).check()
            host.get_by_role("button", name=PAGES.create_account).click()
            self.until(lambda: REGISTERED.search(host.url), "move to /login?registered=true")
            done(self.user.email)
        with self.step("log in") as done:
            self.user.token = self.log_in(host)
            done("the dashboard opened")
        with self.step("create a meeting") as done:
            host.get_by_text(PAGES.instant_meeting).click()
            found = self.until(lambda: MEETING_PAGE.search(host.url), "move to the new meeting's page")
            self.user.meeting_id = found.group(1)
            done(f"meeting {self.user.meeting_id}")
        with self.step("log in on a second device") as done:
            guest = self.open_page("B")
            guest.goto(f"{frontend}/login", wait_until="load")
            self.second_token = self.log_in(guest)
            done("a second session's dashboard opened")
        with self.step("call") as done:
            host.goto(f"{frontend}/dashboard", wait_until="load")
            self.start_calls(relay=False)
            links = self.media_both_ways(relay=False)
            done(f"audio and video both ways ({route_of(links)})")
        with self.step("relay-only call") as done:
            relays = self.turn_servers(host)
            if relays:
                self.leave_calls()
                self.start_calls(relay=True)
                links = self.media_both_ways(relay=True)
                done(f"audio and video both ways through {', '.join(relays)} ({route_of(links)})")
            else:
                done("skipped: the meeting's rtc-config offers no TURN server")
        with self.step("delete the meeting") as done:
            self.leave_calls()
            self.delete_meeting(host, self.targets.backend_url)
            done(f"meeting {self.user.meeting_id} deleted")
        with self.step("delete the user") as done:
            self.delete_user(host, self.targets.backend_url)
            done(f"{self.user.email} deleted; its token is refused")

    def log_in(self, page: Page) -> str:
        page.get_by_placeholder(PAGES.email).fill(self.user.email)
        page.get_by_placeholder(PAGES.password).fill(self.user.password)
        page.get_by_role("button", name=PAGES.sign_in).click()
        self.until(lambda: DASHBOARD.search(page.url), "move to /dashboard")
        token = page.evaluate("localStorage.getItem('accessToken')")
        if not token:
            raise StepFailed("the dashboard opened but the frontend stored no access token (localStorage accessToken)")
        return token

    def start_calls(self, *, relay: bool) -> None:
        assert self.user.token and self.second_token
        for label, token in (("A", self.user.token), ("B", self.second_token)):
            page = self.pages[label]
            self.ensure_client(page)
            options = {
                "apiUrl": self.targets.backend_url,
                "meetingId": self.user.meeting_id,
                "accessToken": token,
                "relay": relay,
            }
            page.evaluate("options => chatvistaSmoke.start(options)", options)

    def leave_calls(self) -> None:
        for page in self.pages.values():
            page.evaluate("window.chatvistaSmoke?.leave()")

    def media_both_ways(self, *, relay: bool) -> list[dict[str, Any]]:
        """Until each page has one connected link on which video frames and audio packets arrive; in a
        relay-only call, through a relay candidate of its own."""
        pages = [self.pages["A"], self.pages["B"]]
        last: list[dict[str, Any]] = []

        def arrived() -> list[dict[str, Any]] | None:
            nonlocal last
            last = [page.evaluate("chatvistaSmoke.state()") for page in pages]
            for state in last:
                if cause := call_failure(state, relay=relay):
                    if state["connectErrors"] and (said := self.watch.said("WebSocket connection")):
                        cause += f"; the browser's console: {said}"
                    raise StepFailed(cause)
            links = [link for state in last for link in state["links"]]
            flowing = len(links) == len(pages) and all(
                link["connectionState"] == "connected"
                and link["framesDecoded"] > 0
                and link["packetsReceived"] > 0
                and (not relay or (link["local"] or {}).get("type") == "relay")
                for link in links
            )
            return links if flowing else None

        return self.until(arrived, "media both ways", seen=lambda: describe_calls(last))

    def turn_servers(self, page: Page) -> list[str]:
        path = f"/meetings/{self.user.meeting_id}/rtc-config"
        answer = self.api(page, self.targets.backend_url, "GET", path, self.user.token)
        if answer.get("status") != 200:
            raise StepFailed(f"GET {self.targets.backend_url}{API_PREFIX}{path} answered {describe_answer(answer)}")
        urls = [url for server in answer["body"]["iceServers"] for url in as_list(server.get("urls"))]
        return [url for url in urls if url.startswith(("turn:", "turns:"))]

    def delete_meeting(self, page: Page, api: str) -> None:
        path = f"/meetings/{self.user.meeting_id}"
        answer = self.api(page, api, "DELETE", path, self.user.token)
        if answer.get("status") not in (200, 204):
            raise StepFailed(f"DELETE {api}{API_PREFIX}{path} answered {describe_answer(answer)}")
        self.user.meeting_deleted = True

    def delete_user(self, page: Page, api: str) -> None:
        answer = self.api(page, api, "DELETE", "/users/me", self.user.token, {"password": self.user.password})
        if answer.get("status") not in (200, 204):
            raise StepFailed(f"DELETE {api}{API_PREFIX}/users/me answered {describe_answer(answer)}")
        self.user.deleted = True
        after = self.api(page, api, "GET", "/users/me", self.user.token)
        if after.get("status") != 401:
            raise StepFailed(
                f"after deleting the user, GET {api}{API_PREFIX}/users/me with its token answered {describe_answer(after)}"
            )

    # -- cleaning up ----------------------------------------------------------------------------------

    def clean_up(self) -> None:
        """After a failure: delete what the run created, on the API that created it, from a page at the
        frontend's origin. What cannot be deleted goes into the report."""
        user, api = self.user, self.watch.registered_at
        if api is None:
            return
        if api != self.targets.backend_url:
            user.token = None  # a token of the other API
        try:
            page = self.pages.get("A") or self.open_page("A")
            if not page.url.startswith(self.targets.frontend_url):
                page.goto(f"{self.targets.frontend_url}/login", wait_until="load")
            self.leave_calls()
            if user.token is None:
                login = {"email": user.email, "password": user.password}
                answer = self.api(page, api, "POST", "/auth/login", None, login)
                if answer.get("status") != 200:
                    raise StepFailed(f"POST {api}{API_PREFIX}/auth/login answered {describe_answer(answer)}")
                user.token = answer["body"]["accessToken"]
            if user.meeting_id and not user.meeting_deleted:
                self.delete_meeting(page, api)
            if not user.deleted:
                self.delete_user(page, api)
        except StepFailed as exc:
            self.watch.log.append(f"cleanup: {exc}")
        except Exception as exc:  # the browser may be what failed
            self.watch.log.append(f"cleanup: {type(exc).__name__}: {first_line(str(exc))}")
        if user.meeting_id and not user.meeting_deleted and not user.deleted:
            self.report.left_behind.append(f"meeting {user.meeting_id} of {user.email} on {api}")
        if not user.deleted:
            self.report.left_behind.append(f"user {user.email} on {api}")

    # -- machinery ------------------------------------------------------------------------------------

    def launch(self) -> None:
        from playwright.sync_api import Error

        try:
            self.browser = self.playwright.chromium.launch(
                executable_path=self.executable(), args=CHROMIUM_ARGS, headless=True
            )
        except Error as exc:
            text = str(exc)
            if self.chromium is not None:
                raise OpsError(
                    f"--chromium {self.chromium} did not start a browser: {launch_failure(text)}",
                    hint=f"`{self.chromium} --version` should name Chromium or Google Chrome; pass that executable, "
                    "or leave --chromium out to use Playwright's own Chromium",
                ) from None
            if "Executable doesn't exist" in text or "playwright install" in text:
                raise usage_error("Playwright's Chromium is not installed", hint=INSTALL_HINT) from None
            raise OpsError(f"Chromium did not start: {launch_failure(text)}", hint=INSTALL_HINT) from None

    def executable(self) -> str | None:
        """``--chromium`` as an absolute path: Playwright looks a relative one up on PATH, not in the working
        directory the user named it from."""
        return str(self.chromium.absolute()) if self.chromium else None

    def open_page(self, label: str) -> Page:
        """A page in a browser context of its own: its own storage, like another device."""
        assert self.browser is not None
        context = self.browser.new_context(
            locale="en-US", timezone_id="UTC", permissions=["camera", "microphone"], service_workers="block"
        )
        context.set_default_timeout(self.timeout * 1000)
        self.contexts.append(context)
        page = context.new_page()
        self.watch.attach(page, label)
        self.pages[label] = page
        return page

    def ensure_client(self, page: Page) -> None:
        """The page script, with mesh.js and socket.io-client, imported into ``page`` from blob: URLs of its
        own origin (so no request needs intercepting)."""
        if page.evaluate("window.chatvistaSmoke !== undefined"):
            return
        page.evaluate(
            """async ([socketIo, mesh, smoke]) => {
                const load = async (source) => {
                    const url = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
                    try { return await import(url); } finally { URL.revokeObjectURL(url); }
                };
                const [{ io }, { MeshCall }, { install }] = [await load(socketIo), await load(mesh), await load(smoke)];
                install({ io, MeshCall });
            }""",
            [self.files["socket.io.esm.min.js"], self.files["mesh.js"], self.files["browser_page.js"]],
        )

    @contextmanager
    def step(self, name: str) -> Iterator[Callable[[str], None]]:
        from playwright.sync_api import Error, TimeoutError

        self.on_step(name)
        self.watch.problems.clear()
        self.watch.log.append(f"-- step: {name}")
        detail = {"text": ""}
        started = time.monotonic()
        try:
            yield lambda text: detail.update(text=text)
        except StepFailed as exc:
            self._fail(name, started, str(exc))
        except TimeoutError as exc:
            self._fail(name, started, self.watch.problem() or f"{waited_for(str(exc))}{self._last_seen()}")
        except Error as exc:
            self._fail(name, started, self.watch.problem() or f"the browser: {first_line(str(exc))}")
        self.report.steps.append(StepResult(name, True, time.monotonic() - started, detail["text"]))

    def _fail(self, name: str, started: float, cause: str) -> None:
        self.report.steps.append(StepResult(name, False, time.monotonic() - started, cause))
        raise StepFailed(cause)

    def until(self, check: Callable[[], T | None], what: str, *, seen: Callable[[], str] | None = None) -> T:
        """Poll ``check`` until it returns something; fail at once on a problem the watch saw, else after
        the step's timeout with what was seen last."""
        deadline = time.monotonic() + self.timeout
        page = next(iter(self.pages.values()))
        while True:
            if self.watch.problem():
                # Chromium logs why it blocked a request just after failing it: let that line arrive.
                page.wait_for_timeout(300)
                raise StepFailed(self.watch.problem() or "")
            if value := check():
                return value
            if time.monotonic() > deadline:
                last = f"; last seen: {seen()}" if seen else self._last_seen()
                raise StepFailed(f"did not {what} within {self.timeout:g} s{last}")
            page.wait_for_timeout(POLL_MS)

    def _last_seen(self) -> str:
        seen = self.watch.api_answers[-1:] + self.watch.console_errors[-1:]
        return f"; last seen: {' | '.join(seen)}" if seen else ""

    def api(self, page: Page, api: str, method: str, path: str, token: str | None, body: Any = None) -> dict[str, Any]:
        """An API request from ``page`` (so with the frontend's origin): ``{status, body}`` or ``{error}``."""
        self.ensure_client(page)
        return page.evaluate(
            "([api, method, path, token, body]) => chatvistaSmoke.request(api, method, path, token, body ?? undefined)",
            [api, method, path, token, body],
        )

    def save_artifacts(self, directory: Path | None, step: str) -> None:
        target = directory or Path(tempfile.mkdtemp(prefix="chatvista-smoke-browser-"))
        target.mkdir(parents=True, exist_ok=True)
        slug = re.sub(r"[^a-z0-9]+", "-", step.lower()).strip("-")
        for label, page in self.pages.items():
            path = target / f"{slug}-{label}.png"
            try:
                page.screenshot(path=str(path), full_page=True, timeout=10_000)
            except Exception as exc:  # a crashed page has no picture; the log says so
                self.watch.log.append(f"no screenshot of page {label}: {first_line(str(exc))}")
                continue
            self.report.artifacts.append(path)
        log = target / "console.log"
        log.write_text("\n".join(self.watch.log) + "\n", encoding="utf-8")
        self.report.artifacts.append(log)

    def close(self) -> None:
        if self.browser is not None:
            self.browser.close()


def call_failure(state: dict[str, Any], *, relay: bool) -> str | None:
    """Why a page's call cannot succeed any more, or None while it still may."""
    if state["status"] == "ended":
        errors = "; ".join(state["errors"][-2:]) or "no error given"
        return f"the call ended ({state['endedReason']}): {errors}"
    refused = state["connectErrors"]
    if len(refused) >= CONNECT_ERRORS_FATAL:
        return f"socket.io could not connect to the signaling ({len(refused)} times): connect_error {refused[-1]!r}"
    if relay:
        for error in state["iceErrors"]:
            if error["errorCode"] in TURN_AUTH_ERRORS:
                return (
                    f"the TURN server {error['url']} refused the credentials from rtc-config: "
                    f"{error['errorCode']} {error['errorText']}"
                )
    return None


def describe_calls(states: list[dict[str, Any]]) -> str:
    parts = []
    for label, state in zip("AB", states, strict=False):
        links = ", ".join(
            f"{link['connectionState']} {link['framesDecoded']} frames {(link['local'] or {}).get('type', '?')}"
            for link in state["links"]
        )
        ice = "; ".join(f"{e['errorCode']} {e['errorText']} ({e['url']})" for e in state["iceErrors"][-2:])
        parts.append(f"{label}: {state['status']}, links [{links or 'none'}]" + (f", ICE errors: {ice}" if ice else ""))
    return "; ".join(parts)


def route_of(links: list[dict[str, Any]]) -> str:
    kinds = sorted({f"{(link['local'] or {}).get('type')}-{(link['remote'] or {}).get('type')}" for link in links})
    return "candidates " + ", ".join(kinds)


def describe_answer(answer: dict[str, Any]) -> str:
    if "error" in answer:
        return f"nothing: {answer['error']}"
    body = answer.get("body")
    message = body.get("message") if isinstance(body, dict) else None
    return f"{answer['status']}" + (f" ({message})" if message else "")


def as_list(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


def waited_for(text: str) -> str:
    """A Playwright timeout in one line: what timed out, and the last thing its call log says it waited on
    (``element is not enabled``, ``waiting for get_by_placeholder("John Doe")``)."""
    lines = [line.strip(" -") for line in text.strip().splitlines() if line.strip(" -")]
    if not lines:
        return text
    said = [line for line in lines[1:] if not line.startswith(("Call log", "retrying", "=")) and "…" not in line]
    return lines[0] + (f" ({said[-1]})" if said else "")


def launch_failure(text: str) -> str:
    """Why Playwright could not start a browser, from its error's browser log: how the process exited and the
    last lines it wrote to stderr (``[pid=N][err] …``); the error's first line when the log says neither."""
    exited = LAUNCH_EXIT.search(text)
    said = list(dict.fromkeys(LAUNCH_STDERR.findall(text)))[-3:]
    parts = [f"it exited with code {exited.group(1)}" if exited else first_line(text)]
    if said:
        parts.append("it said: " + " | ".join(line.strip() for line in said))
    return "; ".join(parts)


def first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text


def run_browser_smoke(
    targets: BrowserTargets,
    *,
    chromium: Path | None = None,
    artifacts_dir: Path | None = None,
    step_timeout: float = STEP_TIMEOUT_SECONDS,
    on_step: Callable[[str], None] = lambda name: None,
) -> BrowserReport:
    """Run the journey once; the report says which step failed, what was saved and what was left behind."""
    from infra.commands.smoke.assets import page_files

    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise usage_error("smoke --browser needs Playwright, which is not installed", hint=INSTALL_HINT) from None
    if chromium is not None and not chromium.is_file():
        raise usage_error(
            f"--chromium {chromium}: no such file", hint="pass the Chromium executable, e.g. /usr/bin/chromium"
        )
    if chromium is not None and not os.access(chromium, os.X_OK):
        raise usage_error(
            f"--chromium {chromium}: not executable", hint="pass the Chromium executable, e.g. /usr/bin/chromium"
        )
    started = time.monotonic()
    with sync_playwright() as playwright:
        journey = Journey(playwright, targets, chromium=chromium, step_timeout=step_timeout, on_step=on_step)
        journey.launch()
        try:
            journey.files = page_files()
            journey.run()
        except StepFailed:
            failed = journey.report.failed
            assert failed is not None
            journey.save_artifacts(artifacts_dir, failed.name)
            journey.clean_up()
        finally:
            journey.close()
    journey.report.seconds = time.monotonic() - started
    return journey.report
