"""The Next.js frontend on Vercel, in two steps.

1. ``Frontend(...)``: the project and its production domains: ``<projectName>.vercel.app`` and each custom
   domain. The ``.vercel.app`` name is global across Vercel, so it is declared rather than assumed: a name
   another account holds fails here (Vercel answers 409 to ``POST /v10/projects/{id}/domains``), and the
   program makes everything on DigitalOcean wait for it, so a taken name stops the deploy before anything
   billable exists. Vercel's own provider tests add ``<project name>.vercel.app`` to a project they have just
   created (vercel/terraform-provider-vercel ``vercel/resource_project_domain_test.go``).
2. ``deploy(backend_url, ws_url)``: the seven public env vars, the ``/api/v1/*`` rewrite as a managed project
   route, and a production deployment of the git repository built with those values.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumiverse_vercel as vercel

from infra.config.schema import FrontendSettings

ENV_TARGETS = ["production", "preview"]
API_PREFIX = "/api/v1"
# Deployment metadata (Vercel's `meta`): what the deployment was built with.
BUILD_META = "chatvistaBuild"
API_URL_META = "chatvistaApiUrl"


@dataclass(frozen=True)
class FrontendArgs:
    settings: FrontendSettings
    app_url: str


def public_env(settings: FrontendSettings, *, api_url, ws_url, app_url: str) -> dict[str, pulumi.Input[str]]:
    """The seed's seven NEXT_PUBLIC_* variables, in the order the seed lists them.

    ``api_url`` is the backend's bare origin (no path, no trailing slash). The seed's table says
    "backend URL + /api/v1", but the frontend appends ``/api/v1`` itself (``src/lib/api.ts``:
    ``${NEXT_PUBLIC_API_URL}/api/v1``) and hands the same value to socket.io-client
    (``src/contexts/SocketContext.tsx``), which would read a path as a namespace. ``NEXT_PUBLIC_WS_URL``
    stays because the seed lists it; this frontend does not read it."""
    features = settings.features
    return {
        "NEXT_PUBLIC_API_URL": api_url,
        "NEXT_PUBLIC_WS_URL": ws_url,
        "NEXT_PUBLIC_APP_URL": app_url,
        "NEXT_PUBLIC_APP_NAME": settings.app_name,
        "NEXT_PUBLIC_STORAGE_MODE": features.storage_mode,
        "NEXT_PUBLIC_ENABLE_PWA": "true" if features.pwa else "false",
        "NEXT_PUBLIC_ENABLE_LOCAL_RECORDINGS": "true" if features.local_recordings else "false",
    }


def production_domains(settings: FrontendSettings) -> list[str]:
    """``<projectName>.vercel.app``, then the custom domains, each once."""
    return list(dict.fromkeys([f"{settings.project_name}.vercel.app", *settings.domains]))


def build_fingerprint(public: Mapping[str, str], settings: FrontendSettings) -> str:
    """What a production build depends on: the inlined public values and the project's build settings."""
    inputs = {
        "env": dict(sorted(public.items())),
        "build": {
            "framework": settings.framework,
            "rootDirectory": settings.root_directory,
            "buildCommand": settings.build_command,
            "installCommand": settings.install_command,
            "nodeVersion": settings.node_version,
            "ref": settings.production_branch,
        },
    }
    return "sha256:" + hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


def serving_url(assigned: Sequence[str], settings: FrontendSettings) -> str:
    """The production URL: the first custom domain Vercel assigned to the deployment, else the project's
    ``.vercel.app`` name (a custom domain is only assigned once its DNS is verified)."""
    for domain in [*settings.domains, f"{settings.project_name}.vercel.app"]:
        if domain in assigned:
            return f"https://{domain}"
    return f"https://{settings.project_name}.vercel.app"


