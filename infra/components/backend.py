"""The API on App Platform: one service built from the repo's app/Dockerfile, a PRE_DEPLOY migration
job, alerts, an optional custom domain and ingress. The spec itself comes from :mod:`infra.appspec`; its
SECRET envs are declared through :mod:`infra.secret_ciphertexts`, so that an unchanged stack redeploys nothing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import pulumi
import pulumi_digitalocean as digitalocean
import pulumi_random as random

from infra import secret_ciphertexts
from infra.appspec import MIGRATE_JOB, SERVICE, AppSecrets, build_app_spec, to_pulumi_spec
from infra.components import child_options
from infra.components.alert_destinations import AlertDestinations, declared_alerts, normalised_emails
from infra.components.turn import Turn
from infra.config.schema import StackConfig
from infra.urls import websocket_url

JWT_SECRET_LENGTH = 64
READY_PATH = "/ready"
# DigitalOcean Uptime probes from these regions (its choices: us_east, us_west, eu_west, se_asia).
UPTIME_REGIONS = ("us_east", "eu_west")
DOWN_PERIOD = "2m"


@dataclass(frozen=True)
class BackendArgs:
    """``database_url``/``migration_database_url`` are None with a dev database, which the App binds itself."""

    config: StackConfig
    database_url: pulumi.Input[str] | None
    migration_database_url: pulumi.Input[str] | None
    redis_url: pulumi.Input[str] | None
    turn: Turn | None = None


def own_stack_name() -> str:
    """This stack's fully qualified name, for a StackReference to its own last outputs."""
    return f"{pulumi.get_organization()}/{pulumi.get_project()}/{pulumi.get_stack()}"


