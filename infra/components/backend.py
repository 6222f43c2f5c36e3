"""The API on App Platform: one service built from the repo's app/Dockerfile, a PRE_DEPLOY migration
job, alerts, an optional custom domain and ingress. The spec itself comes from :mod:`infra.appspec`."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_digitalocean as digitalocean
import pulumi_random as random

from infra.appspec import AppSecrets, build_app_spec, to_pulumi_spec
from infra.components.turn import Turn
from infra.config import StackConfig
from infra.urls import websocket_url

JWT_SECRET_LENGTH = 64


@dataclass(frozen=True)
class BackendArgs:
    config: StackConfig
    database_url: pulumi.Input[str]
    migration_database_url: pulumi.Input[str]
    redis_url: pulumi.Input[str] | None
    turn: Turn | None = None


class Backend(pulumi.ComponentResource):
    """``url`` is the App's live URL (its primary domain once one is set), ``ws_url`` the same host over
    ``wss://``."""

    def __init__(self, name: str, args: BackendArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("chatvista:index:Backend", name, None, opts)
        cfg = args.config
        child = pulumi.ResourceOptions(parent=self)
        if cfg.jwt_secret is not None:
            jwt_secret = cfg.jwt_secret.as_output()
        else:
            generated = random.RandomPassword(f"{name}-jwt-secret", length=JWT_SECRET_LENGTH, special=False, opts=child)
            jwt_secret = pulumi.Output.secret(generated.result)
        secrets = AppSecrets(
            database_url=args.database_url,
            migration_database_url=args.migration_database_url,
            redis_url=args.redis_url,
            jwt_secret=jwt_secret,
            turn_urls=args.turn.urls.apply(",".join) if args.turn else None,
            stun_urls=args.turn.stun_urls.apply(",".join) if args.turn else None,
            turn_secret=args.turn.secret if args.turn else None,
        )
        spec = to_pulumi_spec(build_app_spec(cfg, secrets), cfg.backend.alert_emails)
        self.app = digitalocean.App(f"{name}-app", spec=spec, opts=child)
        self.app_id = self.app.id
        self.url = self.app.live_url.apply(lambda url: url.rstrip("/"))
        self.ws_url = self.url.apply(websocket_url)
        self.register_outputs({"appId": self.app_id, "url": self.url, "wsUrl": self.ws_url})