class Frontend(pulumi.ComponentResource):
    """``production_domains`` (the ``.vercel.app`` one first) exist after construction; ``deploy`` adds the
    rest and sets ``url``, the production URL of the live deployment."""

    def __init__(self, name: str, args: FrontendArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("chatvista:index:Frontend", name, None, opts)
        self._name = name
        self._args = args
        s = args.settings
        self._child = pulumi.ResourceOptions(parent=self)
        self.project = vercel.Project(
            f"{name}-project",
            name=s.project_name,
            framework=s.framework,
            root_directory=s.root_directory,
            build_command=s.build_command,
            install_command=s.install_command,
            node_version=s.node_version,
            git_repository=vercel.ProjectGitRepositoryArgs(
                type="github", repo=s.repo, production_branch=s.production_branch
            ),
            team_id=s.team_id,
            # Preview URLs under a domain the team owns rather than vercel.app, where any account can
            # deploy: the API's CORS admits them by that suffix alone (docs/security.md). The
            # project's suffix takes precedence over the team's (Vercel's project settings).
            preview_deployment_suffix=s.preview_domain_suffix,
            opts=self._child,
        )
        self.project_id = self.project.id
        self.team_id = self.project.team_id
        self.production_domains = [
            vercel.ProjectDomain(
                f"{name}-domain-{domain.replace('.', '-')}",
                project_id=self.project.id,
                team_id=s.team_id,
                domain=domain,
                opts=self._child,
            )
            for domain in production_domains(s)
        ]
        self.vercel_app_domain = self.production_domains[0]

    def deploy(self, backend_url: pulumi.Input[str], ws_url: pulumi.Input[str]) -> None:
        """Env vars, the API route, then a production deployment that Vercel builds with them."""
        name, s, child = self._name, self._args.settings, self._child
        public = public_env(s, api_url=backend_url, ws_url=ws_url, app_url=self._args.app_url)
        self.env_vars = {
            key: vercel.ProjectEnvironmentVariable(
                f"{name}-env-{key.removeprefix('NEXT_PUBLIC_').lower().replace('_', '-')}",
                project_id=self.project.id,
                team_id=s.team_id,
                key=key,
                value=value,
                targets=ENV_TARGETS,
                # What the team enforces (config frontend.sensitiveEnvVars): the read sets `sensitive` from the
                # stored type and a difference replaces the variable on every run (docs/deploy.md).
                sensitive=s.sensitive_env_vars,
                opts=child,
            )
            for key, value in public.items()
        }
        self.api_route = vercel.ProjectRoute(
            f"{name}-api-rewrite",
            project_id=self.project.id,
            team_id=s.team_id,
            name="api-to-backend",
            description="Rewrite /api/v1/* to the ChatVista API on App Platform",
            enabled=True,
            position=vercel.ProjectRoutePositionArgs(placement="start"),
            # Stated, not inferred: `:path*` is path-to-regexp (one of equals, path-to-regexp, regex in
            # vercel/terraform-provider-vercel vercel/resource_project_route.go).
            src_syntax="path-to-regexp",
            route=vercel.ProjectRouteRouteArgs(
                src=f"{API_PREFIX}/:path*",
                dest=pulumi.Output.concat(backend_url, API_PREFIX, "/:path*"),
            ),
            opts=child,
        )
        # NEXT_PUBLIC_* values are inlined at build time, so changing a project env var changes nothing live
        # until Vercel builds again. vercel.Deployment (vercel/terraform-provider-vercel
        # vercel/resource_deployment.go) is that build, from the git repository: `ref` deploys the branch of
        # the project's linked repository, `production` assigns the production domains, and Create polls
        # until the aliases are assigned and fails on a build error (client/deployment.go,
        # CreateDeployment/CheckForError), so `pulumi up` ends with the frontend live or an error. Every
        # input of the resource forces a replacement (Update only stores delete_on_destroy); `meta` does so
        # whenever it is set (RequiresReplaceIfConfigured), so the build fingerprint in it makes a new
        # production deployment exactly when a public value or a build setting changes, and none otherwise.
        # A deploy hook would only be a URL to POST: nothing waits for its build or reports its failure.
        # Old deployments are kept (delete_on_destroy unset), so Vercel's instant rollback still works.
        fingerprint = pulumi.Output.all(**public).apply(lambda values: build_fingerprint(values, s))
        self.deployment = vercel.Deployment(
            f"{name}-production",
            project_id=self.project.id,
            team_id=s.team_id,
            ref=s.production_branch,
            production=True,
            meta={BUILD_META: fingerprint, API_URL_META: backend_url},
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[*self.env_vars.values(), self.api_route, *self.production_domains]
            ),
        )
        # `domains` are the aliases the deployment got when it was created (the provider's Read keeps them).
        self.url = self.deployment.domains.apply(lambda assigned: serving_url(assigned or [], s))
        self.register_outputs({"projectId": self.project_id, "url": self.url})
