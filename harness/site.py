"""The users' site on this machine, for a browser that may only use loopback: the real frontend build served by
``next start``, the API as the image runs it (PostgreSQL, Redis, TURN settings) and coturn, each reached from
inside a loopback-only network namespace through an :class:`~harness.netns.Ingress`, as users reach Vercel and
App Platform. A program that starts Chromium itself (``chatvista-ops smoke --browser --chromium``) is given
:meth:`Site.chromium`, a script that runs Chromium inside the namespace with the site's names mapped.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from harness import chromium, coturn
from harness.deployment import REDIS_URL, ApiInstance, migrated_database
from harness.frontend import NextServer, production_api
from harness.netns import Ingress, Namespace


@dataclass
class Site:
    namespace: Namespace
    turn: coturn.Coturn
    database_url: str
    frontend: NextServer
    frontend_ingress: Ingress
    jwt_secret: str
    api_env: dict[str, str]
    api: ApiInstance = field(init=False)
    api_ingress: Ingress = field(init=False)
    stack: ExitStack = field(default_factory=ExitStack)

    @property
    def frontend_url(self) -> str:
        """The frontend's origin, as the browser in the namespace reaches it (and CORS must admit)."""
        return self.frontend_ingress.url

    def start_api(self, **env: str) -> ApiInstance:
        """Another API instance on the same database and Redis, with ``env`` over the site's; stopped with the
        site."""
        api = production_api(
            self.database_url,
            REDIS_URL,
            cors_origins=[self.frontend_url],
            jwt_secret=env.pop("JWT_SECRET", self.jwt_secret),
            extra_env={**self.api_env, **env},
        )
        self.stack.callback(api.stop)
        api.start()
        api.wait_ready()
        return api

    def ingress(self, port: int, *, refuse_websockets: bool = False) -> Ingress:
        """An address inside the namespace forwarding to ``port`` on this machine; closed with the site."""
        ingress = Ingress(self.namespace, [port], refuse_websockets=refuse_websockets)
        self.stack.callback(ingress.close)
        return ingress

    def chromium(self, script: Path, hosts: Mapping[str, int]) -> Path:
        """An executable that runs Chromium inside the namespace, where each of ``hosts`` (a name -> a port
        inside the namespace) resolves to 127.0.0.1 on that port, and every other name fails."""
        rules = chromium.resolver_rules({name: f"127.0.0.1:{port}" for name, port in hosts.items()})
        # Loopback is all there is in the namespace: without this Chromium gathers no ICE candidate.
        return chromium.in_namespace(self.namespace, script, ["--allow-loopback-in-peer-connection", rules])


@contextmanager
def site(
    app_dir: Path,
    *,
    jwt_secret: str,
    turn_secret: str,
    turn_previous: Sequence[str] = (),
    api_env: Mapping[str, str] | None = None,
) -> Iterator[Site]:
    """The frontend built in ``app_dir`` and the API (``api_env`` over the production settings) with coturn
    (accepting ``turn_previous`` too, as during a rotation's overlap), started; all stopped afterwards."""
    with ExitStack() as stack:
        namespace = Namespace([f"{coturn.RELAY_ADDRESS}/32"])
        stack.callback(namespace.close)
        turn = coturn.Coturn(namespace, turn_secret, previous=turn_previous)
        stack.callback(turn.stop)
        turn.start()
        database_url = stack.enter_context(migrated_database())
        frontend = NextServer(app_dir)
        stack.callback(frontend.close)
        frontend.start()
        frontend_ingress = Ingress(namespace, [frontend.port])
        stack.callback(frontend_ingress.close)
        env = {"STUN_URLS": turn.stun_url, "TURN_URL": turn.turn_url, "TURN_SECRET": turn_secret, **(api_env or {})}
        built = Site(namespace, turn, database_url, frontend, frontend_ingress, jwt_secret, env)
        stack.enter_context(built.stack)
        built.api = built.start_api()
        built.api_ingress = built.ingress(built.api.port)
        yield built
