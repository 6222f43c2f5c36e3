"""The browser mesh client (``clients/web/mesh.js``) in real Chromium pages, one page per participant,
inside a loopback-only network namespace, against a real deployment.

The page (``mesh_page/``) is served from inside the namespace by ``PageServer``; ``Participant`` drives
one page through its ``window.lab`` object; ``MeshLab`` owns the browser and hands out participants;
``mesh_deployment()`` puts it all together with PostgreSQL, Redis, two API instances and coturn.
"""

from __future__ import annotations

import fcntl
import http.server
import json
import os
import shutil
import subprocess
import threading
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness import chromium, coturn, netns
from harness.deployment import REDIS_URL, Api, ApiInstance, Meeting, User, api_env, migrated_database, start_all
from harness.netns import Ingress, Namespace
from harness.waiting import wait_until

if TYPE_CHECKING:
    from playwright.sync_api import Page, Playwright

ROOT = Path(__file__).resolve().parents[1]
CLIENT = ROOT / "clients" / "web"
PAGE = Path(__file__).parent / "mesh_page"
# Small and slow on purpose: several peers of one call share two CPU cores with the API.
VIDEO = {"width": 320, "height": 240, "frameRate": 10}
POLL_SECONDS = 0.25
# Generous: several Chromium pages, two API instances and coturn share two CPU cores.
MESH_TIMEOUT = 60.0


def missing() -> str | None:
    """Why the real-browser set-up cannot run on this machine, or None."""
    if tools := netns.missing_tools():
        return f"network namespaces need {', '.join(tools)}"
    return chromium.missing() or coturn.missing()


def client_dev_dependencies() -> Path:
    """``clients/web`` with its locked dev dependencies (socket.io-client, TypeScript, React's types)
    installed by ``npm ci`` when one is missing; the directory.

    Under a lock: ``npm ci`` first deletes node_modules, and two test processes (pytest-xdist workers)
    may need it at once."""
    wanted = json.loads((CLIENT / "package.json").read_text())["devDependencies"]
    lock = os.open(CLIENT, os.O_RDONLY)  # the directory itself: no lock file to leave in the checkout
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not all((CLIENT / "node_modules" / name / "package.json").exists() for name in wanted):
            npm = shutil.which("npm")
            if npm is None:
                raise RuntimeError(f"npm is needed to install {CLIENT}'s dev dependencies (apt-get install npm)")
            result = subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=CLIENT, capture_output=True, text=True
            )
            if result.returncode != 0:
                raise RuntimeError(f"npm ci in {CLIENT} failed:\n{result.stdout}\n{result.stderr}")
    finally:
        os.close(lock)  # and with it the lock
    return CLIENT


def socket_io_bundle() -> Path:
    """socket.io-client's browser build (ES module)."""
    return client_dev_dependencies() / "node_modules" / "socket.io-client" / "dist" / "socket.io.esm.min.js"


class PageServer:
    """Serves the lab page, the client and socket.io-client on 127.0.0.1 inside the namespace.

    The page has to be a loopback origin, like the API it calls: Chromium's Local Network Access checks
    stop a page from a less private origin (a page Playwright fulfils itself counts as public) from
    reaching loopback, as they would stop a public site from reaching a user's router.
    """

    def __init__(self, namespace: Namespace) -> None:
        files = {
            "/": PAGE / "index.html",
            "/lab.js": PAGE / "lab.js",
            "/mesh.js": CLIENT / "mesh.js",
            "/socket.io.esm.min.js": socket_io_bundle(),
        }

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = files.get(self.path.split("?")[0])
                if path is None:
                    self.send_error(404)
                    return
                body = path.read_bytes()
                self.send_response(200)
                self.send_header("Content-Type", "text/html" if path.suffix == ".html" else "text/javascript")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler, bind_and_activate=False)
        self.server.socket.close()
        self.server.socket = namespace.listen()
        self.server.server_address = self.server.socket.getsockname()
        self.thread = threading.Thread(target=self.server.serve_forever, name="mesh-pages", daemon=True)
        self.thread.start()

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


class Participant:
    """One browser page running the mesh client, driven through ``window.lab``."""

    def __init__(self, page: Page) -> None:
        self.page = page

    def start(
        self,
        api_url: str,
        meeting: Meeting,
        user: User,
        *,
        host: bool = False,
        relay: bool = False,
        access_token: str | None = None,
        renew: bool = True,
        wait: bool = True,
    ) -> None:
        """Join ``meeting`` as ``user`` (with the access code unless ``host``) and wait until in the room
        (``wait=False``: start joining and return; ``lab.joining`` settles when in the room).
        ``renew=False``: the page never renews its access token."""
        options = {
            "apiUrl": api_url,
            "meetingId": meeting.id,
            "accessToken": access_token or user.token,
            "refreshToken": user.refresh_token if renew else None,
            "accessCode": None if host else meeting.access_code,
            "iceTransportPolicy": "relay" if relay else "all",
            "video": VIDEO,
        }
        self.page.evaluate(
            "([options, wait]) => { lab.joining = lab.start(options); return wait ? lab.joining : null; }",
            [options, wait],
        )

    def state(self) -> dict[str, Any]:
        return self.page.evaluate("lab.state()")

    def links(self) -> list[dict[str, Any]]:
        return self.page.evaluate("lab.links()")

    def lab(self, expression: str, argument: Any = None) -> Any:
        """Evaluate ``expression`` (a function of ``lab`` and ``argument``) in the page."""
        return self.page.evaluate(f"([argument]) => ({expression})(window.lab, argument)", [argument])

    def close(self) -> None:
        self.page.context.close()