class Backend(pulumi.ComponentResource):
    """``url`` is the App's live URL (its primary domain once one is set), ``ws_url`` the same host over
    ``wss://``, ``sealed_envs`` the record of the App's encrypted SECRET envs (:mod:`infra.secret_ciphertexts`)."""

    def __init__(self, name: str, args: BackendArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("chatvista:index:Backend", name, None, opts)
        cfg = args.config
        child = child_options(self, opts)
        if cfg.jwt_secret is not None:
            jwt_secret = cfg.jwt_secret.as_output()
        else:
            generated = random.RandomPassword(f"{name}-jwt-secret", length=JWT_SECRET_LENGTH, special=False, opts=child)
            jwt_secret = pulumi.Output.secret(generated.result)
        # The stack's own last outputs: what App Platform returned for each SECRET env last time. Reading
        # the current stack is a plain backend read (pulumi/pulumi pkg/resource/deploy/builtins.go,
        # readStackReference -> GetStackOutputs); before the first deploy it has no outputs.
        previous = pulumi.StackReference(f"{name}-last-deploy", stack_name=own_stack_name(), opts=child)
        recorded = previous.get_output(secret_ciphertexts.OUTPUT)
        # The App a recorded ciphertext may be declared for: the one this program declares (its URN, known
        # before it registers) with the id the last run left. A record from another App is never declared.
        app_name = f"{name}-app"
        # Built from names, not from self.urn: an input depending on this component would wait for its children.
        own_urn = pulumi.create_urn(name, "chatvista:index:Backend", parent=opts.parent if opts else None)
        app_urn = pulumi.create_urn(app_name, "digitalocean:index/app:App", parent=own_urn)
        this_app = pulumi.Output.all(urn=app_urn, id=previous.get_output("appId")).apply(dict)
        plaintexts: dict[str, pulumi.Input[str]] = {secret_ciphertexts.slot(SERVICE, "JWT_SECRET"): jwt_secret}
        if args.database_url is not None:
            plaintexts[secret_ciphertexts.slot(SERVICE, "DATABASE_URL")] = args.database_url
        if args.migration_database_url is not None:
            plaintexts[secret_ciphertexts.slot(MIGRATE_JOB, "DATABASE_URL")] = args.migration_database_url
        if args.redis_url is not None:
            plaintexts[secret_ciphertexts.slot(SERVICE, "REDIS_URL")] = args.redis_url
        if args.turn:
            plaintexts[secret_ciphertexts.slot(SERVICE, "TURN_SECRET")] = args.turn.secret

        def declared(slot: str) -> pulumi.Output[str] | None:
            if slot not in plaintexts:
                return None
            component, key = slot.split("/")
            return pulumi.Output.secret(
                pulumi.Output.all(plaintexts[slot], recorded, this_app).apply(
                    lambda v: secret_ciphertexts.declared_value(component, key, v[0], v[1], v[2])
                )
            )

        secrets = AppSecrets(
            database_url=declared(secret_ciphertexts.slot(SERVICE, "DATABASE_URL")),
            migration_database_url=declared(secret_ciphertexts.slot(MIGRATE_JOB, "DATABASE_URL")),
            redis_url=declared(secret_ciphertexts.slot(SERVICE, "REDIS_URL")),
            jwt_secret=declared(secret_ciphertexts.slot(SERVICE, "JWT_SECRET")),
            turn_urls=args.turn.urls.apply(",".join) if args.turn else None,
            stun_urls=args.turn.stun_urls.apply(",".join) if args.turn else None,
            turn_secret=declared(secret_ciphertexts.slot(SERVICE, "TURN_SECRET")),
        )
        do_spec = build_app_spec(cfg, secrets)
        # The provider's AppSpecArgsDict, built as a plain dict (tests check it against DO's AppSpec schema).
        spec = to_pulumi_spec(do_spec)
        self.app = digitalocean.App(app_name, spec=cast("digitalocean.AppSpecArgsDict", spec), opts=child)
        if cfg.backend.alert_emails:
            AlertDestinations(
                f"{name}-alert-emails", self.app, declared_alerts(do_spec), cfg.backend.alert_emails, opts=child
            )
        self.app_id = self.app.id
        self.url = self.app.live_url.apply(lambda url: url.rstrip("/"))
        self.ws_url = self.url.apply(websocket_url)
        self.sealed_envs: pulumi.Output[dict[str, dict[str, str]]] = pulumi.Output.secret(
            pulumi.Output.all(
                self.app.spec, pulumi.Output.all(**plaintexts), pulumi.Output.all(urn=self.app.urn, id=self.app.id)
            ).apply(lambda v: secret_ciphertexts.record(v[0], v[1], v[2]))
        )
        if cfg.backend.probes_uptime:
            self._probe(name, cfg, child)
        self.register_outputs({"appId": self.app_id, "url": self.url, "wsUrl": self.ws_url})

    def _probe(self, name: str, cfg: StackConfig, child: pulumi.ResourceOptions) -> None:
        """Latency and error alerts from outside. App Platform's alert rules cannot give them here: its
        enum has REQUEST_DURATION_P95_MS but no 5xx rule (do-app-spec.schema.json, app_alert_spec_rule), and
        terraform-provider-digitalocean refuses any component rule but CPU_UTILIZATION, MEM_UTILIZATION and
        RESTART_COUNT (digitalocean/app/app_spec.go, appSpecComponentAlerts). An Uptime check of /ready
        (which answers 503 when PostgreSQL or Valkey is unreachable) measures the latency users see and
        alerts when the API answers errors or nothing, from every region at once (``down_global``, so one
        region's network trouble does not page anyone)."""
        uptime = cfg.backend.uptime
        check = digitalocean.UptimeCheck(
            f"{name}-uptime",
            name=f"{cfg.backend.name} /ready",
            target=pulumi.Output.concat(self.url, READY_PATH),
            type="https",
            regions=list(UPTIME_REGIONS),
            enabled=True,
            opts=child,
        )
        # Sorted: resource_uptime_alert.go's read (flattenNotifications/FlattenEmail) keeps the API's order in a
        # list, and which order the API keeps is not in any source; sorted, the declaration matches either way.
        notify = [digitalocean.UptimeAlertNotificationArgs(emails=normalised_emails(cfg.backend.alert_emails))]
        digitalocean.UptimeAlert(
            f"{name}-latency-alert",
            check_id=check.id,
            name=f"{cfg.backend.name}: /ready slower than {uptime.latency_ms} ms",
            type="latency",
            threshold=uptime.latency_ms,
            comparison="greater_than",
            period=uptime.period,
            notifications=notify,
            opts=child,
        )
        digitalocean.UptimeAlert(
            f"{name}-down-alert",
            check_id=check.id,
            name=f"{cfg.backend.name}: /ready failing",
            type="down_global",
            period=DOWN_PERIOD,
            notifications=notify,
            opts=child,
        )