class MeshLab:
    """Chromium inside ``namespace``, and the server of the page its participants open."""

    def __init__(self, playwright: Playwright, namespace: Namespace) -> None:
        self.pages = PageServer(namespace)
        try:
            self.browser = chromium.launch(playwright, namespace)
        except Exception:
            self.pages.close()
            raise

    @property
    def origin(self) -> str:
        """The pages' origin: allow it in the API's CORS_ORIGINS."""
        return self.pages.origin

    def participant(self) -> Participant:
        page = self.browser.new_context().new_page()
        page.goto(f"{self.origin}/")
        page.wait_for_function("window.lab !== undefined", timeout=10_000)
        return Participant(page)

    def close(self) -> None:
        self.browser.close()
        self.pages.close()


@dataclass
class MeshDeployment:
    """Two API instances sharing PostgreSQL and Redis, coturn, and the browser. Each instance is
    reached from the namespace through its own ingress, which falls over to the other instance when
    its own is down, as App Platform's ingress does under one URL."""

    a: ApiInstance
    b: ApiInstance
    ingress_a: Ingress  # to a, else b
    ingress_b: Ingress  # to b, else a
    api: Api
    lab: MeshLab
    turn: coturn.Coturn
    jwt_secret: str
    opened: list[Participant] = field(default_factory=list)

    def meeting(self, *first_names: str) -> tuple[Meeting, list[User]]:
        """A meeting hosted by the first of the new users; the pages join it over HTTP themselves."""
        users = [self.api.register(name) for name in first_names]
        return self.api.create_meeting(users[0]), users

    def call(self, meeting: Meeting, users: list[User], *, relay: bool = False) -> list[Participant]:
        """One page per user, joining one after another, the host first. Page i goes to instance a when
        i is even, else to b."""
        pages = []
        for index, user in enumerate(users):
            page = self.participant()
            page.start(self.ingress(index).url, meeting, user, host=index == 0, relay=relay)
            pages.append(page)
        return pages

    def ingress(self, index: int) -> Ingress:
        return self.ingress_a if index % 2 == 0 else self.ingress_b

    def participant(self) -> Participant:
        page = self.lab.participant()
        self.opened.append(page)
        return page

    def close_pages(self) -> None:
        while self.opened:
            self.opened.pop().close()


@contextmanager
def mesh_deployment(playwright: Playwright, *, jwt_secret: str, turn_secret: str) -> Iterator[MeshDeployment]:
    """Everything ``MeshDeployment`` holds, started, and stopped again afterwards."""
    with ExitStack() as stack:
        namespace = Namespace([f"{coturn.RELAY_ADDRESS}/32"])
        stack.callback(namespace.close)
        turn = coturn.Coturn(namespace, turn_secret)
        stack.callback(turn.stop)
        turn.start()
        lab = MeshLab(playwright, namespace)
        stack.callback(lab.close)
        database_url = stack.enter_context(migrated_database())
        env = {
            **api_env(database_url, REDIS_URL, jwt_secret),
            "REDIS_KEY_PREFIX": f"cvmesh:{uuid.uuid4().hex[:12]}:",
            "CORS_ORIGINS": lab.origin,
            "STUN_URLS": turn.stun_url,
            "TURN_URL": turn.turn_url,
            "TURN_SECRET": turn_secret,
        }
        a, b = ApiInstance(env), ApiInstance(env)
        stack.callback(b.stop)
        stack.callback(a.stop)
        start_all([a, b])
        ingress_a = Ingress(namespace, [a.port, b.port])
        stack.callback(ingress_a.close)
        ingress_b = Ingress(namespace, [b.port, a.port])
        stack.callback(ingress_b.close)
        api = Api(a.url)
        stack.callback(api.close)
        deployment = MeshDeployment(a, b, ingress_a, ingress_b, api, lab, turn, jwt_secret)
        stack.callback(deployment.close_pages)
        yield deployment


def full_mesh(pages: list[Participant], timeout: float = MESH_TIMEOUT) -> list[list[dict[str, Any]]]:
    """Wait until every page has a connected link to every other page with decoded video on it; the
    links of each page."""
    expected = len(pages) - 1

    def every_link() -> list[list[dict[str, Any]]] | None:
        links = [page.links() for page in pages]
        ready = all(
            len(own) == expected
            and all(link["connectionState"] == "connected" and link["framesDecoded"] > 0 for link in own)
            for own in links
        )
        return links if ready else None

    def seen() -> list[dict[str, Any]]:
        return [
            {
                "links": [
                    (link["userId"][:8], link["connectionState"], link["framesDecoded"]) for link in page.links()
                ],
                "iceErrors": page.lab("lab => lab.iceErrors.map(e => `${e.errorCode} ${e.errorText}`)"),
            }
            for page in pages
        ]

    return wait_until(
        every_link,
        f"a full mesh of {len(pages)} with video on every link",
        timeout,
        describe=seen,
        interval=POLL_SECONDS,
    )
